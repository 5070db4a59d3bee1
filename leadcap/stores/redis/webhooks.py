"""The webhooks' Redis: every worker's delivery attempts by outcome, for the metrics (the outbox
itself is PostgreSQL's: leadcap/stores/postgres/webhooks.py)."""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as aioredis

from leadcap import keys
from leadcap.stores.redis.connection import text, translated


class WebhookRedis:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def add_outcomes(self, counts: Mapping[str, int]) -> None:
        """Add this process's webhook attempts by outcome to the shared counters."""
        async with translated("counting webhook outcomes"):
            pipe = self._client.pipeline(transaction=False)
            for outcome, n in counts.items():
                pipe.hincrby(keys.WEBHOOK_OUTCOMES, outcome, n)
            await pipe.execute()

    async def outcomes(self) -> dict[str, int]:
        """Every process's webhook attempts by outcome, as counted so far."""
        async with translated("reading webhook outcomes"):
            counts = await self._client.hgetall(keys.WEBHOOK_OUTCOMES)
        return {text(k): int(v) for k, v in counts.items()}
