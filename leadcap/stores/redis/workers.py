"""The workers' Redis: heartbeats (leadcap/ops/health.py reads them), the lead stream's figures and
the counters every process adds to (processed, failed, dead letters: keys.STATS_*)."""

from __future__ import annotations

import redis.asyncio as aioredis

from leadcap import keys
from leadcap.stores.redis.connection import translated


class WorkerRedis:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def count(self, key: str, amount: int = 1) -> None:
        """Add `amount` to a shared counter (keys.STATS_*)."""
        async with translated("counting"):
            await self._client.incrby(key, amount)

    async def queue_depth(self) -> int:
        """The lead stream's length on this server alone."""
        async with translated("reading the queue depth"):
            return int(await self._client.xlen(keys.LEAD_STREAM))

    async def queue_figures(self) -> tuple[int, int, int, int]:
        """The lead stream's length and the processed, failed and dead-letter counters."""
        async with translated("reading queue figures"):
            pipe = self._client.pipeline(transaction=False)
            pipe.xlen(keys.LEAD_STREAM)
            pipe.get(keys.STATS_PROCESSED)
            pipe.get(keys.STATS_FAILED)
            pipe.get(keys.STATS_DEAD_LETTERS)
            depth, processed, failed, dead = await pipe.execute()
        return int(depth), int(processed or 0), int(failed or 0), int(dead or 0)

    async def oldest_entry_ms(self) -> int | None:
        """When the oldest entry still in the lead stream was added (ms), None when it is empty:
        nothing accepted before that can still be waiting to be written (entries leave the
        stream only once written)."""
        async with translated("reading the lead stream"):
            first = await self._client.xrange(keys.LEAD_STREAM, count=1)
        if not first:
            return None
        entry_id = first[0][0]
        entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        return int(entry.split("-", 1)[0])

    async def beat(self, name: str, now: float) -> None:
        """Record a worker's heartbeat at `now`, and forget workers silent for longer than the TTL."""
        async with translated("sending a heartbeat"):
            pipe = self._client.pipeline(transaction=True)
            pipe.zadd(keys.WORKERS, {name: now})
            pipe.zremrangebyscore(keys.WORKERS, "-inf", f"({now - keys.HEARTBEAT_TTL_S}")
            pipe.expire(keys.WORKERS, keys.WORKERS_IDLE_TTL_S)  # a retired deployment leaves nothing
            await pipe.execute()

    async def forget_beat(self, name: str) -> None:
        async with translated("withdrawing a heartbeat"):
            await self._client.zrem(keys.WORKERS, name)

    async def heartbeats(self, since: float) -> tuple[int, float | None]:
        """How many workers beat since `since`, and the time of the latest beat (None: none)."""
        async with translated("reading heartbeats"):
            pipe = self._client.pipeline(transaction=False)
            pipe.zcount(keys.WORKERS, since, "+inf")
            pipe.zrange(keys.WORKERS, -1, -1, withscores=True)
            count, latest = await pipe.execute()
        return int(count), float(latest[0][1]) if latest else None
