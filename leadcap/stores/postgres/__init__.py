"""PostgreSQL: the pool, the lead writes and the queries. Driver errors become StoreError."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from leadcap.errors import StoreError
from leadcap.intake.phone import carrier_of
from leadcap.intake.submission import UTM_KEYS, Submission
from leadcap.stores.postgres.sql import query

# What a lost connection, a restarting server or a refused login looks like from asyncpg.
DRIVER_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
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


class Postgres:
    """A lazily connecting asyncpg pool: opening it never fails because the server is down."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool  # private: callers ask for what they need through the methods below

    @classmethod
    async def open(cls, url: str, *, max_size: int = 10, timeout: float = 5.0) -> Postgres:
        pool = await asyncpg.create_pool(
            url, min_size=0, max_size=max_size, timeout=timeout, command_timeout=30
        )
        return cls(pool)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._pool.close(), timeout=5)
        except (TimeoutError, *DRIVER_ERRORS):
            self._pool.terminate()

    async def ping(self) -> float:
        """Round-trip a trivial query; return its latency in ms."""
        async with translated("ping"):
            started = time.perf_counter()
            await self._pool.fetchval("SELECT 1")
            return (time.perf_counter() - started) * 1000

    async def record(self, batch: Sequence[Submission]) -> None:
        """Write submissions and their leads in one statement (its own transaction, so no BEGIN
        and COMMIT round trips); idempotent on submission id."""
        if not batch:
            return
        async with translated("recording submissions"), self._pool.acquire() as conn:
            await write_submissions(conn, batch)

    async def mark_verified(self, batch: Sequence[Submission]) -> None:
        """The leads of `batch` are verified now, in one transaction: created so if the worker has
        not written them yet (their submissions then add to them as usual), else updated. Each
        lead verified for the first time gets its lead.verified webhook event in the same
        transaction, so no verified lead goes without its event."""
        unique = list({s.phone: s for s in reversed(batch)}.values())  # one row per phone per statement
        if not unique:
            return
        utms = [s.utm for s in unique]
        columns: list[list[Any]] = [
            [s.id for s in unique],
            [s.phone for s in unique],
            [s.region for s in unique],
            [carrier_of(s.phone) for s in unique],
            [s.submitted_at for s in unique],
            [s.source for s in unique],
            *([utm.get(key) for utm in utms] for key in UTM_KEYS),
        ]
        async with translated("verifying leads"), self._pool.acquire() as conn, conn.transaction():
            verified = await conn.fetch(query("mark_verified"), *columns)
            for row in verified:
                if row["newly_verified"]:
                    await conn.execute(query("webhook_lead_event"), "lead.verified", row["id"])

    async def recent_submission(self, phone: str, window_s: int) -> uuid.UUID | None:
        """The first submission of `phone` inside the dedupe window, if any."""
        async with translated("dedupe lookup"):
            value = await self._pool.fetchval(query("recent_submission"), phone, float(window_s))
        return value if isinstance(value, uuid.UUID) else None

    async def count_leads(self, args: Sequence[Any]) -> int:
        """How many leads match the export filters' arguments (see export.Filters.args)."""
        async with translated("counting leads"):
            return int(await self._pool.fetchval(query("count_leads"), *args))

    async def export_cursor(self, args: Sequence[Any], *, prefetch: int) -> AsyncIterator[dict[str, Any]]:
        """The matching leads as dicts, read through a server-side cursor in a read-only
        transaction: memory stays flat at any size."""
        async with (
            translated("exporting leads"),
            self._pool.acquire() as conn,
            conn.transaction(readonly=True),
        ):
            async for record in conn.cursor(query("export_leads"), *args, prefetch=prefetch):
                yield dict(record.items())

    async def bury_dead_letter(self, submission_id: uuid.UUID | None, message: bytes, error: str) -> int:
        """Keep a refused message in dead_letters (one row per submission); return its id."""
        async with translated("burying a dead letter"):
            return int(await self._pool.fetchval(query("bury_dead_letter"), submission_id, message, error))

    async def dead_letters(self, ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """Every dead letter (or those of `ids`), oldest first, as column -> value."""
        async with translated("listing dead letters"):
            if ids is None:
                records = await self._pool.fetch(_DEAD_LETTERS + " ORDER BY id")
            else:
                records = await self._pool.fetch(
                    _DEAD_LETTERS + " WHERE id = ANY($1::bigint[]) ORDER BY id", list(ids)
                )
        return [dict(r.items()) for r in records]

    async def land_dead_letter(self, dead_id: int, submission: Submission) -> None:
        """Write a dead letter's submission the normal way and delete the dead letter, together."""
        async with translated("retrying a dead letter"), self._pool.acquire() as conn, conn.transaction():
            await write_submissions(conn, [submission])
            await conn.execute("DELETE FROM dead_letters WHERE id = $1", dead_id)

    async def refuse_dead_letter_again(self, dead_id: int, error: str) -> None:
        """Note one more refusal of a dead letter, with its new error."""
        async with translated("updating a dead letter"):
            await self._pool.execute(
                "UPDATE dead_letters SET error = $2, failures = failures + 1, last_failed_at = now()"
                " WHERE id = $1",
                dead_id,
                error,
            )

    def pool_for_tests(self) -> asyncpg.Pool:
        """The raw pool, for tests that set up or inspect rows directly. Not for the application."""
        return self._pool


_DEAD_LETTERS = (
    "SELECT id, submission_id, message, error, failures, first_failed_at, last_failed_at FROM dead_letters"
)


async def write_submissions(
    conn: asyncpg.Connection | PoolConnectionProxy, batch: Sequence[Submission]
) -> None:
    """Record submissions and their leads on `conn`, in one statement (atomic on its own, or
    part of the caller's transaction)."""
    utms = [s.utm for s in batch]
    columns: list[list[Any]] = [
        [s.id for s in batch],
        [s.phone for s in batch],
        [s.region for s in batch],
        [carrier_of(s.phone) for s in batch],
        [s.source for s in batch],
        *([utm.get(key) for utm in utms] for key in UTM_KEYS),
        [s.submitted_at for s in batch],
        [s.verify for s in batch],  # LEADCAP_VERIFY=sms: the lead it creates starts `unverified`
        [s.visited for s in batch],  # came with a counted visit: the campaign view's conversion
    ]
    await conn.execute(query("record_submissions"), *columns)
