"""Retention: LEADCAP_LEAD_RETENTION_DAYS erases, once a day, the leads whose last submission is
older than that, with the same reach as `leadcap leads erase`.

Once a day across any number of workers: each worker asks every CHECK_EVERY_S, and
PrivacyStore.claim_run hands the day's run to exactly one of them (an UPDATE of one row that
only succeeds when the last run started a day ago: no lock is held while the job runs).

Never in the intake's way: a batch is BATCH leads, found by an index range (keyset on the last
submission), erased in one short transaction that skips (SKIP LOCKED) a lead a worker is writing
at that moment; that lead got a new submission, so it is no longer old. A worker writing a
submission of a lead in the batch waits for that one transaction at most.

Erasure marks (the hashes that keep in-flight submissions from landing) are pruned here too:
once the lead stream holds nothing accepted before a mark (less an hour for clocks that
disagree), no submission can need it any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from leadcap.privacy.erasure import ERASED_BY_RETENTION, Erased, erase_marked
from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis

log = logging.getLogger(__name__)
JOB = "retention"
DAY_S = 86_400
CHECK_EVERY_S = 3_600  # how often each worker asks whether today's run is still to do
BATCH = 500  # leads per transaction
MARK_SLACK = timedelta(hours=1)  # clocks of web hosts, Redis and PostgreSQL may disagree this much


async def run_once(
    postgres: Postgres,
    redis: Redis,
    mongo: Mongo,
    days: int,
    *,
    batch: int = BATCH,
    now: datetime | None = None,
    shards: Sequence[Redis] = (),
) -> dict[str, object]:
    """Erase every lead whose last submission is more than `days` old, `batch` at a time; prune
    the erasure marks nothing can need. Return what was done (the run's summary)."""
    older_than = (now or datetime.now(UTC)) - timedelta(days=days)
    total = Erased()
    batches = 0
    after = None
    while stale := await postgres.privacy.stale(older_than, after=after, limit=batch):
        phones = [s.phone for s in stale]
        cutoffs = [s.last_submitted_at for s in stale]
        await postgres.privacy.mark(phones, cutoffs)
        erased = await erase_marked(
            postgres,
            redis,
            mongo,
            phones,
            cutoffs,
            by=ERASED_BY_RETENTION,
            older_than=older_than,
            shards=shards,
        )
        total.add(erased)
        batches += 1
        after = stale[-1]
        if len(stale) < batch:
            break
    marks = await prune_marks(postgres, redis, shards=shards)
    return {
        "older_than": older_than.isoformat(),
        "batches": batches,
        "marks_pruned": marks,
        **total.summary(),
    }


async def prune_marks(postgres: Postgres, redis: Redis, *, shards: Sequence[Redis] = ()) -> int:
    """Delete the erasure marks older than anything still waiting in the lead stream (every
    shard's, when the intake has several: a shard that cannot answer stops the pruning)."""
    servers = shards or [redis]
    waiting = [ms for server in servers if (ms := await server.workers.oldest_entry_ms()) is not None]
    oldest_ms = min(waiting) if waiting else None
    horizon = (
        await postgres.privacy.now() if oldest_ms is None else datetime.fromtimestamp(oldest_ms / 1000, UTC)
    )
    return await postgres.privacy.forget_marks(horizon - MARK_SLACK)


async def daily(
    postgres: Postgres,
    redis: Redis,
    mongo: Mongo,
    days: int,
    stop: asyncio.Event,
    *,
    shards: Sequence[Redis] = (),
) -> None:
    """The worker's retention loop: run the job when this worker wins the day's claim."""
    while not stop.is_set():
        try:
            if await postgres.privacy.claim_run(JOB, DAY_S, lease_s=CHECK_EVERY_S):
                summary = await run_once(postgres, redis, mongo, days, shards=shards)
                await postgres.privacy.finish_run(JOB, summary)
                log.info("retention erased %s leads in %s batches", summary["leads"], summary["batches"])
        except Exception as exc:  # noqa: BLE001 - unfinished: taken again after the lease
            log.warning("retention run failed: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), CHECK_EVERY_S)
