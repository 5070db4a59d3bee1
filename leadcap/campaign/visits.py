"""Unique visitors per day and hour, counted with no Redis round trip on `GET /`.

A view only adds an 8-byte visitor digest to an in-process set (a few hundred nanoseconds); a
background task sends the set to Redis about once a second as PFADD into HyperLogLogs, one per
day and one per hour of LEADCAP_TIMEZONE. Memory is bounded whatever the traffic: Redis keeps
12 KB per HyperLogLog (never the visitors themselves), and the pending set holds at most
`capacity` digests; past that a flush starts at once, and views that still find it full are
dropped and counted (`dropped`) rather than grow the process.

A visitor is a client address bucket (its /64 for IPv6) and user agent, hashed the same way in
every web process (so one visitor served by two processes counts once). Only the digest crosses
to Redis, inside PFADD, and a HyperLogLog keeps no members at all: no address is ever stored.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

from leadcap import keys
from leadcap.campaign.flushing import PeriodicFlush
from leadcap.errors import StoreError
from leadcap.stores.redis import Redis

DAY_TTL_S = 400 * 86400  # a year of days, to compare this campaign with last year's
HOUR_TTL_S = 35 * 86400


def day_key(moment: datetime, tz: ZoneInfo) -> str:
    return keys.visits_day(moment.astimezone(tz).strftime("%Y-%m-%d"))


def hour_key(moment: datetime, tz: ZoneInfo) -> str:
    return keys.visits_hour(moment.astimezone(tz).strftime("%Y-%m-%dT%H"))


# Set on a GET / that was counted, until that hour of LEADCAP_TIMEZONE ends: a browser that
# carries it was counted in this hour already. Its POST to /api/leads/ carries it too, which is how
# a lead is known to have come with a counted visit (conversion; an API client's lead has none).
# With LEADCAP_EDGE_DIR, nginx (nginx.conf reads the same name) answers a marked browser's views
# without leadcap. It holds no identifier, only "1".
COUNTED_COOKIE = "leadcap_visited"


def seconds_left_in_hour(moment: datetime, tz: ZoneInfo) -> int:
    """Until the hour of `moment` in `tz` ends: how long a counted browser stays counted."""
    local = moment.astimezone(tz)
    elapsed = local.minute * 60 + local.second
    return max(3600 - elapsed, 1)


class VisitCounter(PeriodicFlush):
    """Collects visitor digests in process and flushes them to Redis HyperLogLogs."""

    what = "visits"

    def __init__(self, redis: Redis, *, timezone: str, capacity: int = 50_000) -> None:
        super().__init__()
        self.redis = redis
        self.tz = ZoneInfo(timezone)
        self.capacity = capacity
        self.dropped = 0
        self._pending: set[bytes] = set()
        self._flushing: asyncio.Task[None] | None = None

    def see(self, bucket: str, user_agent: str) -> None:
        """Note one view of the landing page. Never waits, never raises."""
        digest = hashlib.blake2b(
            f"{bucket}\x00{user_agent[:256]}".encode(errors="replace"), person=b"leadcap-visit", digest_size=8
        ).digest()
        if len(self._pending) >= self.capacity:
            self._flush_soon()
            if len(self._pending) >= self.capacity:
                self.dropped += 1
                return
        self._pending.add(digest)

    def _flush_soon(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self.flush_quietly())

    async def flush(self, now: datetime | None = None) -> int:
        """Send the pending visitors to Redis in one pipeline; return how many went.
        On failure they are kept (up to the capacity) for the next flush."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, set()
        moment = now or datetime.now(self.tz)
        day, hour = day_key(moment, self.tz), hour_key(moment, self.tz)
        members = list(batch)
        try:
            await self.redis.campaign.add_visitors(members, [(day, DAY_TTL_S), (hour, HOUR_TTL_S)])
        except StoreError:
            room = self.capacity - len(self._pending)
            self._pending.update(members[: max(room, 0)])
            self.dropped += max(len(members) - max(room, 0), 0)
            raise
        return len(members)
