"""Sliding-window rate limit arithmetic and headers. The counting itself runs in Redis (intake.lua)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from leadcap.settings import RateLimit


@dataclass(frozen=True, slots=True)
class Quota:
    """Where a client stands after this request, as the RateLimit-* headers report it."""

    limit: int
    remaining: int
    reset_s: int  # seconds until the oldest counted request leaves the window

    @classmethod
    def from_window(cls, *, limit: int, count: int, oldest_age_ms: int | None, window_s: int) -> Quota:
        """Quota from the number of requests in the window and the age of the oldest one."""
        return cls(limit=limit, remaining=max(0, limit - count), reset_s=reset_s(oldest_age_ms, window_s))

    @property
    def retry_after(self) -> int:
        """Whole seconds a refused client should wait: never 0, which would invite a retry storm."""
        return max(1, self.reset_s)

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }


def reset_s(age_ms: int | None, window_s: int) -> int:
    """Seconds until the oldest counted request (`age_ms` old) leaves its window."""
    return 0 if age_ms is None else math.ceil(max(0, window_s * 1000 - age_ms) / 1000)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One request counted in its windows: the first window's quota (the headers), and the index
    (1-based) of the window that refused it, 0 when none did, with that window's wait."""

    quota: Quota
    refused: int = 0
    retry_after: int = 0


def verdict(
    limits: Sequence[RateLimit], *, count: int, age_ms: int | None, refused: int, refused_age_ms: int | None
) -> Verdict:
    """The Verdict of the figures a count gave (Redis's or the local one)."""
    first = limits[0]
    quota = Quota.from_window(limit=first.limit, count=count, oldest_age_ms=age_ms, window_s=first.window_s)
    if not refused:
        return Verdict(quota)
    wait = max(1, reset_s(refused_age_ms, limits[refused - 1].window_s))
    return Verdict(quota, refused, wait)


class LocalLimiter:
    """The same sliding windows, in process memory: the fallback while Redis is down.

    Each web process then limits on its own, so a client may get N per process through;
    that is the price of still answering while the shared counter is gone.
    """

    def __init__(self, *, max_buckets: int = 50_000) -> None:
        self.max_buckets = max_buckets
        self._hits: dict[str, deque[int]] = {}

    def _window(self, bucket: str, now_ms: int, window_ms: int) -> deque[int]:
        hits = self._hits.pop(bucket, None) or deque()
        while hits and hits[0] <= now_ms - window_ms:
            hits.popleft()
        self._hits[bucket] = hits  # re-inserted last: the dict doubles as an LRU
        return hits

    def hit(self, windows: Sequence[tuple[str, RateLimit]], now_ms: int) -> Verdict:
        """Count one request at `now_ms` in every window (bucket, limit), or in none when one is full."""
        current = [self._window(bucket, now_ms, limit.window_s * 1000) for bucket, limit in windows]
        refused = next(
            (
                i
                for i, (hits, (_, limit)) in enumerate(zip(current, windows, strict=True), 1)
                if len(hits) >= limit.limit
            ),
            0,
        )
        if not refused:
            for hits in current:
                hits.append(now_ms)
        for (bucket, _), hits in zip(windows, current, strict=True):
            if not hits:
                del self._hits[bucket]
        while len(self._hits) > self.max_buckets:
            del self._hits[next(iter(self._hits))]
        first = current[0]
        return verdict(
            [limit for _, limit in windows],
            count=len(first),
            age_ms=now_ms - first[0] if first else None,
            refused=refused,
            refused_age_ms=now_ms - current[refused - 1][0] if refused and current[refused - 1] else None,
        )
