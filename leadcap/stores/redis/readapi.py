"""The read API's Redis: each key's sliding-window rate limit, counted by the intake's own script
(intake.lua in its `count` mode, which touches only the window's sorted set), so the API and the
intake limit by one piece of arithmetic (leadcap/intake/ratelimit.py reads its answer)."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from leadcap.stores.redis.connection import lua, translated

_INTAKE_LUA = lua("intake.lua")


class ReadApiRedis:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._sha = hashlib.sha1(_INTAKE_LUA.encode(), usedforsecurity=False).hexdigest()

    async def hit(self, bucket: str, limit: int, window_ms: int, member: str) -> tuple[bool, int, int | None]:
        """Count one request as `member` in the window `bucket` unless it is full, in one round
        trip; (allowed, requests in the window, age of the oldest in ms or None)."""
        # count mode reads only its one window (KEYS[3]); the dedupe key and the stream are named
        # for the script's signature and never touched.
        script_keys = [bucket, bucket, bucket]
        args = [member, "count", "0", "", str(limit), str(window_ms)]
        async with translated("api rate limit"):
            try:
                result = await self._client.evalsha(self._sha, 3, *script_keys, *args)
            except NoScriptError:  # a new or restarted Redis: load the script, once
                self._sha = await self._client.script_load(_INTAKE_LUA)
                result = await self._client.evalsha(self._sha, 3, *script_keys, *args)
        allowed, count, age = result[:3]
        return bool(int(allowed)), int(count), None if int(age) < 0 else int(age)
