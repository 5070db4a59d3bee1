"""Running the lead worker: the read loop (consume.py), the group-commit writer and the heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from functools import partial
from typing import Any

from leadcap import keys, retry
from leadcap.errors import StoreError
from leadcap.groupcommit import GroupCommit
from leadcap.intake import phone
from leadcap.intake.submission import Submission
from leadcap.notify import channels
from leadcap.ops import deadletters, health
from leadcap.ops.services import Services, require_url
from leadcap.privacy import retention
from leadcap.settings import Settings
from leadcap.stores.redis import Redis
from leadcap.webhooks.delivery import Deliverer
from leadcap.worker.broker import LeadStreamBroker
from leadcap.worker.consume import Consumer
from leadcap.worker.tasks import Bury, lead_task

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_S = 30  # in-flight tasks get this long on SIGTERM; the rest stay pending
# Under load, a write batch waits up to this long to fill (GroupCommit linger_s): on a drain,
# batches of ~25 leads become ~80 and the worker's CPU per lead falls by ~15%; at rest a lead
# is still written at once, and under load it waits at most this much longer.
WRITE_LINGER_S = 0.003
# Taskiq's receiver logs "Executing task … with ID …" at INFO for every message: one JSON line
# per lead, ~70 µs of worker CPU per lead at LEADCAP_LOG_LEVEL=INFO. Unless LOG_LEVEL=DEBUG,
# only its warnings and errors are logged.
_RECEIVER_LOG = logging.getLogger("taskiq.receiver.receiver")


def make_brokers(settings: Settings, writer: GroupCommit[Submission], bury: Bury) -> list[LeadStreamBroker]:
    """One broker per Redis server the intake is sharded over (one, usually), each with the lead
    task (writing through the one `writer`) registered on it: each reads, reclaims and acks its
    own server's stream."""
    require_url(settings, "redis")
    brokers = []
    for url in settings.redis_urls:
        broker = LeadStreamBroker(url, reclaim_idle_s=settings.reclaim_idle_s)
        broker.register_task(lead_task(writer, bury), task_name=keys.TASK_NAME)
        broker.is_worker_process = True
        brokers.append(broker)
    return brokers


async def _drain(broker: LeadStreamBroker, consumer: Consumer, stop: asyncio.Event) -> None:
    """Consume one shard's stream until `stop`, reconnecting after a failure (that shard's
    alone: the others go on), then finish what is in hand."""
    attempt = 0
    while not stop.is_set():
        try:
            await broker.startup()  # declares the consumer group (from id 0)
            attempt = 0
            await consumer.run(stop)
        except Exception as exc:  # noqa: BLE001 - Redis went away: wait, reconnect, go on
            attempt += 1
            delay = retry.delay(attempt, base=0.2, cap=5.0)
            log.warning("worker lost the broker (%s); reconnecting in %.1fs", exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    await consumer.finish(SHUTDOWN_GRACE_S)


async def _heartbeat(redis: Redis, name: str, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await health.beat(redis, name)
        except Exception as exc:  # noqa: BLE001 - a missed beat must never stop the worker
            log.warning("heartbeat failed: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), keys.HEARTBEAT_EVERY_S)
    with contextlib.suppress(Exception):  # best effort: the beat goes stale anyway
        await health.forget(redis, name)


async def _count_webhooks(redis: Redis, deliverer: Deliverer, stop: asyncio.Event) -> None:
    """Add this worker's webhook outcomes to the shared counters (metrics), once a second."""
    published: dict[str, int] = {}
    while True:
        stopping = stop.is_set()
        delta = {k: v - published.get(k, 0) for k, v in deliverer.counts.items() if v > published.get(k, 0)}
        if delta:
            try:
                await redis.webhooks.add_outcomes(delta)
                published.update({k: published.get(k, 0) + n for k, n in delta.items()})
            except Exception as exc:  # noqa: BLE001 - counters are best effort; delivery goes on
                log.warning("webhook counters not published: %s", exc)
        if stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def _report(services: Services, batch: Sequence[Submission], *, state: str) -> None:
    """Bookkeeping after a commit (or a refusal): request-log task states and shared counters."""
    services.request_log.task_state((str(s.id) for s in batch), state)
    key = keys.STATS_PROCESSED if state == "done" else keys.STATS_FAILED
    await services.redis.workers.count(key, len(batch))


async def run_worker(settings: Settings, *, concurrency: int | None = None) -> None:
    """Consume the lead stream until SIGTERM/SIGINT, then finish in-flight tasks and return."""
    phone.warm_up({settings.default_region, *(settings.allowed_regions or ())}, with_carriers=True)
    if not _RECEIVER_LOG.isEnabledFor(logging.DEBUG):
        _RECEIVER_LOG.setLevel(logging.WARNING)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    services = await Services.open(settings, pg_pool_size=7)  # 4 leads, 2 webhooks, 1 retention
    services.request_log.start()

    async def failed(item: Submission) -> None:
        await _report(services, [item], state="failed")

    async def bury(message: dict[str, Any], error: str) -> None:
        await deadletters.bury(services.postgres, services.redis, message, error, shards=services.shards)
        services.request_log.task_state([str(message.get("id"))], "dead_letter")

    async def refused(item: Submission, exc: StoreError) -> None:
        await bury(item.to_message(), exc.reason)

    writer: GroupCommit[Submission] = GroupCommit(
        services.postgres.leads.record,
        max_batch=settings.worker_batch_size,
        on_written=partial(_report, services, state="done"),
        on_failed=failed,
        on_refused=refused,
        linger_s=WRITE_LINGER_S,
    )
    brokers = make_brokers(settings, writer, bury)
    beat = asyncio.create_task(_heartbeat(services.redis, brokers[0].consumer_name, stop))
    deliverer = Deliverer(
        services.postgres.webhooks,
        settings,
        on_attempt=services.request_log.record,
        transports=channels.transports(settings),  # Telegram, Bale and email ride the same loop
    )
    delivering = asyncio.create_task(deliverer.run(stop))
    counting = asyncio.create_task(_count_webhooks(services.redis, deliverer, stop))
    keeping = asyncio.create_task(
        retention.daily(
            services.postgres,
            services.redis,
            services.mongo,
            settings.lead_retention_days,
            stop,
            shards=services.shards,
        )
        if settings.lead_retention_days
        else stop.wait()
    )
    log.info(
        "worker %s consuming %s on %d server(s)", brokers[0].consumer_name, keys.LEAD_STREAM, len(brokers)
    )
    # Each shard gets an equal part of the concurrency (at least one batch in hand each).
    capacity = max(1, (concurrency or settings.worker_concurrency) // len(brokers))
    consumers = [
        Consumer(broker, writer, capacity=capacity, read_count=settings.worker_batch_size // 2)
        for broker in brokers
    ]
    try:
        await asyncio.gather(*(_drain(b, c, stop) for b, c in zip(brokers, consumers, strict=True)))
    finally:
        stop.set()
        await beat
        await delivering
        await counting
        await keeping
        for broker in brokers:
            await broker.shutdown()
        await services.close()
        log.info("worker stopped after %d leads in %d batches", writer.written, writer.batches)
