"""/admin/ sessions and sign-in throttling, in Redis (both may expire; nothing to keep).

A session is a random token in an HttpOnly cookie; Redis keeps only its SHA-256 (a copy of the
Redis data cannot be replayed as a cookie) with the user, the session's CSRF token, its start and
a fingerprint of the password hash it was opened with. Each request pushes the idle expiry
forward; a session also ends 12 hours after sign-in, and as soon as its user has another password
(`admin add-user` of an existing name), since the fingerprint no longer matches.

Throttling: every attempt is counted before its password is checked, in one atomic step
(admin_signin.lua), so parallel guesses cannot all pass a limit none of them has been counted in
yet; a right password gives its attempt back. MAX_FAILURES attempts in WINDOW_S per user name
from one address bucket, or from one bucket for any names, and MAX_NAME_FAILURES for one name
from all addresses together: past any of them sign-in answers 429 without checking the password
(a guesser learns nothing more, and argon2id costs no CPU). The per-name ceiling is much higher
than the pair's, so a guesser at one address cannot lock the operator out from another; it bounds
a guesser who spreads over many addresses. At most MAX_CHECKING passwords are checked at once
per name and per bucket; past that an attempt answers 429 for a second (and, from one bucket,
counts as that bucket's failure: a person signs in once at a time).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import orjson

from leadcap import keys
from leadcap.errors import RateLimited
from leadcap.stores.redis import Redis

MAX_FAILURES = 5  # per (name, address bucket), and per bucket for any names
MAX_NAME_FAILURES = 100  # per name from every address together (docs/campaign.md says why 100)
WINDOW_S = 15 * 60
MAX_CHECKING = 2  # passwords checked at once per name and per bucket
CHECKING_S = 30  # an attempt whose process died stops counting as being checked after this
MAX_AGE_S = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    csrf: str
    started: float
    password: str  # the fingerprint of the password hash the session was opened with


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in attempt counted before its password is checked (see begin/finish)."""

    member: str
    failures: tuple[str, str, str]  # (name, bucket), bucket, name
    checking: tuple[str, str]  # name, bucket


def _key(token: str) -> str:
    return keys.ADMIN_SESSION + hashlib.sha256(token.encode()).hexdigest()


def _name_hash(name: str) -> str:
    # The user name is hashed: a key listing must not show what guessers typed.
    return hashlib.sha256(name.lower().encode()).hexdigest()[:32]


def _attempt(name: str, bucket: str) -> Attempt:
    user = _name_hash(name)
    return Attempt(
        secrets.token_hex(8),
        (
            f"{keys.ADMIN_FAILURES}pair:{user}:{bucket}",
            f"{keys.ADMIN_FAILURES}ip:{bucket}",
            f"{keys.ADMIN_FAILURES}user:{user}",
        ),
        (f"{keys.ADMIN_CHECKING}user:{user}", f"{keys.ADMIN_CHECKING}ip:{bucket}"),
    )


async def start(redis: Redis, user: str, password: str, *, idle_s: int) -> tuple[str, Session]:
    """A new session for `user`, opened with the password whose hash has the fingerprint
    `password` (admin_users.authenticate); returns the cookie's token and the session."""
    token = secrets.token_urlsafe(32)
    session = Session(user, secrets.token_urlsafe(32), time.time(), password)
    await redis.campaign.save_session(
        _key(token),
        orjson.dumps({"user": user, "csrf": session.csrf, "started": session.started, "pw": password}),
        idle_s,
    )
    return token, session


async def resume(redis: Redis, token: str, *, idle_s: int) -> Session | None:
    """The session behind a cookie's token, its idle expiry pushed forward; None if it ended."""
    if not token or len(token) > 128:
        return None
    key = _key(token)
    raw = await redis.campaign.load_session(key)
    if raw is None:
        return None
    data = orjson.loads(raw)
    if time.time() - float(data["started"]) > MAX_AGE_S or not data.get("pw"):
        await redis.campaign.drop_session(key)  # too old, or from before sessions knew their password
        return None
    await redis.campaign.extend_session(key, idle_s)
    return Session(str(data["user"]), str(data["csrf"]), float(data["started"]), str(data["pw"]))


async def end(redis: Redis, token: str) -> None:
    await redis.campaign.drop_session(_key(token))


async def begin(redis: Redis, name: str, bucket: str) -> Attempt:
    """Count a sign-in attempt for `name` from `bucket` before its password is checked;
    RateLimited (nothing checked) when a limit is reached. Call finish() once it is checked."""
    attempt = _attempt(name, bucket)
    counted, wait = await redis.campaign.begin_sign_in(
        (*attempt.failures, *attempt.checking),
        (time.time(), WINDOW_S, attempt.member, MAX_FAILURES, MAX_NAME_FAILURES, MAX_CHECKING, CHECKING_S),
    )
    if not counted:
        raise RateLimited(f"Too many attempts. Please try again in {wait} seconds.", retry_after=wait)
    return attempt


async def finish(redis: Redis, attempt: Attempt, *, succeeded: bool) -> None:
    """The attempt's password was checked. A wrong one stays counted; a right one gives its
    attempt back and clears the failures of its (name, bucket) pair (not the bucket's, which may
    be shared, nor the name's, which other addresses' guesses share)."""
    await redis.campaign.end_sign_in(
        attempt.member,
        attempt.checking,
        attempt.failures if succeeded else (),
        attempt.failures[:1] if succeeded else (),
    )
