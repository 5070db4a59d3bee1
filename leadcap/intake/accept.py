"""Accepting a lead: rate limit, dedupe and enqueue in one Redis round trip, or the degraded path.

web handler ─► parse + validate (in process) ─► Intake.accept(submission, bucket)
                                          or, for a refused body, Intake.count(bucket)
                  Redis up:   intake.lua → 429 | duplicate | queued (count: 429 | counted)
                  Redis down: local limiter → PostgreSQL directly → 202 | 503
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from leadcap import keys
from leadcap.errors import LeadcapError, RateLimited, StoreError, Unavailable
from leadcap.ids import uuid7
from leadcap.intake.ratelimit import LocalLimiter, Quota
from leadcap.intake.submission import Submission, encode_task
from leadcap.settings import Settings
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis

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

    @property
    def outcome(self) -> str:
        """What the intake did, as the campaign view and the metrics count it: honeypot,
        duplicate or accepted."""
        if self.honeypot:
            return "honeypot"
        return "duplicate" if self.duplicate else "accepted"


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

    async def accept(self, submission: Submission, bucket: str) -> Outcome:
        """Count the request against `bucket`, then queue the submission or explain why not.

        A honeypot submission is counted like any other POST and answered as a new lead would be,
        but never queued. Raises nothing: a store failure becomes Unavailable in the result.
        """
        quota, result = await self._hit(bucket, None if submission.honeypot else submission)
        if result is None:  # counted only: the honeypot, dropped here
            result = Receipt(str(submission.id), submission.phone, honeypot=True)
        return Outcome(quota, result)

    async def count(self, bucket: str) -> tuple[Quota, LeadcapError | None]:
        """Count a request that brought no submission (the caller keeps its own parse error), as
        the contract counts every POST: the error is RateLimited when it is over the limit."""
        quota, result = await self._hit(bucket, None)
        return quota, result if isinstance(result, LeadcapError) else None

    async def _hit(
        self, bucket: str, submission: Submission | None
    ) -> tuple[Quota, Receipt | LeadcapError | None]:
        """Count the request; when allowed and `submission` is given, dedupe and queue it."""
        if time.monotonic() >= self._redis_down_until:
            try:
                return await self._via_redis(bucket, submission)
            except StoreError as exc:
                log.warning("redis unavailable, taking the direct path: %s", exc.reason)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_S
        return await self._direct(bucket, submission)

    async def _via_redis(
        self, bucket: str, submission: Submission | None
    ) -> tuple[Quota, Receipt | LeadcapError | None]:
        allowed, count, age, first = await self.redis.intake.run(
            [
                keys.rate_bucket(bucket),
                keys.dedupe(submission.phone, submission.campaign) if submission else keys.dedupe(""),
                keys.LEAD_STREAM,
            ],
            [
                self._limit,
                self._window_ms,
                str(submission.id if submission else uuid7()),
                "enqueue" if submission else "count",
                self._dedupe_s,
                encode_task(submission.to_message()) if submission else b"",
            ],
        )
        quota = Quota.from_window(
            limit=self.settings.rate_limit.limit,
            count=int(count),
            oldest_age_ms=None if int(age) < 0 else int(age),
            window_s=self.settings.rate_limit.window_s,
        )
        if not int(allowed):
            return quota, _rate_limited(quota)
        if submission is None:
            return quota, None
        if first:
            return quota, Receipt(first.decode(), submission.phone, duplicate=True)
        return quota, Receipt(str(submission.id), submission.phone)

    async def _direct(
        self, bucket: str, submission: Submission | None
    ) -> tuple[Quota, Receipt | LeadcapError | None]:
        allowed, quota = self.local.hit(bucket, time.time_ns() // 1_000_000)
        if not allowed:
            return quota, _rate_limited(quota)
        if submission is None:
            return quota, None
        try:
            async with asyncio.timeout(DIRECT_TIMEOUT_S):
                if self.settings.dedupe_window_s:
                    first = await self.postgres.leads.recent_submission(
                        submission.phone, self.settings.dedupe_window_s, submission.campaign
                    )
                    if first is not None:
                        return quota, Receipt(str(first), submission.phone, duplicate=True, degraded=True)
                await self.postgres.leads.record([submission])
        except (StoreError, TimeoutError) as exc:
            log.error("cannot accept durably: redis and postgres both failed: %s", exc)
            return quota, Unavailable("We cannot take your number right now. Please try again shortly.")
        return quota, Receipt(str(submission.id), submission.phone, degraded=True)


def _rate_limited(quota: Quota) -> RateLimited:
    return RateLimited(
        f"Too many attempts. Please try again in {quota.retry_after} seconds.", retry_after=quota.retry_after
    )
