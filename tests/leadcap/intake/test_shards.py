"""The sharded intake: LEADCAP_REDIS_URL listing two real Valkey servers (the suite's embedded
ones, two of their own), against a real PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import asyncpg
import pytest
from taskiq.formatters.json_formatter import JSONFormatter

from leadcap import keys, settings
from leadcap.errors import RateLimited
from leadcap.intake import shard, visitor
from leadcap.intake.accept import Intake, Receipt
from leadcap.intake.submission import Submission
from leadcap.ops import health
from leadcap.ops.services import Services
from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests import factories
from tests.leadcap.intake.test_accept import submission
from web import metrics

DEAD = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there
_addresses = (f"10.27.{i // 250}.{i % 250 + 1}" for i in itertools.count())


@pytest.fixture
async def shards(shard_urls: list[str]) -> AsyncIterator[list[Redis]]:
    stores = [Redis.open(url) for url in shard_urls]
    for store in stores:
        await store.client_for_tests().flushall()
        await store.client_for_tests().config_resetstat()
    yield stores
    for store in stores:
        await store.close()


def sharded(stores: list[Redis], postgres: Postgres, **raw: str) -> Intake:
    return Intake(settings.parse({"RATE_LIMIT": "1000/minute", **raw}), shards=stores, postgres=postgres)


def windows(the_intake: Intake, address: str, visitor_id: str | None = None) -> tuple[visitor.Window, ...]:
    limits = the_intake.settings
    return visitor.counted_in(
        address, visitor_id, rate_limit=limits.rate_limit, shared_limit=limits.shared_ip_limit
    )


def on_shard(index: int) -> Submission:
    """A submission whose phone belongs to shard `index` of two."""
    while True:
        sub = submission()
        if shard.of(sub.phone, 2) == index:
            return sub


def address_on(index: int) -> str:
    """A client address whose windows live on shard `index` of two."""
    return next(a for a in _addresses if shard.of(a, 2) == index)


async def streams(stores: list[Redis]) -> list[list[str]]:
    """The phones queued on each shard's stream, in order."""
    queued = []
    for store in stores:
        entries = await store.client_for_tests().xrange(keys.LEAD_STREAM)
        queued.append([Submission.from_message(_kwargs(data[b"data"])).phone for _, data in entries])
    return queued


def _kwargs(data: bytes) -> dict[str, object]:
    return JSONFormatter().loads(data).kwargs["submission"]  # type: ignore[no-any-return]


async def evalsha_calls(store: Redis) -> int:
    stats = await store.client_for_tests().info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def test_each_phone_lands_on_its_own_shard_and_both_carry_part(
    shards: list[Redis], postgres: Postgres
) -> None:
    the_intake = sharded(shards, postgres)
    subs = [submission() for _ in range(40)]
    for sub in subs:
        outcome = await the_intake.accept(sub, windows(the_intake, next(_addresses)))
        assert outcome.result == Receipt(str(sub.id), sub.phone)
    queued = await streams(shards)
    assert all(queued), "each shard carries part of the intake"
    assert sorted(queued[0] + queued[1]) == sorted(s.phone for s in subs)
    for index, phones in enumerate(queued):
        assert all(shard.of(p, 2) == index for p in phones)
        for phone in phones:  # the dedupe key beside its queue entry, on that shard only
            assert await shards[index].client_for_tests().exists(keys.dedupe(phone))
            assert not await shards[1 - index].client_for_tests().exists(keys.dedupe(phone))


async def test_the_same_phone_twice_is_one_lead_on_one_shard(shards: list[Redis], postgres: Postgres) -> None:
    the_intake = sharded(shards, postgres)
    number = factories.mobile()
    first = await the_intake.accept(submission(number), windows(the_intake, address_on(0)))
    again = await the_intake.accept(submission(factories.persian(number)), windows(the_intake, address_on(1)))
    assert isinstance(first.result, Receipt) and isinstance(again.result, Receipt)
    assert again.result.duplicate and again.result.id == first.result.id
    queued = await streams(shards)
    assert queued[0] + queued[1] == [first.result.phone]


async def test_limits_stay_exact_whichever_shard_the_phones_are_on(
    shards: list[Redis], postgres: Postgres
) -> None:
    the_intake = sharded(shards, postgres, RATE_LIMIT="5/minute", SHARED_IP_LIMIT="7/minute")
    address = next(_addresses)
    subs = [on_shard(i % 2) for i in range(12)]
    results = [(await the_intake.accept(s, windows(the_intake, address))).result for s in subs]
    assert [isinstance(r, Receipt) for r in results] == [True] * 5 + [False] * 7
    assert all(isinstance(r, RateLimited) for r in results[5:])
    # Visitors behind one address meet its shared ceiling exactly, their phones on both shards.
    shared = next(_addresses)
    outcomes = [
        (await the_intake.accept(on_shard(n % 2), windows(the_intake, shared, f"v{n % 3}"))).result
        for n in range(10)
    ]
    assert sum(isinstance(r, Receipt) for r in outcomes) == 7
    queued = await streams(shards)
    assert len(queued[0]) + len(queued[1]) == 5 + 7


