"""The Redis store's connection pool: non-blocking while a connection is free, a bounded
first-come-first-served wait when none is, and never a hang."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import MaxConnectionsError

from leadcap.errors import StoreError
from leadcap.stores.redis import Redis
from leadcap.stores.redis.connection import WaitingPool, translated
from tests.servers import Stores, on_db


@pytest.fixture
async def small() -> AsyncIterator[list[Redis]]:
    opened: list[Redis] = []
    yield opened
    for store in opened:
        await store.close()


def open_small(stores: Stores, opened: list[Redis], *, max_connections: int, timeout: float = 1.0) -> Redis:
    store = Redis.open(on_db(stores.redis, 6), max_connections=max_connections, timeout=timeout)
    opened.append(store)
    return store


def pool_of(store: Redis) -> WaitingPool:
    pool = store.client_for_tests().connection_pool
    assert isinstance(pool, WaitingPool)
    return pool


async def one_connection_held(
    stores: Stores, small: list[Redis], *, timeout: float = 1.0
) -> tuple[WaitingPool, AbstractConnection]:
    """A one-connection pool (of the store small[0]) with its connection taken: the next caller waits."""
    pool = pool_of(open_small(stores, small, max_connections=1, timeout=timeout))
    return pool, await pool.get_connection()


def settled(pool: WaitingPool) -> None:
    """Nothing waits, nothing is kept for a waiter, no connection is left checked out."""
    assert not pool._waiters
    assert pool._reserved == 0
    assert not pool._in_use_connections


async def test_more_commands_than_connections_all_succeed(stores: Stores, small: list[Redis]) -> None:
    store = open_small(stores, small, max_connections=2)
    replies = await asyncio.gather(*(store.client_for_tests().echo(f"n{i}") for i in range(200)))
    assert replies == [f"n{i}".encode() for i in range(200)]
    pool = pool_of(store)
    assert len(pool._available_connections) == 2
    settled(pool)


async def test_a_plain_pool_would_have_refused_them(stores: Stores) -> None:
    """Why the pool waits: redis-py's ConnectionPool fails past max_connections at once."""
    client = aioredis.Redis(
        connection_pool=aioredis.ConnectionPool.from_url(on_db(stores.redis, 6), max_connections=2)
    )
    try:
        results = await asyncio.gather(*(client.echo("x") for _ in range(50)), return_exceptions=True)
        assert any("Too many connections" in str(r) for r in results)
    finally:
        await client.aclose()


async def test_the_redis_py_pool_behaviour_waiting_pool_builds_on(stores: Stores) -> None:
    """WaitingPool subclasses redis-py's ConnectionPool (pyproject caps redis below the next
    major): get_connection() without arguments hands out a free connection or raises
    MaxConnectionsError at once, release() is the one way back (the client calls it after every
    command), and settled() reads _in_use_connections/_available_connections. A redis-py release
    that changes any of these fails here first."""
    pool = aioredis.ConnectionPool.from_url(on_db(stores.redis, 6), max_connections=1)
    client = aioredis.Redis(connection_pool=pool)
    released: list[object] = []
    plain_release = pool.release

    async def counting_release(connection: AbstractConnection) -> None:
        released.append(connection)
        await plain_release(connection)

    pool.release = counting_release  # type: ignore[method-assign]
    try:
        first = await pool.get_connection()
        assert pool._in_use_connections == {first} and pool._available_connections == []
        with pytest.raises(MaxConnectionsError):
            await asyncio.wait_for(pool.get_connection(), 1)  # fails at once: it does not wait
        await pool.release(first)
        assert pool._available_connections == [first] and not pool._in_use_connections
        released.clear()
        assert await client.echo("x") == b"x"
        assert released == [first]  # the command took the free connection and gave it back
    finally:
        await client.aclose()


async def test_waiting_is_bounded_by_the_timeout(stores: Stores, small: list[Redis]) -> None:
    pool, held = await one_connection_held(stores, small, timeout=0.3)  # all (one) connections busy
    started = time.monotonic()
    with pytest.raises(StoreError, match="No connection available"):
        async with translated("echo"):
            await small[0].client_for_tests().echo("x")
    assert 0.25 <= time.monotonic() - started < 1.5
    await pool.release(held)
    assert await small[0].client_for_tests().echo("y") == b"y"
    settled(pool)


async def test_waiters_are_served_first_come_first_served(stores: Stores, small: list[Redis]) -> None:
    pool, held = await one_connection_held(stores, small)
    order: list[int] = []

    async def one(i: int) -> None:
        conn = await pool.get_connection()
        order.append(i)
        await asyncio.sleep(0)
        await pool.release(conn)

    tasks = []
    for i in range(10):
        tasks.append(asyncio.create_task(one(i)))
        await asyncio.sleep(0)  # queue in this order
    await pool.release(held)
    await asyncio.gather(*tasks)
    assert order == list(range(10))
    settled(pool)


async def test_a_newcomer_does_not_overtake_a_woken_waiter(stores: Stores, small: list[Redis]) -> None:
    pool, held = await one_connection_held(stores, small, timeout=0.5)
    waiting = asyncio.create_task(pool.get_connection())
    await asyncio.sleep(0.01)
    await pool.release(held)  # wakes `waiting`, which has not run yet
    newcomer = asyncio.create_task(pool.get_connection())
    conn = await waiting
    assert not newcomer.done()
    await pool.release(conn)
    await pool.release(await newcomer)
    settled(pool)


async def test_a_cancelled_or_timed_out_waiter_passes_its_turn_on(stores: Stores, small: list[Redis]) -> None:
    pool, held = await one_connection_held(stores, small, timeout=5)
    first = asyncio.create_task(pool.get_connection())
    second = asyncio.create_task(pool.get_connection())
    await asyncio.sleep(0.01)
    await pool.release(held)  # wakes `first`...
    first.cancel()  # ...which is cancelled before it takes the connection
    with pytest.raises(asyncio.CancelledError):
        await first
    conn = await asyncio.wait_for(second, 1)  # the turn went on to `second`
    await pool.release(conn)
    # and a waiter cancelled while still queued leaves nothing behind
    held = await pool.get_connection()
    third = asyncio.create_task(pool.get_connection())
    await asyncio.sleep(0.01)
    third.cancel()
    with pytest.raises(asyncio.CancelledError):
        await third
    await pool.release(held)
    assert await small[0].client_for_tests().echo("z") == b"z"
    settled(pool)


async def test_busy_loops_never_starve_a_caller(stores: Stores, small: list[Redis]) -> None:
    """Many tasks issuing commands back to back through two connections: nobody times out."""
    store = open_small(stores, small, max_connections=2, timeout=0.5)

    async def loop(i: int) -> int:
        for _ in range(20):
            await store.client_for_tests().echo(str(i))
        return i

    assert await asyncio.gather(*(loop(i) for i in range(60))) == list(range(60))
    settled(pool_of(store))
