"""The intake's Redis: intake.lua (rate limit, then dedupe and enqueue, in one round trip) and the
dedupe keys it leaves (leadcap/intake/accept.py keeps the rules)."""

from __future__ import annotations

import hashlib
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from leadcap import keys
from leadcap.stores.redis.connection import lua, translated

_INTAKE_LUA = lua("intake.lua")
# Delete the dedupe key only while it still holds this submission's id: a later, accepted
# submission of the same phone keeps its own.
_FORGET_DEDUPE = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)


class IntakeRedis:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._intake_sha = hashlib.sha1(_INTAKE_LUA.encode(), usedforsecurity=False).hexdigest()

    async def run(self, script_keys: list[str], args: list[Any]) -> list[Any]:
        """Run intake.lua: rate limit, then (optionally) dedupe and enqueue, in one round trip."""
        # EVALSHA directly: redis-py's Script wrapper checks isinstance against a Protocol-based
        # class on every call, 1-2% of a POST.
        async with translated("intake"):
            try:
                result = await self._client.evalsha(self._intake_sha, len(script_keys), *script_keys, *args)
            except NoScriptError:  # a new or restarted Redis: load the script, once
                self._intake_sha = await self._client.script_load(_INTAKE_LUA)
                result = await self._client.evalsha(self._intake_sha, len(script_keys), *script_keys, *args)
        return list(result)

    async def forget_dedupe(self, phone: str, submission_id: str) -> None:
        """Clear the phone's dedupe key if it still names `submission_id` (a dead letter's)."""
        async with translated("clearing a dedupe key"):
            await self._client.eval(_FORGET_DEDUPE, 1, keys.dedupe(phone), submission_id)
