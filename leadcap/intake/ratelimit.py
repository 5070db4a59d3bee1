"""Sliding-window rate limit arithmetic and headers. The counting itself runs in Redis (intake.lua)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Quota:
    """Where a client stands after this request, as the RateLimit-* headers report it."""

    limit: int
    remaining: int
    reset_s: int  # seconds until the oldest counted request leaves the window

    @classmethod
    def from_window(cls, *, limit: int, count: int, oldest_age_ms: int | None, window_s: int) -> Quota:
        """Quota from the number of requests in the window and the age of the oldest one."""
        reset = 0 if oldest_age_ms is None else math.ceil(max(0, window_s * 1000 - oldest_age_ms) / 1000)
        return cls(limit=limit, remaining=max(0, limit - count), reset_s=reset)

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


class LocalLimiter:
    """The same sliding window, in process memory: the fallback while Redis is down.

    Each web process then limits on its own, so a client may get N per process through;
    that is the price of still answering while the shared counter is gone.
    """

    def __init__(self, *, limit: int, window_s: int, max_buckets: int = 50_000) -> None:
        self.limit = limit
        self.window_ms = window_s * 1000
        self.window_s = window_s
        self.max_buckets = max_buckets
        self._hits: dict[str, deque[int]] = {}

    def hit(self, bucket: str, now_ms: int) -> tuple[bool, Quota]:
        """Count one request at `now_ms`; return whether it is allowed and the quota after it."""
        hits = self._hits.pop(bucket, None) or deque()
        while hits and hits[0] <= now_ms - self.window_ms:
            hits.popleft()
        allowed = len(hits) < self.limit
        if allowed:
            hits.append(now_ms)
        if hits:
            self._hits[bucket] = hits  # re-inserted last: the dict doubles as an LRU
        while len(self._hits) > self.max_buckets:
            del self._hits[next(iter(self._hits))]
        age = now_ms - hits[0] if hits else None
        quota = Quota.from_window(
            limit=self.limit, count=len(hits), oldest_age_ms=age, window_s=self.window_s
        )
        return allowed, quota
