"""Accepting a lead: rate limit, dedupe and enqueue in one Redis round trip, or the degraded path.

web handler ─► parse + validate (in process) ─► Intake.accept(parsed, bucket)
                  Redis up:   intake.lua → 429 | duplicate | queued
                  Redis down: local limiter → PostgreSQL directly → 202 | 503
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from leadcap import keys
from leadcap.broker import encode_task
from leadcap.errors import LeadcapError, RateLimited, RequestError, StoreError, Unavailable
from leadcap.ids import uuid7
from leadcap.ratelimit import LocalLimiter, Quota
from leadcap.settings import Settings
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from leadcap.submission import Submission

log = logging.getLogger(__name__)
REDIS_RETRY_S = 1.0  # after a Redis failure, skip it this long instead of paying its timeout
DIRECT_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class Receipt:
    """The 202 body: the submission id (the first one, for a duplicate) and the E.164 phone."""

    id: str
    phone: str
    duplicate: bool = False
    degraded: bool = False
    honeypot: bool = False  # answered like any other, then dropped

    def body(self) -> dict[str, object]:
        return {"id": self.id, "status": "queued", "phone": self.phone, "duplicate": self.duplicate}


@dataclass(frozen=True, slots=True)
class Outcome:
    quota: Quota
    result: Receipt | LeadcapError


class Intake:
    def __init__(self, settings: Settings, *, redis: Redis, postgres: Postgres) -> None:
        self.settings = settings
        self.redis = redis
        self.postgres = postgres
        self.local = LocalLimiter(limit=settings.rate_limit.limit, window_s=settings.rate_limit.window_s)
        self._limit = str(settings.rate_limit.limit)
        self._window_ms = str(settings.rate_limit.window_s * 1000)
        self._dedupe_s = str(settings.dedupe_window_s)
        self._redis_down_until = 0.0

    async def accept(self, parsed: Submission | RequestError, bucket: str) -> Outcome:
        """Count the request against `bucket`, then queue the submission or explain why not."""
        if time.monotonic() >= self._redis_down_until:
            try:
                return await self._via_redis(parsed, bucket)
            except StoreError as exc:
                log.warning("redis unavailable, taking the direct path: %s", exc.reason)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_S
        return await self._direct(parsed, bucket)

    async def count(self, bucket: str) -> Quota:
        """Count one request against `bucket` (same limit as the lead POST); raise RateLimited
        when over it, StoreError when Redis is away. For the verify and resend endpoints."""
        allowed, count, age, _ = await self.redis.intake(
            [keys.rate_bucket(bucket), keys.dedupe(""), keys.LEAD_STREAM],
            [self._limit, self._window_ms, str(uuid7()), "count", self._dedupe_s, b""],
        )
        quota = Quota.from_window(
            limit=self.settings.rate_limit.limit,
            count=int(count),
            oldest_age_ms=None if int(age) < 0 else int(age),
            window_s=self.settings.rate_limit.window_s,
        )
        if not int(allowed):
            raise _rate_limited(quota)
        return quota

    async def _via_redis(self, parsed: Submission | RequestError, bucket: str) -> Outcome:
        enqueue = isinstance(parsed, Submission) and not parsed.honeypot
        request_id = parsed.id if isinstance(parsed, Submission) else uuid7()
        phone = parsed.phone if isinstance(parsed, Submission) else ""
        payload = encode_task(parsed.to_message()) if enqueue else b""  # type: ignore[union-attr]
        allowed, count, age, first = await self.redis.intake(
            [keys.rate_bucket(bucket), keys.dedupe(phone), keys.LEAD_STREAM],
            [
                self._limit,
                self._window_ms,
                str(request_id),
                "enqueue" if enqueue else "count",
                self._dedupe_s,
                payload,
            ],
        )
        quota = Quota.from_window(
            limit=self.settings.rate_limit.limit,
            count=int(count),
            oldest_age_ms=None if int(age) < 0 else int(age),
            window_s=self.settings.rate_limit.window_s,
        )
        if not int(allowed):
            return Outcome(quota, _rate_limited(quota))
        if not isinstance(parsed, Submission):
            return Outcome(quota, parsed)
        if parsed.honeypot:
            return Outcome(quota, Receipt(str(parsed.id), parsed.phone, honeypot=True))
        if first:
            return Outcome(quota, Receipt(first.decode(), parsed.phone, duplicate=True))
        return Outcome(quota, Receipt(str(parsed.id), parsed.phone))

    async def _direct(self, parsed: Submission | RequestError, bucket: str) -> Outcome:
        allowed, quota = self.local.hit(bucket, time.time_ns() // 1_000_000)
        if not allowed:
            return Outcome(quota, _rate_limited(quota))
        if not isinstance(parsed, Submission):
            return Outcome(quota, parsed)
        if parsed.honeypot:
            return Outcome(quota, Receipt(str(parsed.id), parsed.phone, honeypot=True))
        try:
            async with asyncio.timeout(DIRECT_TIMEOUT_S):
                if self.settings.dedupe_window_s:
                    first = await self.postgres.recent_submission(parsed.phone, self.settings.dedupe_window_s)
                    if first is not None:
                        return Outcome(
                            quota, Receipt(str(first), parsed.phone, duplicate=True, degraded=True)
                        )
                await self.postgres.record([parsed])
        except (StoreError, TimeoutError) as exc:
            log.error("cannot accept durably: redis and postgres both failed: %s", exc)
            return Outcome(
                quota, Unavailable("We cannot take your number right now. Please try again shortly.")
            )
        return Outcome(quota, Receipt(str(parsed.id), parsed.phone, degraded=True))


def _rate_limited(quota: Quota) -> RateLimited:
    return RateLimited(
        f"Too many attempts. Please try again in {quota.retry_after} seconds.", retry_after=quota.retry_after
    )
