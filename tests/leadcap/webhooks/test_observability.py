"""What an operator sees of webhooks: health degraded when deliveries fall behind, metrics by
outcome and of the backlog, and one request-log document per attempt, without the phone."""

from __future__ import annotations

import asyncio
from typing import Any

from leadcap import keys
from leadcap.ops import health
from leadcap.ops.services import Services
from leadcap.settings import Settings
from leadcap.stores.postgres import Postgres
from leadcap.stores.postgres.webhooks import WebhookStore
from leadcap.webhooks import signing
from leadcap.webhooks.delivery import Deliverer
from tests import servers
from tests.leadcap.webhooks.test_delivery import FAST, record, until
from tests.servers import Stores
from tests.webhook_receiver import receiving
from web import metrics


async def test_health_is_degraded_when_a_due_delivery_waits_too_long(
    postgres: Postgres, store: WebhookStore
) -> None:
    await store.add_endpoint("http://127.0.0.1:9/never", signing.new_secret(), ["lead.created"])
    await record(postgres, 2)  # due now, and no delivery loop runs
    services = Services(Settings(webhook_max_lag_seconds=1), postgres)
    fresh = await health._webhooks(services)
    assert fresh["status"] == "ok" and (fresh["pending"], fresh["due"]) == (2, 2)
    await asyncio.sleep(1.2)
    late = await health._webhooks(services)
    assert late["status"] == "down" and late["error"] == "deliveries behind" and late["oldest_due_s"] > 1
    patient = Services(Settings(webhook_max_lag_seconds=300), postgres)
    assert (await health._webhooks(patient))["status"] == "ok"


async def test_metrics_show_outcomes_and_the_backlog(
    postgres: Postgres, store: WebhookStore, stores: Stores
) -> None:
    async with servers.private_redis(stores.redis, 15) as redis:
        await redis.client_for_tests().hincrby(keys.WEBHOOK_OUTCOMES, "delivered", 3)
        await store.add_endpoint("http://127.0.0.1:9/never", signing.new_secret(), ["lead.created"])
        await record(postgres, 4)
        text = (await metrics.webhooks(redis, store)).decode()
    assert 'leadcap_webhook_deliveries_total{outcome="delivered"} 3' in text
    assert 'leadcap_webhook_deliveries_total{outcome="failed"} 0' in text
    assert "leadcap_webhook_outbox_depth 4" in text and "leadcap_webhook_due 4" in text
    assert "leadcap_webhook_oldest_due_seconds " in text


async def test_each_attempt_is_logged_with_status_and_latency_never_the_phone(
    postgres: Postgres, store: WebhookStore
) -> None:
    secret = signing.new_secret()
    docs: list[dict[str, Any]] = []
    with receiving(secret, lambda n: (500 if n == 0 else 200, 0.0, {})) as receiver:
        await store.add_endpoint(receiver.url, secret, ["lead.created"])
        stop = asyncio.Event()

        deliverer = Deliverer(store, FAST, on_attempt=docs.append)
        task = asyncio.create_task(deliverer.run(stop))
        (lead,) = await record(postgres, 1)
        await until(lambda: len(receiver.ids()) == 1, 15)
        await until(lambda: len(docs) == 2 and deliverer.counts["delivered"] == 1, 5)  # recorded
        stop.set()
        await task
    assert [d["status"] for d in docs] == [500, 200]
    assert [d["outcome"] for d in docs] == ["retried", "delivered"]
    assert all(d["kind"] == "webhook" and d["latency_ms"] >= 0 and d["attempt"] >= 1 for d in docs)
    assert lead.phone[-7:] not in repr(docs)  # not even part of the number
    assert deliverer.counts == {"retried": 1, "delivered": 1}
