"""Erasure's Redis (leadcap/privacy/erasure.py keeps the rules and names the keys): what the
intake and verification keep of a number, read and removed in two round trips per batch."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from leadcap.stores.redis.connection import text, translated

# Delete a dedupe key only while it still names the submission the erase read from it: a
# submission accepted after the erase keeps its own (leadcap/stores/redis/intake.py does the same).
_FORGET_IF = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class PrivacyRedis:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def values(self, names: Sequence[str]) -> list[str | None]:
        """The string values of `names` (a dedupe key names a submission), None where absent."""
        if not names:
            return []
        async with translated("reading keys to erase"):
            raw = await self._client.mget(list(names))
        return [None if v is None else text(v) for v in raw]

    async def remove(
        self,
        *,
        if_unchanged: Sequence[tuple[str, str]],
        names: Sequence[str],
        windows: Sequence[str],
        up_to_ms: Sequence[int],
    ) -> int:
        """In one round trip: delete each (key, value) of `if_unchanged` still holding that value,
        delete `names`, and drop from each sorted set windows[i] (an SMS budget) the members scored
        up to up_to_ms[i]. Return how many keys and members went."""
        pipe = self._client.pipeline(transaction=False)
        for name, value in if_unchanged:
            pipe.eval(_FORGET_IF, 1, name, value)
        if names:
            pipe.delete(*names)
        for name, up_to in zip(windows, up_to_ms, strict=True):
            pipe.zremrangebyscore(name, "-inf", up_to)
        if not pipe:
            return 0
        async with translated("erasing keys"):
            return sum(int(n) for n in await pipe.execute())
