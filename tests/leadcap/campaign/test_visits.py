"""Visit counting: digests in a bounded in-process set, flushed into Redis HyperLogLogs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from leadcap import keys
from leadcap.campaign.visits import DAY_TTL_S, VariantVisits, VisitCounter
from leadcap.errors import StoreError
from leadcap.stores.redis import Redis
from tests.servers import Stores, private_redis

REDIS_DB = 9  # its own Redis database (each module that flushes one has its own)


@pytest.fixture
async def redis(stores: Stores) -> AsyncIterator[Redis]:
    async with private_redis(stores.redis, REDIS_DB) as store:
        yield store


async def test_one_visitor_counts_once_per_day_and_hour(redis: Redis) -> None:
    counter = VisitCounter(redis, timezone="Asia/Tehran")
    for bucket, agent in (
        ("203.0.113.1", "A"),
        ("203.0.113.1", "A"),
        ("203.0.113.1", "B"),
        ("2001:db8::/64", "A"),
    ):
        counter.see(bucket, agent)
    # 21:00 UTC is 00:30 the next day in Tehran: the day and hour are Tehran's.
    assert await counter.flush(datetime(2026, 11, 30, 21, 0, tzinfo=UTC)) == 3
    assert await redis.client_for_tests().pfcount(keys.visits_day("2026-12-01")) == 3
    assert await redis.client_for_tests().pfcount(keys.visits_hour("2026-12-01T00")) == 3
    assert 0 < await redis.client_for_tests().ttl(keys.visits_hour("2026-12-01T00")) <= 35 * 86400
    # The same visitor from another process (another counter) is still one visitor.
    other = VisitCounter(redis, timezone="Asia/Tehran")
    other.see("203.0.113.1", "A")
    await other.flush(datetime(2026, 11, 30, 21, 0, tzinfo=UTC))
    assert await redis.client_for_tests().pfcount(keys.visits_day("2026-12-01")) == 3


async def test_pending_visitors_are_bounded_and_kept_while_redis_is_away(stores: Stores) -> None:
    away = Redis.open("redis://127.0.0.1:1/0", timeout=0.2)  # nothing listens there
    counter = VisitCounter(away, timezone="UTC", capacity=100)
    for n in range(250):
        counter.see(f"198.51.100.{n}", "A")
    assert counter.pending == 100
    assert counter.dropped == 150
    with pytest.raises(StoreError):
        await counter.flush()
    assert counter.pending == 100  # kept for the next flush, still within the bound
    await away.close()


async def test_variant_visitors_count_per_campaign_variant_and_day(redis: Redis) -> None:
    counter = VariantVisits(redis, timezone="Asia/Tehran")
    for slug, name, visitor in (
        ("spring", "a", "v1"),
        ("spring", "a", "v1"),  # the same visitor again
        ("spring", "b", "v2"),
        ("fall", "a", "v1"),  # the same visitor on another campaign
    ):
        counter.see(slug, name, visitor)
    assert await counter.flush(datetime(2026, 11, 30, 21, 0, tzinfo=UTC)) == 3
    client = redis.client_for_tests()
    day = "2026-12-01"  # Tehran's day of 21:00 UTC
    pairs = (("spring", "a"), ("spring", "b"), ("fall", "a"))
    found = [await client.pfcount(keys.variant_visits_day(slug, name, day)) for slug, name in pairs]
    assert found == [1, 1, 1]
    assert await client.smembers(keys.variant_names("spring")) == {b"a", b"b"}
    assert 0 < await client.ttl(keys.variant_names("fall")) <= DAY_TTL_S


async def test_pending_variant_visitors_are_bounded_while_redis_is_away(stores: Stores) -> None:
    away = Redis.open("redis://127.0.0.1:1/0", timeout=0.2)  # nothing listens there
    counter = VariantVisits(away, timezone="UTC", capacity=100)
    for n in range(250):
        counter.see("spring", "ab"[n % 2], f"visitor-{n}")
    assert (counter.pending, counter.dropped) == (100, 150)
    with pytest.raises(StoreError):
        await counter.flush()
    assert (counter.pending, counter.dropped) == (100, 150)  # kept for the next flush
    await away.close()
