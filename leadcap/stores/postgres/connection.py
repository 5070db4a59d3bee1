"""PostgreSQL's connection core: the pool and the translation of driver errors.

Every slice of leadcap.stores.postgres (one per feature) runs its statements on the pool made
here; driver errors become StoreError('postgres', …), transient or not, through `translated`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import asyncpg

from leadcap.errors import StoreError

# What a lost connection, a restarting server or a refused login looks like from asyncpg; and,
# with several hosts and target_session_attrs=read-write, none of them writable (mid-failover).
DRIVER_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.TargetServerAttributeNotMatched,
)
# Errors that say the statement or its data is wrong: the same write will fail again.
PERMANENT_ERRORS = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.SyntaxOrAccessError,
)


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    """Run a block, turning any driver failure into StoreError('postgres', …)."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        transient = not isinstance(exc, PERMANENT_ERRORS)
        raise StoreError(
            "postgres", f"{action} failed: {type(exc).__name__}: {exc}", transient=transient
        ) from exc


async def create_pool(url: str, *, max_size: int, timeout: float) -> asyncpg.Pool:
    """A lazily connecting pool: creating it never fails because the server is down.

    With several hosts (a primary and standbys, `target_session_attrs=read-write`), asyncpg
    picks a writable one only when it connects. A server made read-only in place (a fenced or
    demoted primary that kept running) would keep failing the pool's open connections for ever,
    so the first write it refuses expires them all, and the next connections find the writable
    host. That watch costs a callback per statement; a URL with one host goes without it."""
    holder: list[asyncpg.Pool] = []
    expiring: set[asyncio.Future[None]] = set()

    def on_statement(record: asyncpg.connection.LoggedQuery) -> None:
        if isinstance(record.exception, asyncpg.ReadOnlySQLTransactionError) and holder:
            task = asyncio.ensure_future(holder[0].expire_connections())
            expiring.add(task)
            task.add_done_callback(expiring.discard)

    async def watch(connection: asyncpg.Connection) -> None:
        connection.add_query_logger(on_statement)

    pool: asyncpg.Pool = await asyncpg.create_pool(
        url,
        min_size=0,
        max_size=max_size,
        timeout=timeout,
        command_timeout=30,
        init=watch if "," in urlsplit(url).netloc else None,
    )
    holder.append(pool)
    return pool


async def close_pool(pool: asyncpg.Pool) -> None:
    try:
        await asyncio.wait_for(pool.close(), timeout=5)
    except (TimeoutError, *DRIVER_ERRORS):
        pool.terminate()