async def test_round_trips_one_per_server_touched_at_most_two(
    shards: list[Redis], postgres: Postgres
) -> None:
    for store in shards:  # load the script on each (a first EVALSHA fails NOSCRIPT), then count
        warm = Intake(settings.parse({}), shards=[store], postgres=postgres)
        await warm.accept(submission(), windows(warm, next(_addresses)))
        await store.client_for_tests().config_resetstat()
    single = Intake(settings.parse({}), shards=shards[:1], postgres=postgres)
    await single.accept(submission(), windows(single, next(_addresses)))
    assert [await evalsha_calls(s) for s in shards] == [1, 0]

    the_intake = sharded(shards, postgres, RATE_LIMIT="1/minute")
    address = address_on(0)
    await the_intake.accept(on_shard(0), windows(the_intake, address_on(0)))  # both keys on shard 0
    assert [await evalsha_calls(s) for s in shards] == [2, 0]
    await the_intake.accept(on_shard(1), windows(the_intake, address))  # limits on 0, phone on 1
    assert [await evalsha_calls(s) for s in shards] == [3, 1]
    refused = await the_intake.accept(on_shard(1), windows(the_intake, address))  # refused: one trip
    assert isinstance(refused.result, RateLimited)
    assert [await evalsha_calls(s) for s in shards] == [4, 1]


async def test_a_shard_down_sends_its_phones_to_postgres(
    shards: list[Redis], postgres: Postgres, pg: asyncpg.Pool
) -> None:
    dead = Redis.open(DEAD)
    the_intake = sharded([shards[0], dead], postgres, RATE_LIMIT="3/minute")
    try:
        address = address_on(0)
        kept, direct = on_shard(0), on_shard(1)
        queued = await the_intake.accept(kept, windows(the_intake, address))
        degraded = await the_intake.accept(direct, windows(the_intake, address))
        again = await the_intake.accept(submission(direct.phone), windows(the_intake, address))
        over = await the_intake.accept(on_shard(1), windows(the_intake, address))
    finally:
        await dead.close()
    assert queued.result == Receipt(str(kept.id), kept.phone)
    assert degraded.result == Receipt(str(direct.id), direct.phone, degraded=True)
    # Already durable when its 202 left, and deduped there; the live shard still limits exactly.
    row = await pg.fetchrow("SELECT id FROM leads WHERE phone = $1", direct.phone)
    assert row is not None and str(row["id"]) == str(direct.id)
    assert isinstance(again.result, Receipt) and again.result.duplicate and again.result.id == str(direct.id)
    assert isinstance(over.result, RateLimited)
    assert await streams(shards) == [[kept.phone], []]


async def test_health_reports_each_shard(shards: list[Redis], postgres: Postgres, mongo_url: str) -> None:
    mongo = Mongo.open(mongo_url)
    dead = Redis.open(DEAD)
    try:
        await health.beat(shards[0], "shard-test-worker")
        both = await health.report(
            Services(settings.Settings(), postgres, shards[0], mongo, more_redis=[shards[1]])
        )
        one = await health.report(
            Services(settings.Settings(), postgres, shards[0], mongo, more_redis=[dead])
        )
        none = await health.report(Services(settings.Settings(), postgres, dead, mongo, more_redis=[dead]))
    finally:
        await mongo.close()
        await dead.close()
    assert both["checks"]["redis"]["status"] == both["checks"]["redis-1"]["status"] == "ok"
    assert one["checks"]["redis-1"]["status"] == "down" and one["status"] == "degraded"
    assert health.ready(one)
    assert none["status"] == "down" and set(none["checks"]) >= {"redis", "redis-1"}


async def test_metrics_queue_depth_counts_every_shard(shards: list[Redis], postgres: Postgres) -> None:
    the_intake = sharded(shards, postgres)
    for index in (0, 0, 0, 1, 1):
        await the_intake.accept(on_shard(index), windows(the_intake, next(_addresses)))
    dead = Redis.open(DEAD)
    try:
        text = (
            await metrics.render(shards[0], multiprocess_mode=False, more_redis=[shards[1], dead])
        ).decode()
    finally:
        await dead.close()
    assert "\nleadcap_queue_depth 5\n" in text  # 3 + 2; the server that is away counts nothing
