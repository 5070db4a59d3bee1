"""Health: every store and the workers checked at once, each under its own timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from leadcap import __version__, keys
from leadcap.errors import StoreError
from leadcap.services import Services
from leadcap.stores.redis import Redis, translated
from leadcap.webhooks.store import WebhookStore

CHECK_TIMEOUT_S = 1.5  # the whole report must come back within 2 s even if a store hangs
CRITICAL = ("postgres", "redis")  # without these a 202 cannot be kept: status "down"
EXIT_CODES = {"ok": 0, "degraded": 1, "down": 2}


async def _timed(check: Awaitable[float]) -> dict[str, Any]:
    try:
        latency = await asyncio.wait_for(check, CHECK_TIMEOUT_S)
    except TimeoutError:
        return {"status": "down", "error": f"no answer within {CHECK_TIMEOUT_S}s"}
    except StoreError as exc:
        return {"status": "down", "error": exc.reason[:200]}
    return {"status": "ok", "latency_ms": round(latency, 2)}


async def worker_heartbeats(redis: Redis) -> tuple[int, float | None]:
    """How many workers published a heartbeat recently, and how long ago the latest did."""
    async with translated("reading heartbeats"):
        names = [name async for name in redis.client.scan_iter(match=keys.WORKER_HEARTBEAT + "*", count=500)]
        beats = await redis.client.mget(names) if names else []
    seen = [float(b) for b in beats if b is not None]
    if not seen:
        return 0, None
    return len(seen), round(max(0.0, time.time() - max(seen)), 1)


async def _workers(redis: Redis) -> dict[str, Any]:
    try:
        count, last_seen = await asyncio.wait_for(worker_heartbeats(redis), CHECK_TIMEOUT_S)
    except (TimeoutError, StoreError) as exc:
        reason = exc.reason if isinstance(exc, StoreError) else "no answer from redis"
        return {"status": "down", "count": 0, "last_seen_s": None, "error": reason[:200]}
    if count == 0:
        return {"status": "down", "count": 0, "last_seen_s": last_seen, "error": "no worker heartbeat"}
    return {"status": "ok", "count": count, "last_seen_s": last_seen}


async def _webhooks(services: Services) -> dict[str, Any]:
    """The outbox backlog; down (so the whole report degraded) when a due delivery has waited
    longer than LEADCAP_WEBHOOK_MAX_LAG_SECONDS: no worker is delivering, or one is far behind."""
    try:
        figures = await asyncio.wait_for(WebhookStore(services.postgres).figures(), CHECK_TIMEOUT_S)
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


async def report(services: Services) -> dict[str, Any]:
    """The contract's health JSON. Never enqueues anything: workers are seen by heartbeat."""
    postgres, redis, mongo, workers, webhooks = await asyncio.gather(
        _timed(services.postgres.ping()),
        _timed(services.redis.ping()),
        _timed(services.mongo.ping()),
        _workers(services.redis),
        _webhooks(services),
    )
    checks = {"postgres": postgres, "redis": redis, "mongo": mongo, "workers": workers, "webhooks": webhooks}
    if any(checks[name]["status"] != "ok" for name in CRITICAL):
        status = "down"
    elif any(check["status"] != "ok" for check in checks.values()):
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "version": __version__, "checks": checks}
