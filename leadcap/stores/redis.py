"""Redis: one client, the intake script, heartbeats. Driver errors become StoreError."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from leadcap.errors import StoreError

_INTAKE_LUA = files("leadcap").joinpath("intake.lua").read_text(encoding="utf-8")


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    """Run a block, turning any driver failure into StoreError('redis', …)."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        raise StoreError("redis", f"{action} failed: {type(exc).__name__}: {exc}") from exc


class Redis:
    """A pooled client with short timeouts: the request path must never hang on Redis."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._intake = client.register_script(_INTAKE_LUA)

    @classmethod
    def open(cls, url: str, *, timeout: float = 1.0, max_connections: int = 64) -> Redis:
        # A blocking pool waits briefly for a free connection under a burst instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        return cls(aioredis.Redis(connection_pool=pool))

    async def close(self) -> None:
        await self.client.aclose()

    async def ping(self) -> float:
        async with translated("ping"):
            started = time.perf_counter()
            await self.client.ping()
            return (time.perf_counter() - started) * 1000

    async def intake(self, keys: list[str], args: list[Any]) -> list[Any]:
        """Run intake.lua: rate limit, then (optionally) dedupe and enqueue, in one round trip."""
        async with translated("intake"):
            result = await self._intake(keys=keys, args=args)
        return list(result)
