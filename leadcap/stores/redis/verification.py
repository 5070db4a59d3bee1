"""Phone verification's Redis (leadcap/verification/verifier.py keeps the rules): held
verifications, codes kept as HMACs, resend cooldowns and the SMS budgets. Two scripts beside this
module: sms_budget.lua spends every budget or none, verify_take.lua takes one try of a code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT

from leadcap import keys
from leadcap.stores.redis.connection import lua, text, translated


class VerificationRedis:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._sms_budget = client.register_script(lua("sms_budget.lua"))
        self._verify_take = client.register_script(lua("verify_take.lua"))

    async def hold_verification(self, key: str, fields: Mapping[str, str], ttl_s: int) -> None:
        """Keep a pending verification's fields (a hash) for `ttl_s` seconds."""
        async with translated("storing a verification"):
            pipe = self._client.pipeline(transaction=False)
            mapping: dict[FieldT, EncodableT] = {}
            mapping.update(fields)
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, ttl_s)
            await pipe.execute()

    async def held_verification(self, key: str) -> dict[str, str]:
        """A pending verification's fields; empty when there is none."""
        async with translated("reading a verification"):
            raw = await self._client.hgetall(key)
        return {text(k): text(v) for k, v in raw.items()}

    async def start_cooldown(self, key: str, ttl_ms: int) -> int | None:
        """Set `key` for `ttl_ms` unless it is set; None if this call set it, else the ms it has left."""
        async with translated("resend cooldown"):
            if await self._client.set(key, "1", nx=True, px=ttl_ms):
                return None
            return int(await self._client.pttl(key))

    async def store_code(
        self, code_key: str, digest: str, ttl_ms: int, cooldown: tuple[str, int] | None
    ) -> None:
        """Replace a code's hash (its HMAC `digest`, no tries yet) for `ttl_ms`, and start the
        resend `cooldown` (key, ms) with it, in one transaction."""
        async with translated("storing a code"):
            pipe = self._client.pipeline(transaction=True)
            pipe.delete(code_key)
            pipe.hset(code_key, mapping={"h": digest, "tries": 0})
            pipe.pexpire(code_key, ttl_ms)
            if cooldown is not None:
                pipe.set(cooldown[0], "1", px=cooldown[1])
            await pipe.execute()

    async def spend_sms(self, budgets: Sequence[str], args: Sequence[Any]) -> tuple[bool, int]:
        """Run sms_budget.lua: take one send from every budget, or none; (ok, 1-based index of
        the spent budget)."""
        async with translated("sms budgets"):
            ok, which, _left = await self._sms_budget(keys=list(budgets), args=list(args))
        return bool(int(ok)), int(which)

    async def refund_sms(self, budgets: Sequence[str], member: str) -> None:
        async with translated("sms refund"):
            pipe = self._client.pipeline(transaction=False)
            for name in budgets:
                pipe.zrem(name, member)
            await pipe.execute()

    async def sms_sent_since(self, since_ms: int) -> int:
        """SMS the whole site sent since `since_ms` (the global budget's window, leadcap:sms:all:)."""
        async with translated("reading the sms budget"):
            return int(await self._client.zcount(keys.SMS_ALL, since_ms, "+inf"))

    async def take_code(
        self, code_key: str, hold_key: str, token_digest: str, max_tries: int
    ) -> tuple[str, str, int]:
        """Run verify_take.lua: one try of a code, for the holder of the lead's token only;
        (verdict, stored hash, tries so far)."""
        async with translated("checking a code"):
            taken = await self._verify_take(keys=[code_key, hold_key], args=[max_tries, token_digest])
        if len(taken) < 3:
            return text(taken[0]), "", 0
        return text(taken[0]), text(taken[1]), int(taken[2])

    async def kill_code(self, code_key: str) -> None:
        """Drop a code's hash and mark it dead (too many wrong tries), in one transaction."""
        async with translated("killing a code"):
            pipe = self._client.pipeline(transaction=True)
            pipe.hdel(code_key, "h")
            pipe.hset(code_key, "dead", "1")
            await pipe.execute()

    async def code_state(self, code_key: str, wait_key: str) -> tuple[int, bool, int]:
        """A code's ms to live, whether it is dead, and the resend cooldown's ms to live."""
        async with translated("reading a verification"):
            pipe = self._client.pipeline(transaction=False)
            pipe.pttl(code_key)
            pipe.hexists(code_key, "dead")
            pipe.pttl(wait_key)
            code_ms, dead, wait_ms = await pipe.execute()
        return int(code_ms), bool(dead), int(wait_ms)

    async def close_verification(self, hold_key: str, fields: Sequence[str], *names: str) -> None:
        """A verified lead: drop `fields` of its verification's hash (what it held for a resend)
        and the keys `names` (the used code, its cooldown), in one transaction."""
        async with translated("forgetting a verification"):
            pipe = self._client.pipeline(transaction=True)
            pipe.hdel(hold_key, *fields)
            pipe.delete(*names)
            await pipe.execute()

    async def forget(self, *names: str, action: str = "forgetting a code") -> None:
        """Delete keys (a used or unsent code, its cooldown, its verification)."""
        async with translated(action):
            await self._client.delete(*names)
