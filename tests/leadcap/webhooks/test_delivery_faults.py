"""Webhook delivery under faults (`nox -s chaos`): a worker SIGKILLed mid-delivery, and a receiver
down for a full 60 s."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from leadcap.stores.postgres import Postgres
from leadcap.stores.postgres.webhooks import WebhookStore
from leadcap.webhooks import signing
from leadcap.webhooks.schedule import LEASE_S
from tests import servers
from tests.leadcap.webhooks.test_delivery import FAST, delivering, record, until
from tests.servers import Process, Stores
from tests.webhook_receiver import Receiver, receiving

pytestmark = pytest.mark.chaos
REDIS_DB = 13  # the killed worker's own Redis database


async def test_a_worker_killed_mid_delivery_loses_nothing(
    postgres: Postgres, store: WebhookStore, webhook_database_url: str, env: dict[str, str],
    stores: Stores, tmp_path: Path,
) -> None:  # fmt: skip
    own = {
        **env,
        "LEADCAP_DATABASE_URL": webhook_database_url,
        "LEADCAP_REDIS_URL": servers.on_db(stores.redis, REDIS_DB),
        "LEADCAP_WEBHOOK_ALLOW_PRIVATE": "true",
        "LEADCAP_WEBHOOK_BACKOFF_CAP_SECONDS": "1",
    }
    secret = signing.new_secret()
    with receiving(secret, lambda _: (200, 1.0, {})) as receiver:  # each answer takes 1 s
        await store.add_endpoint(receiver.url, secret, ["lead.created"])
        await record(postgres, 100)
        victim = Process(("worker",), own, tmp_path / "victim.log").start()
        try:
            await until(lambda: receiver.attempts >= 4, 60)  # sends are in flight now
        finally:
            assert victim.popen
            victim.popen.send_signal(signal.SIGKILL)
            victim.popen.wait()
        killed_at = time.monotonic()
        heir = Process(("worker",), own, tmp_path / "heir.log").start()
        try:
            await until(lambda: len(receiver.ids()) >= 100, LEASE_S + 60)
        finally:
            heir.stop()
    ids = receiver.ids()
    assert len(ids) == 100 and receiver.bad == []
    resent = sum(n - 1 for n in ids.values())
    assert resent <= FAST.webhook_concurrency  # only what was in flight at the kill went twice
    print(
        f"webhook worker SIGKILL: 100/100 delivered, {resent} twice,"
        f" {time.monotonic() - killed_at:.1f}s after"
    )


async def test_a_receiver_down_for_a_minute_gets_everything(postgres: Postgres, store: WebhookStore) -> None:
    secret = signing.new_secret()
    receiver = Receiver(secret).start()
    try:
        await store.add_endpoint(receiver.url, secret, ["lead.created"])
        receiver.stop()
        async with delivering(store, FAST.replace(webhook_backoff_cap_seconds=10)):
            await record(postgres, 200)
            await asyncio.sleep(60)
            assert receiver.received == []
            receiver.start()
            back = time.monotonic()
            await until(lambda: len(receiver.ids()) >= 200, 60)
            print(f"receiver down 60 s: 200/200 delivered {time.monotonic() - back:.1f}s after it came back")
    finally:
        receiver.stop()
    assert receiver.bad == [] and len(receiver.ids()) == 200
