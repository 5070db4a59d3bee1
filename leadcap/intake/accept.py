"""Accepting a lead: rate limit, dedupe and enqueue in one Redis round trip, or the degraded path.

web handler ─► parse + validate (in process) ─► Intake.accept(submission, windows)
                                          or, for a refused body, Intake.count(windows)
(`windows`: the visitor's and its address's shared ceiling, or the address alone; see visitor.py)
                  Redis up:   intake.lua → 429 | duplicate | queued (count: 429 | counted)
                  Redis down: local limiter → PostgreSQL directly → 202 | 503

With several Redis servers (shards, leadcap/intake/shard.py) the client's windows are counted on
the shard of its address bucket and the phone is deduped and queued on the phone's shard: one
round trip when both are the same shard, else two (limits first, so a refused POST costs one).
Each shard that fails is skipped for REDIS_RETRY_S on its own: its clients are limited in
process, its phones go straight to PostgreSQL, and the other shards carry on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from leadcap import keys
from leadcap.errors import LeadcapError, RateLimited, StoreError, Unavailable
from leadcap.ids import uuid7
from leadcap.intake import shard
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
    def __init__(self, settings: Settings, *, shards: Sequence[Redis], postgres: Postgres) -> None:
        self.settings = settings
        self.shards = tuple(shards)
        self.postgres = postgres
        self.local = LocalLimiter()
        self._dedupe_s = str(settings.dedupe_window_s)
        self._down_until = [0.0] * len(self.shards)  # per shard: skip it until then

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
        n = len(self.shards)
        # The address bucket (the last window: the address alone, or the shared ceiling a
        # visitor's window counts beside) picks the shard, so every visitor behind one address
        # meets the same ceiling.
        limits = shard.of(windows[-1].bucket, n)
        owner = limits if submission is None else shard.of(submission.phone, n)
        if owner == limits:  # one server, or both keys on one: a single round trip
            return await self._counted(limits, windows, submission)
        quota, refused = await self._counted(limits, windows, None)
        if refused is not None or submission is None:
            return quota, refused
        return quota, await self._queued(owner, submission)

    def _usable(self, index: int) -> bool:
        return time.monotonic() >= self._down_until[index]

    def _failed(self, index: int, exc: StoreError) -> None:
        log.warning("%s unavailable, taking the direct path: %s", shard.name(index), exc.reason)
        self._down_until[index] = time.monotonic() + REDIS_RETRY_S

    async def _counted(
        self, index: int, windows: tuple[Window, ...], submission: Submission | None
    ) -> tuple[Quota, Receipt | LeadcapError | None]:
        """Count on shard `index` (and queue `submission` there), or in process and PostgreSQL."""
        if self._usable(index):
            try:
                return await self._via_redis(self.shards[index], windows, submission)
            except StoreError as exc:
                self._failed(index, exc)
        return await self._direct(windows, submission)

    async def _queued(self, index: int, submission: Submission) -> Receipt | LeadcapError:
        """Dedupe and queue an already counted submission on its phone's shard `index`, or
        straight into PostgreSQL while that shard is away."""
        if self._usable(index):
            try:
                first = (await self.shards[index].intake.run(*self._script(submission, ())))[3]
            except StoreError as exc:
                self._failed(index, exc)
            else:
                if first:
                    return Receipt(first.decode(), submission.phone, duplicate=True)
                return Receipt(str(submission.id), submission.phone)
        return await self._direct_queue(submission)

    def _script(
        self, submission: Submission | None, windows: tuple[Window, ...]
    ) -> tuple[list[str], list[str | bytes]]:
        """intake.lua's keys and arguments for `submission` (None: count only) in `windows`."""
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
        return script_keys, args

    async def _via_redis(
        self, redis: Redis, windows: tuple[Window, ...], submission: Submission | None
    ) -> tuple[Quota, Receipt | LeadcapError | None]:
        allowed, count, age, first, refused, refused_age = await redis.intake.run(
            *self._script(submission, windows)
        )
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
        return quota, await self._direct_queue(submission)

    async def _direct_queue(self, submission: Submission) -> Receipt | LeadcapError:
        """Dedupe against and write into PostgreSQL, skipping Redis (the degraded path)."""
        try:
            async with asyncio.timeout(DIRECT_TIMEOUT_S):
                if self.settings.dedupe_window_s:
                    first = await self.postgres.leads.recent_submission(
                        submission.phone, self.settings.dedupe_window_s, submission.campaign
                    )
                    if first is not None:
                        return Receipt(str(first), submission.phone, duplicate=True, degraded=True)
                await self.postgres.leads.record([submission])
        except (StoreError, TimeoutError) as exc:
            log.error("cannot accept durably: redis and postgres both failed: %s", exc)
            return Unavailable("We cannot take your number right now. Please try again shortly.")
        return Receipt(str(submission.id), submission.phone, degraded=True)


def _rate_limited(counted: Verdict, windows: tuple[Window, ...]) -> RateLimited:
    wait = counted.retry_after
    return RateLimited(
        f"Too many attempts. Please try again in {wait} seconds.",
        retry_after=wait,
        window=windows[counted.refused - 1].kind,
    )
