"""The campaign view's Redis: /admin/ sessions and sign-in throttling (admin_signin.lua beside this
module counts an attempt before its password is checked), and unique visitors in HyperLogLogs.
leadcap/campaign/admin_sessions.py and visits.py keep the rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from leadcap.stores.redis.connection import lua, translated


class CampaignRedis:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._admin_signin = client.register_script(lua("admin_signin.lua"))

    async def save_session(self, key: str, data: bytes, ttl_s: int) -> None:
        """Store an /admin/ session's record under `key`, expiring after `ttl_s` idle seconds."""
        async with translated("starting an admin session"):
            await self._client.set(key, data, ex=ttl_s)

    async def load_session(self, key: str) -> bytes | None:
        async with translated("reading an admin session"):
            raw = await self._client.get(key)
        return raw.encode() if isinstance(raw, str) else raw

    async def extend_session(self, key: str, ttl_s: int) -> None:
        """Push a session's idle expiry `ttl_s` seconds forward."""
        async with translated("reading an admin session"):
            await self._client.expire(key, ttl_s)

    async def drop_session(self, key: str) -> None:
        async with translated("ending an admin session"):
            await self._client.delete(key)

    async def begin_sign_in(self, sign_in_keys: Sequence[str], args: Sequence[Any]) -> tuple[bool, int]:
        """Run admin_signin.lua: count a sign-in attempt before its password is checked, or
        refuse it; (counted, seconds to wait when refused)."""
        async with translated("counting a sign-in attempt"):
            counted, wait = await self._admin_signin(keys=list(sign_in_keys), args=list(args))
        return bool(int(counted)), int(wait)

    async def end_sign_in(
        self, member: str, checking: Sequence[str], give_back: Sequence[str], clear: Sequence[str]
    ) -> None:
        """An attempt's password was checked: drop `member` from the `checking` sets and from the
        `give_back` failure sets, and delete the `clear` keys, in one transaction."""
        async with translated("ending a sign-in attempt"):
            pipe = self._client.pipeline(transaction=True)
            for key in (*checking, *give_back):
                pipe.zrem(key, member)
            if clear:
                pipe.delete(*clear)
            await pipe.execute()

    async def add_visitors(
        self,
        into: Sequence[tuple[str, int, Sequence[bytes]]],
        *,
        names: Sequence[tuple[str, str, int]] = (),
    ) -> None:
        """PFADD each (HyperLogLog, TTL in s, members) of `into` and set its TTL; SADD each
        (set, member, TTL) of `names` and set its TTL; in one round trip."""
        async with translated("counting visits"):
            pipe = self._client.pipeline(transaction=False)
            for key, ttl_s, members in into:
                pipe.pfadd(key, *members)
                pipe.expire(key, ttl_s)
            for key, member, ttl_s in names:
                pipe.sadd(key, member)
                pipe.expire(key, ttl_s)
            await pipe.execute()

    async def members(self, key: str) -> list[str]:
        """The members of set `key`, sorted."""
        async with translated("reading visits"):
            found = await self._client.smembers(key)
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in found)

    async def visitor_counts(self, names: Sequence[str], union_of: Sequence[str]) -> tuple[list[int], int]:
        """PFCOUNT of each HyperLogLog of `names`, and of the union of `union_of` (0 if empty)."""
        async with translated("reading visits"):
            pipe = self._client.pipeline(transaction=False)
            for name in names:
                pipe.pfcount(name)
            pipe.pfcount(*union_of) if union_of else pipe.echo("0")
            counts = await pipe.execute()
        return [int(c) for c in counts[:-1]], int(counts[-1])

    async def union_counts(self, groups: Sequence[Sequence[str]]) -> list[int]:
        """PFCOUNT of the union of each group of HyperLogLogs (0 for an empty group), in one round trip."""
        async with translated("reading visits"):
            pipe = self._client.pipeline(transaction=False)
            for group in groups:
                pipe.pfcount(*group) if group else pipe.echo("0")
            counts = await pipe.execute()
        return [int(c) for c in counts]
