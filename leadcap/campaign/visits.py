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

A campaign with variants also counts, the same way, the visitors shown each variant per day
(VariantVisits): there a visitor is its visitor cookie, which is what picks its variant.
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


class _Uniques(PeriodicFlush):
    """Digests waiting in process for the HyperLogLogs of their group, at most `capacity` in
    all; past that a flush starts at once, and what still finds it full is dropped and counted
    (`dropped`). A failed flush keeps what fits for the next one."""

    def __init__(self, redis: Redis, *, timezone: str, capacity: int) -> None:
        super().__init__()
        self.redis = redis
        self.tz = ZoneInfo(timezone)
        self.capacity = capacity
        self.dropped = 0
        self.pending = 0  # digests held, over every group
        self._groups: dict[tuple[str, ...], set[bytes]] = {}
        self._flushing: asyncio.Task[None] | None = None

    def _add(self, group: tuple[str, ...], digest: bytes) -> None:
        if self.pending >= self.capacity:
            self._flush_soon()
            if self.pending >= self.capacity:
                self.dropped += 1
                return
        held = self._groups.get(group)
        if held is None:
            held = self._groups[group] = set()
        if digest not in held:
            held.add(digest)
            self.pending += 1

    def _flush_soon(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self.flush_quietly())

    async def _send(self, groups: dict[tuple[str, ...], list[bytes]], moment: datetime) -> None:
        raise NotImplementedError

    async def flush(self, now: datetime | None = None) -> int:
        """Send the pending visitors to Redis in one pipeline; return how many went.
        On failure they are kept (up to the capacity) for the next flush."""
        if not self.pending:
            return 0
        batch = {group: list(members) for group, members in self._groups.items()}
        sent, self._groups, self.pending = self.pending, {}, 0
        try:
            await self._send(batch, now or datetime.now(self.tz))
        except StoreError:
            for group, members in batch.items():
                for digest in members:
                    if self.pending >= self.capacity:
                        self.dropped += 1
                    else:
                        self._add(group, digest)
            raise
        return sent


class VisitCounter(_Uniques):
    """Collects visitor digests in process and flushes them to Redis HyperLogLogs."""

    what = "visits"

    def __init__(self, redis: Redis, *, timezone: str, capacity: int = 50_000) -> None:
        super().__init__(redis, timezone=timezone, capacity=capacity)

    def see(self, bucket: str, user_agent: str) -> None:
        """Note one view of the landing page. Never waits, never raises."""
        digest = hashlib.blake2b(
            f"{bucket}\x00{user_agent[:256]}".encode(errors="replace"), person=b"leadcap-visit", digest_size=8
        ).digest()
        self._add((), digest)

    async def _send(self, groups: dict[tuple[str, ...], list[bytes]], moment: datetime) -> None:
        into = [(day_key(moment, self.tz), DAY_TTL_S), (hour_key(moment, self.tz), HOUR_TTL_S)]
        await self.redis.campaign.add_visitors([(key, ttl, groups[()]) for key, ttl in into])


class VariantVisits(_Uniques):
    """Unique visitors shown each variant of each campaign, per day of LEADCAP_TIMEZONE: the
    denominator of conversion per variant (leadcap/campaign/stats.py). A visitor here is its
    visitor cookie's id, the very id its variant is picked from (leadcap/landing/variants.py),
    hashed before it leaves the process. Groups are (slug, variant) of live campaigns' files,
    never a client's word: at most 4 per live campaign."""

    what = "variant visits"

    def __init__(self, redis: Redis, *, timezone: str, capacity: int = 50_000) -> None:
        super().__init__(redis, timezone=timezone, capacity=capacity)

    def see(self, slug: str, variant: str, visitor_id: str) -> None:
        """Note one view of variant `variant` of campaign `slug`. Never waits, never raises."""
        digest = hashlib.blake2b(visitor_id.encode(), person=b"leadcap-variant", digest_size=8).digest()
        self._add((slug, variant), digest)

    async def _send(self, groups: dict[tuple[str, ...], list[bytes]], moment: datetime) -> None:
        day = moment.astimezone(self.tz).strftime("%Y-%m-%d")
        await self.redis.campaign.add_visitors(
            [
                (keys.variant_visits_day(slug, name, day), DAY_TTL_S, members)
                for (slug, name), members in groups.items()
            ],
            names=[(keys.variant_names(slug), name, DAY_TTL_S) for slug, name in groups],
        )
