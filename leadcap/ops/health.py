"""Health: every store and the workers checked at once, each under its own timeout.

The report is public (GET /api/health/), so a failing check says only what kind of failure it
was (`timeout`, `refused`, `auth`, `not configured`, else `error`): never a driver's message, a
host or a port. Operators find the full reason in the server log.

Workers are seen through heartbeats in one sorted set (member: the worker's consumer name, score:
the time of its latest beat), so a check costs two O(log n) reads in one round trip, whatever
else Redis holds: no keyspace scan on the thread the intake shares.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from leadcap import __version__, keys
from leadcap.errors import StoreError
from leadcap.intake import shard
from leadcap.ops.services import Services
from leadcap.privacy import retention
from leadcap.stores import failure
from leadcap.stores.redis import Redis

log = logging.getLogger(__name__)
CHECK_TIMEOUT_S = 1.5  # the whole report must come back within 2 s even if a store hangs
EXIT_CODES = {"ok": 0, "degraded": 1, "down": 2}
RETENTION_LATE_S = 2 * 86_400  # no retention run finished for this long: the job is stuck
CACHE_S = 1.0  # a burst of health probes (load balancers, scrapers) costs one check a second


def _failed(name: str, exc: BaseException) -> str:
    """The category of a failed check; the full reason goes to the log only."""
    reason = exc.reason if isinstance(exc, StoreError) else type(exc).__name__
    log.warning("health: %s check failed: %s", name, reason)
    return failure.TIMEOUT if isinstance(exc, TimeoutError) else failure.category(exc)


async def _timed(name: str, check: Awaitable[float]) -> dict[str, Any]:
    try:
        latency = await asyncio.wait_for(check, CHECK_TIMEOUT_S)
    except (TimeoutError, StoreError) as exc:
        return {"status": "down", "error": _failed(name, exc)}
    return {"status": "ok", "latency_ms": round(latency, 2)}


async def beat(redis: Redis, name: str) -> None:
    """Publish one worker's heartbeat, and forget workers silent for longer than the TTL."""
    await redis.workers.beat(name, time.time())


async def forget(redis: Redis, name: str) -> None:
    """Withdraw a stopping worker's heartbeat at once (it would drop out after the TTL anyway)."""
    await redis.workers.forget_beat(name)


async def worker_heartbeats(redis: Redis) -> tuple[int, float | None]:
    """How many workers published a heartbeat recently, and how long ago the latest did."""
    now = time.time()
    count, latest = await redis.workers.heartbeats(since=now - keys.HEARTBEAT_TTL_S)
    if latest is None:
        return 0, None
    return count, round(max(0.0, now - latest), 1)


async def _workers(redis: Redis) -> dict[str, Any]:
    try:
        count, last_seen = await asyncio.wait_for(worker_heartbeats(redis), CHECK_TIMEOUT_S)
    except (TimeoutError, StoreError) as exc:
        return {"status": "down", "count": 0, "last_seen_s": None, "error": _failed("workers", exc)}
    if count == 0:
        return {"status": "down", "count": 0, "last_seen_s": last_seen, "error": "no worker heartbeat"}
    return {"status": "ok", "count": count, "last_seen_s": last_seen}


async def _store(services: Services, store: str) -> dict[str, Any]:
    """One store's check; a store with no URL (the CLI opens only those it has) is down."""
    if not services.has(store):
        return {"status": "down", "error": failure.NOT_CONFIGURED}
    ping: Awaitable[float] = getattr(services, store).ping()
    return await _timed(store, ping)


async def _webhooks(services: Services) -> dict[str, Any]:
    """The outbox backlog; down (so the whole report degraded) when a due delivery has waited
    longer than LEADCAP_WEBHOOK_MAX_LAG_SECONDS: no worker is delivering, or one is far behind."""
    if not services.has("postgres"):
        return {"status": "down", "error": failure.NOT_CONFIGURED}
    try:
        figures = await asyncio.wait_for(services.postgres.webhooks.figures(), CHECK_TIMEOUT_S)
    except (TimeoutError, StoreError):
        return {"status": "down", "error": "outbox unreadable"}
    check: dict[str, Any] = {
        "status": "ok",
        "pending": int(figures["pending"]),
        "due": int(figures["due"]),
        "oldest_due_s": round(figures["oldest_due_s"], 1),
    }
    if figures["oldest_due_s"] > services.settings.webhook_max_lag_seconds:
        check.update(status="down", error="deliveries behind")
    return check


