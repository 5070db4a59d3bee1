"""API keys: made here, shown once, kept only as a keyed hash.

A key is `leadcap_` and 43 characters of `secrets.token_urlsafe(32)`: 256 random bits. What
PostgreSQL keeps is HMAC-SHA256 of the key under a fixed label (a fast keyed hash), looked up by
equality, so a check costs a microsecond and one indexed read. Argon2 (what /admin/ passwords
use) exists to make guessing a *low-entropy* secret slow; nobody guesses 256 random bits at any
speed, so argon2's ~50 ms and tens of MiB per check would buy nothing here, and it would cap the
API at a few requests a second per core and hand anyone who sends wrong keys a way to burn CPU.
The label keeps the digest from being any other system's hash of the same string; it is not a
secret, so no server key has to be kept (and lost) for the keys to go on working.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from leadcap.errors import Forbidden, Unauthorized, UsageError
from leadcap.stores.postgres import Postgres

PREFIX = "leadcap_"
SCOPES = ("leads:read",)  # what a key may be given; GET /api/v1/leads needs leads:read
READ_LEADS = "leads:read"
_LABEL = b"leadcap api key v1"
_KEY = re.compile(r"leadcap_[A-Za-z0-9_-]{43}")  # what new_key() makes, and nothing else
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")  # the CHECK on api_keys.name
HINT_CHARS = len(PREFIX) + 6


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A live key, as a request that presented it is known by."""

    id: int
    name: str
    scopes: tuple[str, ...]


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> bytes:
    """What PostgreSQL keeps of a key."""
    return hmac.new(_LABEL, key.encode(), hashlib.sha256).digest()


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UsageError("NAME", "must be 1-64 letters, digits, dots, dashes or underscores")
    return name


def check_scopes(scopes: list[str]) -> tuple[str, ...]:
    for scope in scopes:
        if scope not in SCOPES:
            raise UsageError("--scope", f"must be one of {', '.join(SCOPES)}, got {scope!r}")
    return tuple(dict.fromkeys(scopes))


async def add(postgres: Postgres, name: str, scopes: tuple[str, ...]) -> str:
    """Make a key called `name` with `scopes` and return it (the only time it exists in clear);
    UsageError when a live key already has that name."""
    key = new_key()
    if not await postgres.readapi.add_key(check_name(name), digest(key), key[:HINT_CHARS], scopes):
        raise UsageError("NAME", f"{name!r} is taken by a live key; revoke it first or pick another name")
    return key


async def listing(postgres: Postgres) -> list[dict[str, Any]]:
    """Every key (never its digest): name, hint, scopes, created, revoked, uses, last use."""
    return await postgres.readapi.keys()


async def revoke(postgres: Postgres, name: str) -> None:
    """Revoke the live key `name` at once (its next request is refused); UsageError if none."""
    if not await postgres.readapi.revoke_key(name):
        raise UsageError("NAME", f"no live key is called {name!r}")


def bearer(authorization: str | None) -> str:
    """The key an Authorization header carries; Unauthorized when it carries none that could be one."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    key = credentials.strip()
    if scheme.lower() != "bearer" or not _KEY.fullmatch(key):
        raise Unauthorized("Send a live API key as Authorization: Bearer <key>.")
    return key


async def authenticate(postgres: Postgres, authorization: str | None) -> ApiKey:
    """The live key a request presents; Unauthorized when it is missing, wrong or revoked."""
    found = await postgres.readapi.key_by_digest(digest(bearer(authorization)))
    if found is None or found["revoked_at"] is not None:
        raise Unauthorized("Send a live API key as Authorization: Bearer <key>.")
    return ApiKey(found["id"], found["name"], tuple(found["scopes"]))


def require(key: ApiKey, scope: str) -> None:
    if scope not in key.scopes:
        raise Forbidden(f"the key {key.name!r} lacks the {scope} scope")
