"""Redis: one client, the intake script, heartbeats. Driver errors become StoreError."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError, NoScriptError, RedisError

from leadcap.errors import StoreError

_INTAKE_LUA = files("leadcap").joinpath("intake.lua").read_text(encoding="utf-8")


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    """Run a block, turning any driver failure into StoreError('redis', …)."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        raise StoreError("redis", f"{action} failed: {type(exc).__name__}: {exc}") from exc


class WaitingPool(aioredis.ConnectionPool):
    """A connection pool that waits (up to `timeout` s) for a free connection when all
    `max_connections` are in use, like redis-py's BlockingConnectionPool, but pays for the
    waiting only then.

    BlockingConnectionPool takes an asyncio.Condition, starts an asyncio timeout and runs a
    wait_for predicate on every command, and notifies on every release: ~10% of a POST's CPU
    in the web profile. Here a command takes a free connection the plain ConnectionPool way,
    and only when there is none does it queue. A plain ConnectionPool alone is not enough:
    past `max_connections` concurrent commands (a burst, or Redis stalling for a moment) it
    fails them at once with "Too many connections", which the intake would take for Redis
    being down.

    Waiting is first come, first served: each release wakes the longest waiter and keeps a
    connection for it, and while anyone waits, newcomers queue behind.
    """

    def __init__(self, *, timeout: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._reserved = 0  # waiters woken by a release that have not taken their connection yet

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        if not self._waiters and not self._reserved:
            try:
                return await self._take()
            except MaxConnectionsError:
                pass
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except BaseException as exc:  # timed out, or the caller was cancelled
                if waiter.done() and not waiter.cancelled():
                    self._reserved -= 1  # a release woke us, but we will not take it: pass it on
                    self._wake_one()
                else:
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                if isinstance(exc, TimeoutError):
                    raise RedisConnectionError("No connection available.") from None
                raise
            self._reserved -= 1
            try:
                return await self._take()
            except MaxConnectionsError:  # not expected (the connection was kept for us): wait again
                continue

    async def _take(self) -> AbstractConnection:
        """A free connection the plain pool's way; MaxConnectionsError if there is none."""
        connection: AbstractConnection = await super().get_connection()  # type: ignore[no-untyped-call]
        return connection

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._reserved += 1
                return

    async def release(self, connection: AbstractConnection) -> None:
        await super().release(connection)
        if self._waiters:
            self._wake_one()


class Redis:
    """A pooled client with short timeouts: the request path must never hang on Redis."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._intake_sha = hashlib.sha1(_INTAKE_LUA.encode(), usedforsecurity=False).hexdigest()

    @classmethod
    def open(cls, url: str, *, timeout: float = 1.0, max_connections: int = 64) -> Redis:
        # Under a burst a command waits up to `timeout` for a free connection instead of failing;
        # every read has the same timeout (socket_timeout). With hiredis installed (the
        # redis[hiredis] dependency) redis-py parses replies in C.
        pool = WaitingPool.from_url(
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
        # EVALSHA directly: redis-py's Script wrapper checks isinstance against a Protocol-based
        # class on every call, 1-2% of a POST.
        async with translated("intake"):
            try:
                result = await self.client.evalsha(self._intake_sha, len(keys), *keys, *args)
            except NoScriptError:  # a new or restarted Redis: load the script, once
                self._intake_sha = await self.client.script_load(_INTAKE_LUA)
                result = await self.client.evalsha(self._intake_sha, len(keys), *keys, *args)
        return list(result)
