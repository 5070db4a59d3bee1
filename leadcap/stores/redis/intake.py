"""The intake's Redis: intake.lua (rate limit, then dedupe and enqueue, in one round trip) and the
dedupe keys it leaves (leadcap/intake/accept.py keeps the rules)."""

from __future__ import annotations

import hashlib
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

from leadcap import keys
from leadcap.stores.redis.connection import lua, translated

_INTAKE_LUA = lua("intake.lua")
# Delete the dedupe key only while it still holds this submission's id: a later, accepted
# submission of the same phone keeps its own.
_FORGET_DEDUPE = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)
# Behind Sentinel, how long a POST waits for replicas to hold what it queued (WAIT) before the
# intake takes the direct path instead: well above a replica's lag on a LAN, and short enough
# that a POST with no replica answering still gets its 202 (from PostgreSQL) promptly.
WAIT_REPLICAS_MS = 250


class NotReplicated(RedisError):
    """Fewer replicas than wanted hold the intake's write: a failover now could lose it."""


class IntakeRedis:
    def __init__(self, client: aioredis.Redis, *, wait_replicas: int = 0) -> None:
        self._client = client
        self._intake_sha = hashlib.sha1(_INTAKE_LUA.encode(), usedforsecurity=False).hexdigest()
        self._wait_replicas = wait_replicas

    async def run(self, script_keys: list[str], args: list[Any]) -> list[Any]:
        """Run intake.lua: rate limit, then (optionally) dedupe and enqueue, in one round trip."""
        if self._wait_replicas:
            return await self._run_replicated(script_keys, args)
        # EVALSHA directly: redis-py's Script wrapper checks isinstance against a Protocol-based
        # class on every call, 1-2% of a POST.
        async with translated("intake"):
            try:
                result = await self._client.evalsha(self._intake_sha, len(script_keys), *script_keys, *args)
            except NoScriptError:  # a new or restarted Redis: load the script, once
                self._intake_sha = await self._client.script_load(_INTAKE_LUA)
                result = await self._client.evalsha(self._intake_sha, len(script_keys), *script_keys, *args)
        return list(result)

    async def _run_replicated(self, script_keys: list[str], args: list[Any]) -> list[Any]:
        """intake.lua and WAIT in one round trip (pipelined): answer only once `wait_replicas`
        replicas hold the write, else raise StoreError, so the intake takes the direct path
        (the same submission id: the worker's later write of the queued copy changes nothing)."""
        async with translated("intake"):
            for _ in range(2):
                pipe = self._client.pipeline(transaction=False)
                pipe.evalsha(self._intake_sha, len(script_keys), *script_keys, *args)
                pipe.execute_command("WAIT", self._wait_replicas, WAIT_REPLICAS_MS)
                result, acked = await pipe.execute(raise_on_error=False)
                if isinstance(result, NoScriptError):  # a new or restarted Redis: load the script
                    self._intake_sha = await self._client.script_load(_INTAKE_LUA)
                    continue
                for reply in (result, acked):
                    if isinstance(reply, Exception):
                        raise reply
                if int(acked) < self._wait_replicas:
                    raise NotReplicated(f"{acked} of {self._wait_replicas} replicas hold the write")
                return list(result)
            raise NoScriptError("intake.lua is not loaded")

    async def forget_dedupe(self, phone: str, campaign: str, submission_id: str) -> None:
        """Clear the dedupe key of `phone` to `campaign` if it still names `submission_id` (a
        dead letter's)."""
        async with translated("clearing a dedupe key"):
            await self._client.eval(_FORGET_DEDUPE, 1, keys.dedupe(phone, campaign), submission_id)
