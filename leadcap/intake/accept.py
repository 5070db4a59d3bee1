"""Accepting a lead: rate limit, dedupe and enqueue in one Redis round trip, or the degraded path.

web handler ─► parse + validate (in process) ─► Intake.accept(submission, windows)
                                          or, for a refused body, Intake.count(windows)
(`windows`: the visitor's and its address's shared ceiling, or the address alone; see visitor.py)
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
from leadcap.intake.ratelimit import LocalLimiter, Quota, Verdict, verdict
from leadcap.intake.submission import Submission, encode_task
from leadcap.intake.visitor import Window
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
        self.local = LocalLimiter()
        self._dedupe_s = str(settings.dedupe_window_s)
        self._redis_down_until = 0.0

    async def accept(self, submission: Submission, windows: tuple[Window, ...]) -> Outcome:
        """Count the request in its `windows`, then queue the submission or explain why not.

        A honeypot submission is counted like any other POST and answered as a new lead would be,
        but never queued. Raises nothing: a store failure becomes Unavailable in the result.
        """
        quota, result = await self._hit(windows, None if submission.honeypot else submission)
        if result is None:  # counted only: the honeypot, dropped here
            result = Receipt(str(submission.id), submission.phone, honeypot=True)
        return Outcome(quota, result)

    async def count(self, windows: tuple[Window, ...]) -> tuple[Quota, LeadcapError | None]:
        """Count a request that brought no submission (the caller keeps its own parse error), as
        the contract counts every POST: the error is RateLimited when it is over the limit."""
        quota, result = await self._hit(windows, None)
        return quota, result if isinstance(result, LeadcapError) else None

    async def _hit(
        self, windows: tuple[Window, ...], submission: Submission | None
    ) -> tuple[Quota, Receipt | LeadcapError | None]:
        """Count the request; when allowed and `submission` is given, dedupe and queue it."""
        if time.monotonic() >= self._redis_down_until:
            try:
                return await self._via_redis(windows, submission)
            except StoreError as exc:
                log.warning("redis unavailable, taking the direct path: %s", exc.reason)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_S
        return await self._direct(windows, submission)

    async def _via_redis(
        self, windows: tuple[Window, ...], submission: Submission | None
    ) -> tuple[Quota, Receipt | LeadcapError | None]:
        script_keys = [
            keys.dedupe(submission.phone, submission.campaign) if submission else keys.dedupe(""),
            keys.LEAD_STREAM,
        ]
        args: list[str | bytes] = [
            str(submission.id if submission else uuid7()),
            "enqueue" if submission else "count",
            self._dedupe_s,
            encode_task(submission.to_message()) if submission else b"",
        ]
        for window in windows:
            script_keys.append(keys.rate_bucket(window.bucket))
            args += [str(window.limit.limit), str(window.limit.window_s * 1000)]
        allowed, count, age, first, refused, refused_age = await self.redis.intake.run(script_keys, args)
        counted = verdict(
            [w.limit for w in windows],
            count=int(count),
            age_ms=None if int(age) < 0 else int(age),
            refused=int(refused),
            refused_age_ms=None if int(refused_age) < 0 else int(refused_age),
        )
        if not int(allowed):
            return counted.quota, _rate_limited(counted, windows)
        if submission is None:
            return counted.quota, None
        if first:
            return counted.quota, Receipt(first.decode(), submission.phone, duplicate=True)
        return counted.quota, Receipt(str(submission.id), submission.phone)

    async def _direct(
        self, windows: tuple[Window, ...], submission: Submission | None
    ) -> tuple[Quota, Receipt | LeadcapError | None]:
        counted = self.local.hit([(w.bucket, w.limit) for w in windows], time.time_ns() // 1_000_000)
        quota = counted.quota
        if counted.refused:
            return quota, _rate_limited(counted, windows)
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


def _rate_limited(counted: Verdict, windows: tuple[Window, ...]) -> RateLimited:
    wait = counted.retry_after
    return RateLimited(
        f"Too many attempts. Please try again in {wait} seconds.",
        retry_after=wait,
        window=windows[counted.refused - 1].kind,
    )
