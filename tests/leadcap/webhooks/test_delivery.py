"""The delivery loop against real PostgreSQL and real loopback receivers that verify every
signature with the standardwebhooks package."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from leadcap.intake.submission import Submission, read_body, validate
from leadcap.settings import Settings
from leadcap.stores.postgres import Postgres
from leadcap.stores.postgres.webhooks import Endpoint, WebhookStore
from leadcap.webhooks import schedule, signing
from leadcap.webhooks.delivery import Deliverer
from tests import factories, servers
from tests.webhook_receiver import Receiver, failing_third, receiving

# Short waits, same behaviour: the backoff ceiling and the breaker's cooldown shrink with the cap.
FAST = Settings(webhook_allow_private=True, webhook_backoff_cap_seconds=1)
DOWN_S = float(os.environ.get("LEADCAP_TEST_WEBHOOK_DOWN_S", "8"))


def sub(phone: str) -> Submission:
    return validate(
        read_body("application/json", orjson.dumps({"phone": phone})),
        default_region="IR",
        allowed_regions=None,
    )


async def record(postgres: Postgres, n: int, batch: int = 250) -> list[Submission]:
    leads = [sub(factories.mobile()) for _ in range(n)]
    for start in range(0, n, batch):
        await postgres.leads.record(leads[start : start + batch])
    return leads


@contextlib.asynccontextmanager
async def delivering(
    store: WebhookStore, settings: Settings = FAST, loops: int = 1
) -> AsyncIterator[list[Deliverer]]:
    stop = asyncio.Event()
    deliverers = [Deliverer(store, settings) for _ in range(loops)]
    tasks = [asyncio.create_task(d.run(stop)) for d in deliverers]
    try:
        yield deliverers
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def until(predicate: Callable[[], bool], timeout: float) -> None:
    assert await servers.wait_for(predicate, timeout), "timed out"


async def add(store: WebhookStore, receiver: Receiver, events: tuple[str, ...] = ("lead.created",)) -> int:
    return await store.add_endpoint(receiver.url, receiver.secret, list(events))


async def test_a_thousand_leads_each_delivered_once_signed(
    postgres: Postgres, store: WebhookStore, wpg: asyncpg.Pool
) -> None:
    secret = signing.new_secret()
    with receiving(secret) as receiver:
        await add(store, receiver)
        async with delivering(store, loops=2):  # two loops share the rows, neither sends one twice
            leads = await record(postgres, 1000)
            await until(lambda: len(receiver.received) >= 1000, 60)
            await asyncio.sleep(0.5)  # anything sent twice would arrive by now (absence has no event)
    ids = receiver.ids()
    assert receiver.bad == []
    assert len(ids) == 1000 and max(ids.values()) == 1
    phones = {r["body"]["data"]["phone"] for r in receiver.received}
    assert phones == {lead.phone for lead in leads}
    body = receiver.received[0]["body"]
    assert body["type"] == "lead.created" and datetime.fromisoformat(body["timestamp"])
    assert set(body["data"]) >= {
        "id",
        "phone",
        "region",
        "carrier",
        "status",
        "first_submitted_at",
        "utm_source",
    }
    states = await wpg.fetch("SELECT state, count(*) AS n FROM webhook_deliveries GROUP BY state")
    assert {r["state"]: r["n"] for r in states} == {"delivered": 1000}


async def test_a_receiver_failing_a_third_of_the_time_gets_everything(
    postgres: Postgres, store: WebhookStore
) -> None:
    secret = signing.new_secret()
    with receiving(secret, failing_third()) as receiver:
        await add(store, receiver)
        async with delivering(store):
            await record(postgres, 200)
            await until(lambda: len(receiver.ids()) >= 200, 60)
    assert receiver.bad == [] and receiver.attempts > 200  # some were retried
    assert len(receiver.ids()) == 200


async def test_a_receiver_that_was_down_gets_everything_once_back(
    postgres: Postgres, store: WebhookStore, wpg: asyncpg.Pool
) -> None:
    secret = signing.new_secret()
    receiver = Receiver(secret).start()
    try:
        await add(store, receiver)
        receiver.stop()  # connection refused from now on
        async with delivering(store):
            await record(postgres, 100)
            await asyncio.sleep(DOWN_S)
            tried = await wpg.fetchval("SELECT count(*) FROM webhook_deliveries WHERE attempts > 0")
            assert tried > 0 and receiver.received == []
            receiver.start()
            await until(lambda: len(receiver.ids()) >= 100, 30)
    finally:
        receiver.stop()
    assert receiver.bad == [] and len(receiver.ids()) == 100


async def test_410_gone_disables_the_endpoint(postgres: Postgres, store: WebhookStore) -> None:
    secret = signing.new_secret()
    with receiving(secret, lambda _: (410, 0.0, {})) as receiver:
        endpoint_id = await add(store, receiver)
        async with delivering(store):
            await record(postgres, 3)
            await until(lambda: receiver.attempts >= 1, 10)

            async def disabled() -> Endpoint | None:  # the 410's outcome is recorded after it
                endpoint = await store.endpoint(endpoint_id)
                return endpoint if endpoint is not None and not endpoint.enabled else None

            endpoint = await servers.wait_for(disabled, 10)
            assert isinstance(endpoint, Endpoint), "the endpoint was never disabled"
            assert endpoint.disabled_reason and "410" in endpoint.disabled_reason
            await record(postgres, 3)  # a disabled endpoint gets no new deliveries
            await asyncio.sleep(0.5)  # a time for sends that should not happen (absence has no event)
    assert receiver.attempts <= 3  # sends already in flight may finish, no more start
    failed = await store.deliveries(failed_only=True, limit=10)
    assert failed and all(d["last_status"] == 410 for d in failed)


async def test_a_slow_endpoint_does_not_delay_a_fast_one(postgres: Postgres, store: WebhookStore) -> None:
    fast_secret, slow_secret = signing.new_secret(), signing.new_secret()
    with (
        receiving(fast_secret) as fast,
        receiving(slow_secret, lambda _: (200, 10.0, {})) as slow,
    ):
        await add(store, fast)
        slow_id = await add(store, slow)
        async with delivering(store) as (deliverer,):
            committed: dict[str, float] = {}
            for _ in range(20):  # 200 leads over ~2 s while the slow endpoint holds its slots
                for lead in await record(postgres, 10):
                    committed[lead.phone] = time.time()
                await asyncio.sleep(0.1)
            await until(lambda: len(fast.ids()) >= 200, 30)
    lags = sorted(r["at"] - committed[r["body"]["data"]["phone"]] for r in fast.received)
    p99 = lags[int(len(lags) * 0.99) - 1]
    assert p99 < 1.0, f"fast endpoint p99 lag {p99:.2f}s next to a slow one"
    # the slow one held only its own slots (the receiver may count a few more: it keeps sleeping
    # on requests the sender already gave up on after 10 s)
    assert deliverer.breakers[slow_id].peak == FAST.webhook_concurrency


async def test_replay_failed_delivers_again(postgres: Postgres, store: WebhookStore) -> None:
    secret = signing.new_secret()
    answer = {"status": 500}
    with receiving(secret, lambda _: (answer["status"], 0.0, {})) as receiver:
        await add(store, receiver)
        quick_to_fail = FAST.replace(webhook_retry_window_seconds=1)
        async with delivering(store, quick_to_fail):
            await record(postgres, 5)

            async def all_failed() -> list[dict[str, Any]] | None:
                failed = await store.deliveries(failed_only=True, limit=100)
                return failed if len(failed) >= 5 else None

            failed = await servers.wait_for(all_failed, 20, every=0.1)
            assert isinstance(failed, list), "the deliveries never failed"
            assert receiver.received == []
            answer["status"] = 200
            replayed = await store.replay([], failed=True)
            assert sorted(replayed) == sorted(d["id"] for d in failed)
            await until(lambda: len(receiver.ids()) >= 5, 10)
    assert await store.deliveries(failed_only=True, limit=100) == []


async def test_a_row_whose_lease_ran_short_in_the_queue_is_handed_back_not_sent(
    postgres: Postgres, store: WebhookStore, wpg: asyncpg.Pool
) -> None:
    # A fast endpoint's queue is deep; if it turns slow, rows at the back would be sent after
    # their lease ended (and so twice). Such a row goes back, due at once, and is not sent.
    secret = signing.new_secret()
    with receiving(secret) as receiver:
        endpoint_id = await store.add_endpoint(receiver.url, secret, ["lead.created"])
        await record(postgres, 3)
        deliverer = Deliverer(store, FAST)
        await deliverer._refresh_endpoints()
        claims = await store.claim({endpoint_id: 3}, schedule.LEASE_S)
        assert len(claims) == 3
        deliverer.queues[endpoint_id] = deque((time.monotonic() - 1, claim) for claim in claims)
        deliverer._dispatch(endpoint_id)
        await asyncio.gather(*list(deliverer._tasks))
        await deliverer.transports["webhook"].close()
    assert receiver.attempts == 0
    rows = await wpg.fetch(
        "SELECT state, next_attempt_at <= now() AS due, attempts, last_error FROM webhook_deliveries"
    )
    assert len(rows) == 3
    assert all(r["state"] == "pending" and r["due"] and r["attempts"] == 1 for r in rows)
    assert {r["last_error"] for r in rows} == {"not sent: its lease ran short in the queue"}
