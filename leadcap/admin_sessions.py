"""/admin/ sessions and sign-in throttling, in Redis (both may expire; nothing to keep).

A session is a random token in an HttpOnly cookie; Redis keeps only its SHA-256 (a copy of the
Redis data cannot be replayed as a cookie) with the user, the session's CSRF token and its start.
Each request pushes the idle expiry forward; a session also ends 12 hours after sign-in.

Throttling: each failed sign-in is noted under the user name and under the client's address
bucket; with MAX_FAILURES or more in the last WINDOW_S under either, sign-in answers 429 without
checking the password (so a guesser learns nothing more, and argon2id costs no CPU).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import orjson

from leadcap import keys
from leadcap.stores.redis import Redis

MAX_FAILURES = 5
WINDOW_S = 15 * 60
MAX_AGE_S = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    csrf: str
    started: float


def _key(token: str) -> str:
    return keys.ADMIN_SESSION + hashlib.sha256(token.encode()).hexdigest()


def _failure_keys(name: str, bucket: str) -> tuple[str, str]:
    # The user name is hashed: a key listing must not show what guessers typed.
    return (
        keys.ADMIN_FAILURES + "user:" + hashlib.sha256(name.lower().encode()).hexdigest()[:32],
        keys.ADMIN_FAILURES + "ip:" + bucket,
    )


async def start(redis: Redis, user: str, *, idle_s: int) -> tuple[str, Session]:
    """A new session for `user`; returns the cookie's token and the session."""
    token = secrets.token_urlsafe(32)
    session = Session(user, secrets.token_urlsafe(32), time.time())
    await redis.save_session(
        _key(token),
        orjson.dumps({"user": user, "csrf": session.csrf, "started": session.started}),
        idle_s,
    )
    return token, session


async def resume(redis: Redis, token: str, *, idle_s: int) -> Session | None:
    """The session behind a cookie's token, its idle expiry pushed forward; None if it ended."""
    if not token or len(token) > 128:
        return None
    key = _key(token)
    raw = await redis.load_session(key)
    if raw is None:
        return None
    data = orjson.loads(raw)
    if time.time() - float(data["started"]) > MAX_AGE_S:
        await redis.drop_session(key)
        return None
    await redis.extend_session(key, idle_s)
    return Session(str(data["user"]), str(data["csrf"]), float(data["started"]))


async def end(redis: Redis, token: str) -> None:
    await redis.drop_session(_key(token))


async def throttled(redis: Redis, name: str, bucket: str) -> int:
    """Seconds until a sign-in may be tried again under `name` or from `bucket`; 0 if now."""
    now = time.time()
    wait = 0
    counted = await redis.recent_failures(_failure_keys(name, bucket), now - WINDOW_S, MAX_FAILURES)
    for count, oldest_kept in counted:
        if count >= MAX_FAILURES and oldest_kept is not None:
            wait = max(wait, int(oldest_kept + WINDOW_S - now) + 1)
    return wait


async def failed(redis: Redis, name: str, bucket: str) -> None:
    """Note a failed sign-in under the name and the address bucket."""
    await redis.note_failure(_failure_keys(name, bucket), secrets.token_hex(8), time.time(), WINDOW_S)


async def succeeded(redis: Redis, name: str) -> None:
    """A right password clears the name's failures (not the address's: it may be shared)."""
    await redis.clear_failures(_failure_keys(name, "")[0])
