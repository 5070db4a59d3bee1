"""Health against real stores: short error categories, heartbeats without a keyspace scan, the
one-second cache."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from leadcap import keys
from leadcap.ops import embedded, health
from leadcap.ops.services import Services
from leadcap.settings import Settings
from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests.servers import Stores

REDIS_DB = 12


@pytest.fixture
def redis(own_redis: Redis) -> Redis:
    return own_redis


@pytest.fixture
async def services(database_url: str, mongo_url: str, redis: Redis) -> AsyncIterator[Services]:
    postgres = await Postgres.open(database_url, max_size=2)
    mongo = Mongo.open(mongo_url)
    try:
        yield Services(Settings(), postgres, redis, mongo)
    finally:
        await mongo.close()
        await postgres.close()


async def command_calls(redis: Redis) -> dict[str, int]:
    """Calls per command since the last CONFIG RESETSTAT (the whole server's, not one database's)."""
    stats = await redis.client_for_tests().info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


async def test_failures_are_categories_without_hosts_or_ports(stores: Stores) -> None:
    """Nothing listens on `port`; PostgreSQL is reached with a role it does not know."""
    port = embedded.free_port()
    pg_parts = urlsplit(stores.database)
    stranger = pg_parts._replace(netloc=f"no_such_role_x:pw@{pg_parts.hostname}:{pg_parts.port}").geturl()
    postgres = await Postgres.open(stranger, max_size=1)
    redis = Redis.open(f"redis://127.0.0.1:{port}/0")
    mongo = Mongo.open(f"mongodb://127.0.0.1:{port}/x", timeout_ms=500)
    try:
        report = await health.report(Services(Settings(), postgres, redis, mongo))
    finally:
        await mongo.close()
        await redis.close()
        await postgres.close()
    checks = report["checks"]
    assert report["status"] == "down"
    assert checks["postgres"] == {"status": "down", "error": "auth"}
    assert checks["redis"] == {"status": "down", "error": "refused"}
    assert checks["mongo"]["error"] in ("refused", "timeout")
    assert checks["workers"] == {"status": "down", "count": 0, "last_seen_s": None, "error": "refused"}
    text = json.dumps(report)
    for secret in (str(port), str(pg_parts.port), "127.0.0.1", "localhost", "no_such_role_x", "Errno"):
        assert secret not in text


async def test_heartbeats_live_in_one_sorted_set_read_without_a_scan(redis: Redis) -> None:
    await redis.client_for_tests().config_resetstat()
    assert await health.worker_heartbeats(redis) == (0, None)
    await health.beat(redis, "worker-a")
    await health.beat(redis, "worker-b")
    await health.beat(redis, "worker-a")  # a beat replaces its own, it adds no member
    # a worker that died long ago is neither counted nor kept by the next beat
    await redis.client_for_tests().zadd(keys.WORKERS, {"worker-gone": 1_000.0})
    count, last_seen = await health.worker_heartbeats(redis)
    assert count == 2 and last_seen is not None and 0 <= last_seen < 1
    await health.beat(redis, "worker-b")
    assert await redis.client_for_tests().zrange(keys.WORKERS, 0, -1) == [b"worker-a", b"worker-b"]
    await health.forget(redis, "worker-a")
    assert (await health.worker_heartbeats(redis))[0] == 1
    assert (
        await redis.client_for_tests().type(keys.WORKERS) == b"zset"
        and await redis.client_for_tests().ttl(keys.WORKERS) > 0
    )
    calls = await command_calls(redis)
    assert "scan" not in calls and "keys" not in calls, calls
    assert calls.get("zcount", 0) == 3


async def test_reports_are_cached_for_a_second_and_shared(services: Services, redis: Redis) -> None:
    await health.beat(redis, "worker-a")
    cache = health.CachedReport(max_age_s=1.0)
    await redis.client_for_tests().config_resetstat()
    first = await cache.get(services)
    second = await cache.get(services)
    together = await asyncio.gather(*(cache.get(services) for _ in range(20)))
    assert first["status"] == "ok" and second is first and all(r is first for r in together)
    assert (await command_calls(redis)).get("zcount") == 1  # one check: one heartbeat read
    await asyncio.sleep(1.1)
    third: dict[str, Any] = await cache.get(services)
    assert third is not first and (await command_calls(redis)).get("zcount") == 2
    # probes arriving together while nothing is cached share one check
    stale = health.CachedReport(max_age_s=0.0)
    await asyncio.gather(*(stale.get(services) for _ in range(10)))
    assert (await command_calls(redis)).get("zcount") == 3
