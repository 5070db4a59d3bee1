"""Fixtures for webhook tests: a database of their own (so the suite's shared worker never
delivers their events), emptied before each test, and a store over it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from leadcap.stores.postgres import Postgres
from leadcap.stores.postgres.webhooks import WebhookStore
from tests import servers
from tests.servers import Stores


@pytest.fixture(scope="session")
async def webhook_database_url(stores: Stores) -> str:
    return await servers.migrated_database(stores.database)


@pytest.fixture
async def postgres(webhook_database_url: str) -> AsyncIterator[Postgres]:
    store = await Postgres.open(webhook_database_url, max_size=6)
    async with store.pool_for_tests().acquire() as conn:
        await conn.execute(
            # the audit trail outlives its lead (migration 0012): named, not cascaded
            "TRUNCATE webhook_deliveries, webhook_events, webhook_endpoints, submissions, leads,"
            " lead_status_changes CASCADE"
        )
    yield store
    await store.close()


@pytest.fixture
def store(postgres: Postgres) -> WebhookStore:
    return postgres.webhooks


@pytest.fixture
def wpg(postgres: Postgres) -> asyncpg.Pool:
    return postgres.pool_for_tests()
