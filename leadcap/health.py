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

CHECK_TIMEOUT_S = 1.5  # the whole report must come back within 2 s even if a store hangs
CRITICAL = ("postgres", "redis")  # without these a 202 cannot be kept: status "down"
EXIT_CODES = {"ok": 0, "degraded": 1, "down": 2}
NOT_CONFIGURED = "not configured"


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


async def _store(services: Services, store: str) -> dict[str, Any]:
    """One store's check; a store with no URL (the CLI opens only those it has) is down."""
    if not services.has(store):
        return {"status": "down", "error": NOT_CONFIGURED}
    ping: Awaitable[float] = getattr(services, store).ping()
    return await _timed(ping)


async def report(services: Services) -> dict[str, Any]:
    """The contract's health JSON. Never enqueues anything: workers are seen by heartbeat."""
    no_redis = {"status": "down", "count": 0, "last_seen_s": None, "error": NOT_CONFIGURED}
    postgres, redis, mongo, workers = await asyncio.gather(
        _store(services, "postgres"),
        _store(services, "redis"),
        _store(services, "mongo"),
        _workers(services.redis) if services.has("redis") else asyncio.sleep(0, no_redis),
    )
    checks = {"postgres": postgres, "redis": redis, "mongo": mongo, "workers": workers}
    if any(checks[name]["status"] != "ok" for name in CRITICAL):
        status = "down"
    elif any(check["status"] != "ok" for check in checks.values()):
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "version": __version__, "checks": checks}
