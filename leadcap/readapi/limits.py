"""Each read API key's rate limit and its use counts.

The limit is the intake's sliding window (leadcap/intake/ratelimit.py, counted in Redis by
intake.lua, one round trip), per key: LEADCAP_API_RATE_LIMIT. While Redis is away each web
process limits on its own (LocalLimiter), as the intake does.

Uses are counted in process and added to `api_keys` about once a second by each web process (one
UPDATE per flush, however many requests): a request costs no extra round trip. The counter is
keyed by key id, so it holds at most one entry per key that exists; a failed flush keeps its
counts for the next. What a process counted in its last second is lost if it is killed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime

from leadcap import keys
from leadcap.campaign.flushing import PeriodicFlush
from leadcap.errors import RateLimited, StoreError
from leadcap.ids import uuid7
from leadcap.intake.ratelimit import LocalLimiter, Quota
from leadcap.settings import RateLimit
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis

log = logging.getLogger(__name__)
REDIS_RETRY_S = 1.0  # after a Redis failure, limit locally this long instead of paying its timeout


class KeyLimiter:
    """LEADCAP_API_RATE_LIMIT per key."""

    def __init__(self, redis: Redis, limit: RateLimit) -> None:
        self.redis = redis
        self.limit = limit
        self.local = LocalLimiter()
        self._redis_down_until = 0.0

    async def hit(self, key_id: int) -> Quota:
        """Count one request of the key; RateLimited (carrying the quota) when it is over."""
        if time.monotonic() >= self._redis_down_until:
            try:
                allowed, count, age = await self.redis.readapi.hit(
                    keys.api_rate(key_id), self.limit.limit, self.limit.window_s * 1000, str(uuid7())
                )
                quota = Quota.from_window(
                    limit=self.limit.limit, count=count, oldest_age_ms=age, window_s=self.limit.window_s
                )
                return _checked(allowed, quota)
            except StoreError as exc:
                log.warning("redis unavailable, limiting API keys in process: %s", exc.reason)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_S
        counted = self.local.hit([(str(key_id), self.limit)], int(time.time() * 1000))
        return _checked(not counted.refused, counted.quota)


class Limited(RateLimited):
    """RateLimited with the quota that refused it, for the RateLimit-* headers."""

    def __init__(self, quota: Quota) -> None:
        super().__init__("This API key has made too many requests.", retry_after=quota.retry_after)
        self.quota = quota


def _checked(allowed: bool, quota: Quota) -> Quota:
    if not allowed:
        raise Limited(quota)
    return quota


class UsageCounter(PeriodicFlush):
    """Uses per key, added to PostgreSQL about once a second."""

    what = "API key uses"

    def __init__(self, postgres: Postgres) -> None:
        super().__init__()
        self.postgres = postgres
        self._uses: Counter[int] = Counter()
        self._last: dict[int, datetime] = {}

    def count(self, key_id: int) -> None:
        """Note one use of the key now. Never waits, never raises."""
        self._uses[key_id] += 1
        self._last[key_id] = datetime.now(UTC)

    async def flush(self) -> int:
        if not self._uses:
            return 0
        uses, last = self._uses, self._last
        self._uses, self._last = Counter(), {}
        ids = sorted(uses)
        try:
            await self.postgres.readapi.add_uses(ids, [uses[i] for i in ids], [last[i] for i in ids])
        except StoreError:
            self._uses.update(uses)
            for key_id, at in last.items():
                self._last[key_id] = max(at, self._last.get(key_id, at))
            raise
        return sum(uses.values())
