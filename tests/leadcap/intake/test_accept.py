"""Intake against a real Redis (a private database number) and a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from taskiq.formatters.json_formatter import JSONFormatter

from leadcap import keys, settings
from leadcap.errors import RateLimited, Unavailable
from leadcap.intake import visitor
from leadcap.intake.accept import Intake, Receipt
from leadcap.intake.submission import Submission, read_body, validate
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests import factories, servers
from tests.servers import Stores


@pytest.fixture
async def private_redis(stores: Stores) -> AsyncIterator[Redis]:
    async with servers.private_redis(stores.redis, 3) as store:
        yield store


def submission(phone: str | None = None, **body: object) -> Submission:
    raw = {"phone": phone or factories.mobile(), **body}
    return validate(
        read_body("application/json", __import__("orjson").dumps(raw)),
        default_region="IR",
        allowed_regions=frozenset({"IR"}),
    )


def intake(redis: Redis, postgres: Postgres, **raw: str) -> Intake:
    return Intake(settings.parse(raw), shards=[redis], postgres=postgres)


def addr(the_intake: Intake, bucket: str) -> tuple[visitor.Window, ...]:
    """The windows of a client known by its address alone (no visitor cookie)."""
    limits = the_intake.settings
    return visitor.counted_in(bucket, None, rate_limit=limits.rate_limit, shared_limit=limits.shared_ip_limit)


async def test_accept_loads_the_script_again_when_redis_forgot_it(
    private_redis: Redis, postgres: Postgres
) -> None:
    await private_redis.client_for_tests().script_flush()  # as after a Redis restart without persistence
    the_intake = intake(private_redis, postgres)
    outcome = await the_intake.accept(submission(), addr(the_intake, "1.1.1.9"))
    assert isinstance(outcome.result, Receipt) and not outcome.result.degraded
    assert await private_redis.client_for_tests().xlen(keys.LEAD_STREAM) == 1


async def test_accept_enqueues_one_taskiq_message(private_redis: Redis, postgres: Postgres) -> None:
    sub = submission(source="hero", utm={"source": "google"})
    the_intake = intake(private_redis, postgres)
    outcome = await the_intake.accept(sub, addr(the_intake, "1.1.1.1"))
    assert outcome.result == Receipt(str(sub.id), sub.phone)
    entries = await private_redis.client_for_tests().xrange(keys.LEAD_STREAM)
    assert len(entries) == 1
    message = JSONFormatter().loads(entries[0][1][b"data"])  # Taskiq's own reader
    assert message.task_name == keys.TASK_NAME and message.task_id == str(sub.id)
    assert Submission.from_message(message.kwargs["submission"]) == sub


async def test_duplicate_within_window_returns_first_id(private_redis: Redis, postgres: Postgres) -> None:
    the_intake = intake(private_redis, postgres, RATE_LIMIT="100/minute")
    number = factories.mobile()
    first = await the_intake.accept(submission(number), addr(the_intake, "1.1.1.2"))
    again = await the_intake.accept(submission(factories.persian(number)), addr(the_intake, "1.1.1.3"))
    assert isinstance(first.result, Receipt) and isinstance(again.result, Receipt)
    assert again.result.id == first.result.id and again.result.duplicate
    assert await private_redis.client_for_tests().xlen(keys.LEAD_STREAM) == 1
    ttl = await private_redis.client_for_tests().ttl(keys.dedupe(first.result.phone))
    assert 590 <= ttl <= 600


async def test_dedupe_window_zero_queues_every_time(private_redis: Redis, postgres: Postgres) -> None:
    the_intake = intake(private_redis, postgres, DEDUPE_WINDOW="0")
    number = factories.mobile()
    await the_intake.accept(submission(number), addr(the_intake, "1.1.1.4"))
    second = await the_intake.accept(submission(number), addr(the_intake, "1.1.1.4"))
    assert isinstance(second.result, Receipt) and not second.result.duplicate
    assert await private_redis.client_for_tests().xlen(keys.LEAD_STREAM) == 2


async def test_sliding_window_counts_every_outcome(private_redis: Redis, postgres: Postgres) -> None:
    the_intake = intake(private_redis, postgres, RATE_LIMIT="3/second")
    refused_body, limited = await the_intake.count(
        addr(the_intake, "2.2.2.2")
    )  # a POST whose body was refused
    honeypot = submission(website="spam")
    results = [
        await the_intake.accept(honeypot, addr(the_intake, "2.2.2.2")),
        await the_intake.accept(submission(), addr(the_intake, "2.2.2.2")),
        await the_intake.accept(submission(), addr(the_intake, "2.2.2.2")),
    ]
    assert [refused_body.remaining, *(r.quota.remaining for r in results)] == [2, 1, 0, 0]
    assert limited is None
    assert results[0].result == Receipt(str(honeypot.id), honeypot.phone, honeypot=True)
    assert isinstance(results[2].result, RateLimited) and results[2].result.retry_after == 1
    assert (
        await private_redis.client_for_tests().xlen(keys.LEAD_STREAM) == 1
    )  # honeypot and refused: not queued
    over, limited = await the_intake.count(addr(the_intake, "2.2.2.2"))
    assert over.remaining == 0 and isinstance(limited, RateLimited)
    await asyncio.sleep(1.05)
    assert isinstance((await the_intake.accept(submission(), addr(the_intake, "2.2.2.2"))).result, Receipt)


async def test_no_more_than_n_in_any_window(private_redis: Redis, postgres: Postgres) -> None:
    """Bursts at the edges of a fixed window would let 2N through; a sliding window must not."""
    the_intake = intake(private_redis, postgres, RATE_LIMIT="5/second")
    allowed_at: list[float] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.5
    while loop.time() < deadline:
        _, limited = await the_intake.count(addr(the_intake, "3.3.3.3"))
        if limited is None:
            allowed_at.append(loop.time())
        await asyncio.sleep(0.01)
    for i, t in enumerate(allowed_at):
        in_window = [u for u in allowed_at[i:] if u - t < 0.99]
        assert len(in_window) <= 5
    assert len(allowed_at) >= 10  # and it does let requests through as the window slides


async def test_redis_down_goes_straight_to_postgres(postgres: Postgres, pg: asyncpg.Pool) -> None:
    dead = Redis.open("redis://127.0.0.1:9/0", timeout=0.2)
    the_intake = intake(dead, postgres)
    sub = submission()
    outcome = await the_intake.accept(sub, addr(the_intake, "4.4.4.4"))
    assert outcome.result == Receipt(str(sub.id), sub.phone, degraded=True)
    assert outcome.quota.remaining == 9  # the local limiter still counts
    assert await pg.fetchval("SELECT submissions FROM leads WHERE phone = $1", sub.phone) == 1
    again = await the_intake.accept(submission(sub.phone), addr(the_intake, "4.4.4.4"))
    assert isinstance(again.result, Receipt) and again.result.duplicate and again.result.id == str(sub.id)
    bot = submission(website="spam")
    dropped = await the_intake.accept(bot, addr(the_intake, "4.4.4.4"))
    assert dropped.result == Receipt(str(bot.id), bot.phone, honeypot=True)
    assert await pg.fetchval("SELECT count(*) FROM leads WHERE phone = $1", bot.phone) == 0
    refused, limited = await the_intake.count(addr(the_intake, "4.4.4.4"))
    assert (refused.remaining, limited) == (6, None)  # the local limiter counts every outcome
    await dead.close()


async def test_redis_and_postgres_down_is_unavailable() -> None:
    dead_redis = Redis.open("redis://127.0.0.1:9/0", timeout=0.2)
    dead_pg = await Postgres.open("postgresql://postgres@127.0.0.1:9/x", timeout=0.5)
    the_intake = intake(dead_redis, dead_pg)
    outcome = await the_intake.accept(submission(), addr(the_intake, "5.5.5.5"))
    assert isinstance(outcome.result, Unavailable)
    await dead_redis.close()
    await dead_pg.close()


def test_submission_ids_are_unique_uuid7s_in_the_order_they_were_made() -> None:
    ids = [submission().id for _ in range(50)]
    assert len(set(ids)) == 50 and {i.version for i in ids} == {7}
    assert ids == sorted(ids)  # the ids sort as the web tier accepted the submissions


def test_a_receipt_names_its_outcome_for_every_counter() -> None:
    """The campaign view's counters and the metrics read one label (Receipt.outcome); only the
    metrics add that an accepted lead went straight to PostgreSQL (degraded)."""
    assert Receipt("a", "+989121234567").outcome == "accepted"
    assert Receipt("a", "+989121234567", degraded=True).outcome == "accepted"
    assert Receipt("a", "+989121234567", duplicate=True, degraded=True).outcome == "duplicate"
    assert Receipt("a", "+989121234567", honeypot=True).outcome == "honeypot"


async def test_a_visitor_counts_in_its_own_window_and_its_addresses_in_one_call(
    private_redis: Redis, postgres: Postgres
) -> None:
    the_intake = intake(private_redis, postgres, RATE_LIMIT="2/minute", SHARED_IP_LIMIT="3/minute")

    def phone(visitor_id: str) -> tuple[visitor.Window, ...]:
        limits = the_intake.settings
        return visitor.counted_in(
            "6.6.6.6", visitor_id, rate_limit=limits.rate_limit, shared_limit=limits.shared_ip_limit
        )

    first = [await the_intake.accept(submission(), phone("a")) for _ in range(3)]
    assert [type(o.result) for o in first] == [Receipt, Receipt, RateLimited]
    assert first[2].result.window == "visitor"  # type: ignore[union-attr]
    assert first[2].quota.limit == 2 and first[2].quota.remaining == 0
    second = await the_intake.accept(submission(), phone("b"))
    third = await the_intake.accept(submission(), phone("c"))
    assert isinstance(second.result, Receipt) and second.quota.remaining == 1  # b's own window
    assert isinstance(third.result, RateLimited) and third.result.window == "shared"
    assert third.quota.remaining == 2  # c was charged nothing: refused in one window, counted in none
    client = private_redis.client_for_tests()
    assert await client.zcard(keys.rate_bucket("shared:6.6.6.6")) == 3
    assert await client.zcard(keys.rate_bucket("6.6.6.6")) == 0  # the address's cookie-less window
    bare = await the_intake.accept(submission(), addr(the_intake, "6.6.6.6"))
    assert isinstance(bare.result, Receipt)  # not held by the visitors' ceiling
    assert await client.xlen(keys.LEAD_STREAM) == 4
