"""What the intake answered, counted in process and added to PostgreSQL about once a second.

A POST only increments a dict entry; the flush is one upsert into `intake_counts` per second per
web process, however many requests came. The keys are bounded (15-minute bucket x outcome x
error.code, and codes come from leadcap's own error family), so even while PostgreSQL is away
the pending counts stay small; they are kept and added on the next successful flush.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

from leadcap.campaign.flushing import PeriodicFlush
from leadcap.errors import StoreError
from leadcap.stores.postgres import Postgres

BUCKET_S = 900  # 15 minutes: every time zone's hours and days are whole buckets
OUTCOMES = ("accepted", "duplicate", "honeypot", "rate_limited", "rejected")

Key = tuple[int, str, str]  # (bucket start, unix seconds), outcome, error.code or ""


def bucket_of(unix_s: float) -> int:
    return int(unix_s) // BUCKET_S * BUCKET_S


class OutcomeCounter(PeriodicFlush):
    """Counts intake outcomes per 15-minute bucket; `flush` adds them to PostgreSQL."""

    what = "intake outcomes"

    def __init__(self, postgres: Postgres) -> None:
        super().__init__()
        self.postgres = postgres
        self._pending: Counter[Key] = Counter()

    def count(self, outcome: str, code: str = "") -> None:
        """Note one answer. Never waits, never raises."""
        self._pending[(bucket_of(time.time()), outcome, code)] += 1

    async def flush(self) -> int:
        """Add the pending counts to `intake_counts` in one statement; keep them on failure."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, Counter()
        rows = sorted(batch.items())  # key order: two processes' upserts cannot deadlock
        try:
            await self.postgres.campaign.add_intake_counts(
                [datetime.fromtimestamp(k[0], UTC) for k, _ in rows],
                [k[1] for k, _ in rows],
                [k[2] for k, _ in rows],
                [n for _, n in rows],
            )
        except StoreError:
            self._pending.update(batch)
            raise
        return sum(batch.values())
