"""Fixtures for erasure and retention: a PostgreSQL database, a Redis database and a MongoDB
database of their own (retention erases across a whole database; the suite's shared worker
must not drain this module's stream), emptied before each test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests import servers
from tests.servers import Stores

REDIS_DB = 6  # this folder's own Redis database
EMPTIED = (
    "webhook_deliveries, webhook_events, webhook_endpoints, submissions, leads, dead_letters,"
    " lead_status_changes, lead_erasures, maintenance_runs"
)


@pytest.fixture(scope="session")
async def privacy_database_url(stores: Stores) -> str:
    return await servers.migrated_database(stores.database)


@pytest.fixture(scope="session")
def privacy_mongo_url(stores: Stores) -> str:
    return servers.with_database(stores.mongo, f"leadcap_privacy_{uuid.uuid4().hex[:8]}")


@pytest.fixture
async def postgres(privacy_database_url: str) -> AsyncIterator[Postgres]:
    store = await Postgres.open(privacy_database_url, max_size=6)
    async with store.pool_for_tests().acquire() as conn:
        await conn.execute(f"TRUNCATE {EMPTIED}")
    yield store
    await store.close()


@pytest.fixture
async def redis(stores: Stores) -> AsyncIterator[Redis]:
    async with servers.private_redis(stores.redis, REDIS_DB) as store:
        yield store


@pytest.fixture
async def mongo(privacy_mongo_url: str) -> AsyncIterator[Mongo]:
    store = Mongo.open(privacy_mongo_url)
    await store.logs_for_tests().delete_many({})
    await store.ensure_indexes(ttl_days=30)
    yield store
    await store.close()
