"""Intake outcome counters: in process, one upsert per flush into intake_counts."""

from __future__ import annotations

import asyncpg

from leadcap.campaign.outcomes import OutcomeCounter
from leadcap.errors import StoreError
from leadcap.stores.postgres import Postgres


async def test_counts_add_up_across_flushes_and_survive_a_failed_one(
    database_url: str, pg: asyncpg.Pool
) -> None:
    postgres = await Postgres.open(database_url, max_size=1)
    counter = OutcomeCounter(postgres)
    before = await pg.fetchval("SELECT coalesce(sum(n), 0) FROM intake_counts WHERE code = 'invalid_phone'")
    for _ in range(3):
        counter.count("rejected", "invalid_phone")
    assert await counter.flush() == 3
    counter.count("rejected", "invalid_phone")
    await postgres.close()  # PostgreSQL "away": the flush fails, the count is kept
    try:
        await counter.flush()
        raise AssertionError("a flush on a closed pool succeeded")
    except StoreError:
        pass
    counter.postgres = await Postgres.open(database_url, max_size=1)
    assert await counter.flush() == 1
    await counter.postgres.close()
    after = await pg.fetchval("SELECT coalesce(sum(n), 0) FROM intake_counts WHERE code = 'invalid_phone'")
    assert after - before == 4
