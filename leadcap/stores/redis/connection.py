"""Redis's connection core: the pool, the connection class, error translation and pub/sub, and
the same pool behind a Sentinel (a `redis+sentinel://` URL, leadcap/sentinel.py).

Every slice of leadcap.stores.redis (one per feature) runs its commands on the client made here;
driver errors become StoreError('redis', …) through `translated`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from leadcap import sentinel
from leadcap.errors import StoreError


def lua(name: str) -> str:
    """The text of a Lua script kept beside the slice that runs it (leadcap/stores/redis/<name>)."""
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def connect(url: str, *, timeout: float, max_connections: int) -> aioredis.Redis:
    """A client over a WaitingPool: under a burst a command waits up to `timeout` for a free
    connection instead of failing, and every read has the same timeout (socket_timeout). With
    hiredis installed (the redis[hiredis] dependency) redis-py parses replies in C. A
    `redis+sentinel://` URL gets the same pool, asking the sentinels where the primary is."""
    if sentinel.is_sentinel(url):
        return aioredis.Redis(
            connection_pool=sentinel_pool(
                url, timeout=timeout, max_connections=max_connections, socket_timeout=timeout
            )
        )
    pool = WaitingPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        connection_class=DirectWriteConnection,  # rediss:// and unix:// keep redis-py's own
    )
    return aioredis.Redis(connection_pool=pool)


def sentinel_pool(
    url: str, *, timeout: float, max_connections: int, socket_timeout: float | None
) -> WaitingSentinelPool:
    """A WaitingPool whose connections go to the primary the sentinels of a `redis+sentinel://`
    URL name. Each new connection asks them (redis-py's SentinelConnectionPool); a connection
    to a primary that died or became a replica fails once, and the next one finds the new
    primary. `socket_timeout` bounds every read (None: a blocking read may wait for ever)."""
    target = sentinel.parse(url)
    manager = Sentinel(
        target.sentinels,
        sentinel_kwargs={
            "username": target.sentinel_username,
            "password": target.sentinel_password,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
        },
    )
    return WaitingSentinelPool(
        service_name=target.master,
        sentinel_manager=manager,
        timeout=timeout,
        max_connections=max_connections,
        db=target.db,
        username=target.username,
        password=target.password,
        socket_timeout=socket_timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        connection_class=SentinelDirectWriteConnection,
    )


async def close_sentinels(pool: aioredis.ConnectionPool) -> None:
    """Close a Sentinel pool's connections, and those to its sentinels (any other: nothing)."""
    if isinstance(pool, SentinelConnectionPool):
        await pool.disconnect()
        await pool.sentinel_manager.aclose()


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    """Run a block, turning any driver failure into StoreError('redis', …)."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        raise StoreError("redis", f"{action} failed: {type(exc).__name__}: {exc}") from exc


class DirectWriteConnection(aioredis.Connection):
    """A connection that writes a command without a task of its own when the socket takes it.

    redis-py bounds every write with `asyncio.wait_for(…, socket_timeout)`, which wraps the write
    in a new Task and costs an extra turn of the event loop per command (~4% of a POST's CPU in
    the web profile). A command of a few hundred bytes nearly always fits in the socket's buffer
    at once, and then there is nothing to wait for. Only when the transport kept some back (Redis
    not reading) is the drain awaited, under the same timeout and with the same errors as
    redis-py's. Health checks, reconnects and closing transports take redis-py's own path.
    """

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        writer = self._writer
        if (
            writer is None
            or writer.transport.is_closing()
            or (
                check_health
                and self.health_check_interval
                and asyncio.get_running_loop().time() > self.next_health_check
            )
        ):
            await super().send_packed_command(command, check_health)
            return
        if isinstance(command, str):
            command = command.encode()
        try:
            if isinstance(command, bytes):
                writer.write(command)
            else:
                writer.writelines(command)
            if writer.transport.get_write_buffer_size():
                async with asyncio.timeout(self.socket_timeout):
                    await writer.drain()
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as exc:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {exc}") from exc
        except BaseException:  # a half-sent command must not be followed by another on this socket
            await self.disconnect(nowait=True)
            raise


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


class WaitingSentinelPool(WaitingPool, SentinelConnectionPool):
    """A WaitingPool (the waiting) that is a SentinelConnectionPool (where to connect)."""


class SentinelDirectWriteConnection(SentinelManagedConnection, DirectWriteConnection):
    """A connection to the primary the sentinels name, writing as DirectWriteConnection does."""

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        # A connection used again after it broke (the broker's held read and ack connections)
        # reconnects here. redis-py 8.2 reconnects it to its last address, the dead primary,
        # for ever; connect() asks the sentinels first.
        if not self.is_connected:
            await self.connect()  # type: ignore[no-untyped-call]
        await super().send_packed_command(command, check_health)


def text(value: bytes | str) -> str:
    """A reply's bytes as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


class Subscription:
    """A pub/sub connection whose failures are StoreError, like every other call here."""

    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    async def subscribe(self, channel: str) -> None:
        async with translated("subscribing"):
            await self._pubsub.subscribe(channel)

    async def message(self, timeout: float) -> dict[str, Any] | None:
        """The next message (subscription confirmations included), or None after `timeout` s."""
        async with translated("listening"):
            message: dict[str, Any] | None = await self._pubsub.get_message(timeout=timeout)
        return message

    async def close(self) -> None:
        # redis-py types aclose() in some releases (8.2 does), not in the one this ignore was
        # written for: either way mypy --strict passes.
        await self._pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]
