"""The landing page's Redis (leadcap/landing/cache.py keeps the rules): the shared copy of the
campaign document, its version, the announcement channel and the web processes' acknowledgements."""

from __future__ import annotations

import redis.asyncio as aioredis

from leadcap import keys
from leadcap.stores.redis.connection import translated


class LandingRedis:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def publish(self, body: bytes | None) -> int:
        """Store (or, without one, remove) the shared campaign document; return the bumped version."""
        async with translated("publishing the landing page"):
            pipe = self._client.pipeline(transaction=True)
            if body is None:
                pipe.delete(keys.LANDING_CAMPAIGN)
            else:
                pipe.set(keys.LANDING_CAMPAIGN, body)
            pipe.incr(keys.LANDING_VERSION)
            *_, version = await pipe.execute()
        return int(version)

    def channel(self) -> str:
        """The announcement channel of this Redis database: pub/sub ignores database numbers, and
        deployments sharing one Redis server must not hear (and wait for) each other."""
        return f"{keys.LANDING_CHANNEL}:{self._client.connection_pool.connection_kwargs.get('db', 0)}"

    async def announce(self, channel: str, message: str) -> int:
        """Publish `message`; return how many subscribers received it."""
        async with translated("announcing the landing version"):
            return int(await self._client.publish(channel, message))

    async def acks(self, version: int) -> int:
        async with translated("reading landing acknowledgements"):
            return int(await self._client.scard(keys.landing_ack(version)))

    async def acknowledge(self, version: int, process: str, ttl_s: int) -> None:
        async with translated("acknowledging the landing version"):
            pipe = self._client.pipeline(transaction=False)
            pipe.sadd(keys.landing_ack(version), process)
            pipe.expire(keys.landing_ack(version), ttl_s)
            await pipe.execute()

    async def snapshot(self) -> tuple[int, bytes | None]:
        """The landing version and the shared campaign document, read together."""
        async with translated("reading the landing page"):
            pipe = self._client.pipeline(transaction=True)
            pipe.get(keys.LANDING_VERSION)
            pipe.get(keys.LANDING_CAMPAIGN)
            version, body = await pipe.execute()
        return int(version or 0), body.encode() if isinstance(body, str) else body

    async def version(self) -> int:
        async with translated("reading the landing version"):
            value = await self._client.get(keys.LANDING_VERSION)
        return int(value or 0)
