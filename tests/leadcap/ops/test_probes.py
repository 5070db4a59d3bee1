"""The readiness rule (GET /api/health/ready) on reports made against real stores: ready while a
lead can be kept, through Redis or, with Redis away, straight into PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from leadcap.ops import embedded, health
from leadcap.ops.services import Services
from leadcap.settings import Settings
from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis

REDIS_DB = 13


@pytest.fixture
def redis(own_redis: Redis) -> Redis:
    return own_redis


@pytest.fixture
def nowhere() -> str:
    """An address where nothing listens."""
    return f"127.0.0.1:{embedded.free_port()}"


async def report_with(postgres: Postgres, redis: Redis, mongo_url: str) -> dict[str, Any]:
    mongo = Mongo.open(mongo_url, timeout_ms=500)
    try:
        return await health.report(Services(Settings(), postgres, redis, mongo))
    finally:
        await mongo.close()


async def test_ready_with_every_store_up(postgres: Postgres, redis: Redis, mongo_url: str) -> None:
    report = await report_with(postgres, redis, mongo_url)
    assert health.ready(report)
    body = health.readiness(report)
    assert body["status"] == "ok" and set(body["checks"]) == {"postgres", "redis"}


async def test_ready_without_redis_takes_the_direct_path(
    postgres: Postgres, nowhere: str, mongo_url: str
) -> None:
    redis = Redis.open(f"redis://{nowhere}/0")
    try:
        report = await report_with(postgres, redis, mongo_url)
    finally:
        await redis.close()
    assert report["status"] == "down"  # /api/health/ says down: the queue is away
    assert health.ready(report)  # but a POST still gets its 202, written to PostgreSQL


async def test_ready_without_postgresql_queues_in_redis(redis: Redis, nowhere: str, mongo_url: str) -> None:
    postgres = await Postgres.open(f"postgresql://postgres@{nowhere}/x", max_size=1)
    try:
        report = await report_with(postgres, redis, mongo_url)
    finally:
        await postgres.close()
    assert report["checks"]["postgres"]["status"] == "down"
    assert health.ready(report)


async def test_not_ready_with_redis_and_postgresql_down(nowhere: str, mongo_url: str) -> None:
    postgres = await Postgres.open(f"postgresql://postgres@{nowhere}/x", max_size=1)
    redis = Redis.open(f"redis://{nowhere}/0")
    try:
        report = await report_with(postgres, redis, mongo_url)
    finally:
        await redis.close()
        await postgres.close()
    assert not health.ready(report)
    body = health.readiness(report)
    assert body == {
        "status": "down",
        "checks": {"postgres": {"status": "down", "error": "refused"}, "redis": body["checks"]["redis"]},
    }
    assert body["checks"]["redis"]["error"] == "refused"
    assert nowhere.rsplit(":", 1)[1] not in str(body)  # categories only, never a port


async def test_mongodb_and_workers_never_make_a_process_unready(
    postgres: Postgres, redis: Redis, nowhere: str
) -> None:
    report = await report_with(postgres, redis, f"mongodb://{nowhere}/x")
    assert report["status"] == "degraded" and report["checks"]["workers"]["status"] == "down"
    assert health.ready(report)


def checks(**states: str) -> dict[str, Any]:
    return {"checks": {name.replace("_", "-"): {"status": state} for name, state in states.items()}}


def test_with_several_redis_servers_any_one_down_needs_postgresql() -> None:
    """A phone whose server is away takes the direct path: PostgreSQL must be up for it."""
    assert health.ready(checks(postgres="ok", redis="ok", redis_1="ok"))
    assert health.ready(checks(postgres="down", redis="ok", redis_1="ok"))
    assert health.ready(checks(postgres="ok", redis="ok", redis_1="down"))
    assert not health.ready(checks(postgres="down", redis="ok", redis_1="down"))
    assert not health.ready(checks(postgres="down", redis="down", redis_1="ok"))
    assert health.readiness(checks(postgres="ok", redis="ok", redis_1="ok", mongo="down"))[
        "checks"
    ].keys() == {
        "postgres",
        "redis",
        "redis-1",
    }
