"""The people who may sign in to /admin/: names and argon2id password hashes in PostgreSQL.

A password is only ever held long enough to hash or check it; hashing runs in a thread, since
argon2id is deliberately slow (tens of milliseconds) and would otherwise stall the event loop.

A session remembers a fingerprint of the hash it was opened with (a SHA-256 of the hash, which has
its own random salt, so every new password, even the same one typed again, has a new one): a new
password ends every session opened with the old one.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from leadcap.errors import ConfigError
from leadcap.stores.postgres import Postgres

NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 "low memory" defaults
# Checked when the user name is unknown, so an unknown name costs as long as a wrong password.
_DUMMY = _hasher.hash("leadcap: no such user")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ConfigError("NAME", "must be 1-64 letters, digits or . _ @ -")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ConfigError("password", f"must be at least {MIN_PASSWORD} characters")
    return password


async def add(postgres: Postgres, name: str, password: str) -> bool:
    """Create the user, or set a new password for an existing one; True if it was created."""
    hashed = await asyncio.to_thread(_hasher.hash, check_password(password))
    return await postgres.campaign.save_admin_user(check_name(name), hashed)


async def remove(postgres: Postgres, name: str) -> bool:
    """Delete the user; True if there was one. Their sessions end at their next request."""
    return await postgres.campaign.remove_admin_user(name)


async def listing(postgres: Postgres) -> list[tuple[str, datetime]]:
    return await postgres.campaign.admin_users()


async def exists(postgres: Postgres, name: str | None = None) -> bool:
    """Whether any user (or the one named) exists."""
    return await postgres.campaign.admin_user_exists(name)


async def authenticate(postgres: Postgres, name: str, password: str) -> str | None:
    """The fingerprint of `name`'s password hash if `password` is theirs, else None. Takes as
    long for an unknown name as for a wrong password."""
    stored = await postgres.campaign.admin_password_hash(name)
    if await asyncio.to_thread(_verify, stored or _DUMMY, password) and stored is not None:
        return fingerprint(stored)
    return None


async def current_password(postgres: Postgres, name: str) -> str | None:
    """The fingerprint of `name`'s password hash now; None if there is no such user."""
    stored = await postgres.campaign.admin_password_hash(name)
    return None if stored is None else fingerprint(stored)


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def _verify(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