async def _retention(services: Services) -> dict[str, Any]:
    """The daily retention run (only with LEADCAP_LEAD_RETENTION_DAYS): when it last finished and
    what it erased; down (the report degraded) once no run has finished for RETENTION_LATE_S."""
    try:
        last = await asyncio.wait_for(services.postgres.privacy.last_run(retention.JOB), CHECK_TIMEOUT_S)
    except (TimeoutError, StoreError):
        return {"status": "down", "error": "runs unreadable"}
    if last is None:
        return {"status": "ok", "last_run_at": None, "leads": 0}
    finished = last["finished_at"]
    since = finished or last["started_at"]
    check: dict[str, Any] = {
        "status": "ok",
        "last_run_at": finished.isoformat() if finished else None,
        "leads": int(last["summary"].get("leads", 0)),
    }
    if since is not None and (datetime.now(UTC) - since).total_seconds() > RETENTION_LATE_S:
        check.update(status="down", error="retention behind")
    return check


async def report(services: Services) -> dict[str, Any]:
    """The contract's health JSON. Never enqueues anything: workers are seen by heartbeat."""
    no_redis = {"status": "down", "count": 0, "last_seen_s": None, "error": failure.NOT_CONFIGURED}
    retaining = services.settings.lead_retention_days and services.has("postgres")
    postgres, mongo, workers, webhooks, kept, *shards = await asyncio.gather(
        _store(services, "postgres"),
        _store(services, "mongo"),
        _workers(services.redis) if services.has("redis") else asyncio.sleep(0, no_redis),
        _webhooks(services),
        _retention(services) if retaining else asyncio.sleep(0, None),
        *(
            [_timed(shard.name(i), server.ping()) for i, server in enumerate(services.shards)]
            if services.has("redis")
            else [_store(services, "redis")]
        ),
    )
    redis = {shard.name(i): check for i, check in enumerate(shards)}
    checks = {"postgres": postgres, **redis, "mongo": mongo, "workers": workers, "webhooks": webhooks}
    if kept is not None:
        checks["retention"] = kept
    # Without PostgreSQL, or without every Redis server, a 202 cannot be kept: "down". One shard
    # of several down is "degraded": its phones take the direct path to PostgreSQL.
    if postgres["status"] != "ok" or all(check["status"] != "ok" for check in redis.values()):
        status = "down"
    elif any(check["status"] != "ok" for check in checks.values()):
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "version": __version__, "checks": checks}


def ready(report: dict[str, Any]) -> bool:
    """Whether this process can accept a lead durably now (GET /api/health/ready): through Redis,
    or, with Redis away, straight into PostgreSQL (leadcap/intake/accept.py's direct path). So only both
    down is not ready; MongoDB, the workers and webhooks never matter to a 202. A `redis-N` check
    (one per server when several share the intake) counts as Redis: a phone whose server is
    away takes the direct path, so PostgreSQL down as well makes the process unready."""
    checks = report["checks"]
    redis_up = all(check["status"] == "ok" for name, check in checks.items() if _is_redis(name))
    return redis_up or checks["postgres"]["status"] == "ok"


def _is_redis(name: str) -> bool:
    return name == "redis" or name.startswith("redis-")


def readiness(report: dict[str, Any]) -> dict[str, Any]:
    """The body of GET /api/health/ready: the verdict and the checks it rests on."""
    checks = {
        name: check for name, check in report["checks"].items() if name == "postgres" or _is_redis(name)
    }
    return {"status": "ok" if ready(report) else "down", "checks": checks}


class CachedReport:
    """One process's health report, reused for `max_age_s`. Callers arriving while a check runs
    wait for that check rather than starting their own, so the stores see at most one check per
    process per `max_age_s`, however many probes come."""

    def __init__(self, *, max_age_s: float = CACHE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s = max_age_s
        self.clock = clock
        self._report: dict[str, Any] | None = None
        self._made_at = 0.0
        self._running: asyncio.Task[dict[str, Any]] | None = None

    async def get(self, services: Services) -> dict[str, Any]:
        if self._report is not None and self.clock() - self._made_at < self.max_age_s:
            return self._report
        if self._running is None:
            self._running = asyncio.create_task(self._check(services))
        # shielded: a probe that hangs up must not cancel the check the others wait for
        return await asyncio.shield(self._running)

    async def _check(self, services: Services) -> dict[str, Any]:
        try:
            self._report = await report(services)
            self._made_at = self.clock()
            return self._report
        finally:
            self._running = None
