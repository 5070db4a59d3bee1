"""PostgreSQL for dead letters (leadcap/ops/deadletters.py keeps the rules): what PostgreSQL refused
for good, kept with its error until an operator retries it. Driver errors become StoreError."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from leadcap.stores.postgres.connection import translated
from leadcap.stores.postgres.leads import Row, write_submissions
from leadcap.stores.postgres.sql import query

_DEAD_LETTERS = (
    "SELECT id, submission_id, message, error, failures, first_failed_at, last_failed_at FROM dead_letters"
)


class DeadLetterStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool  # the store's own pool, handed over by Postgres

    async def bury(self, submission_id: uuid.UUID | None, message: bytes, error: str) -> int:
        """Keep a refused message in dead_letters (one row per submission); return its id."""
        async with translated("burying a dead letter"):
            return int(await self._pool.fetchval(query("bury_dead_letter"), submission_id, message, error))

    async def listing(self, ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """Every dead letter (or those of `ids`), oldest first, as column -> value."""
        async with translated("listing dead letters"):
            if ids is None:
                records = await self._pool.fetch(_DEAD_LETTERS + " ORDER BY id")
            else:
                records = await self._pool.fetch(
                    _DEAD_LETTERS + " WHERE id = ANY($1::bigint[]) ORDER BY id", list(ids)
                )
        return [dict(r.items()) for r in records]

    async def land(self, dead_id: int, submission: Row) -> None:
        """Write a dead letter's submission the normal way and delete the dead letter, together."""
        async with translated("retrying a dead letter"), self._pool.acquire() as conn, conn.transaction():
            await write_submissions(conn, [submission])
            await conn.execute("DELETE FROM dead_letters WHERE id = $1", dead_id)

    async def refuse_again(self, dead_id: int, error: str) -> None:
        """Note one more refusal of a dead letter, with its new error."""
        async with translated("updating a dead letter"):
            await self._pool.execute(query("refuse_dead_letter_again"), dead_id, error)
