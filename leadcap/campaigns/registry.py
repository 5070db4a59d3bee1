"""The campaigns a web process answers for, kept in memory and refreshed from PostgreSQL in the
background, so the intake's check of a posted slug costs a set lookup and no round trip.

Bounded: it holds the rows of the campaigns table (what operators added), never anything a client
sent. A slug a client posts is only looked up. Until the first read succeeds (PostgreSQL away at
start) every slug a campaign could have is taken as live: refusing it would lose a lead the worker can still
write once PostgreSQL is back; after that, the last set read stays in force while PostgreSQL is away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from leadcap import slugs
from leadcap.errors import StoreError
from leadcap.stores.postgres.campaigns import CampaignFileStore, CampaignRow

log = logging.getLogger(__name__)
REFRESH_EVERY_S = 5.0  # how long an `archive` or `add` takes at most to reach every web process


class LiveCampaigns:
    def __init__(
        self, store: CampaignFileStore | None, on_hosts: Callable[[bool], None] | None = None
    ) -> None:
        self._store = store
        self._rows: dict[str, CampaignRow] | None = None  # None: never read yet
        self._hosts: dict[str, str] = {}
        self._on_hosts = on_hosts  # told whether any live campaign has a host (the edge page)

    @property
    def rows(self) -> Mapping[str, CampaignRow]:
        return self._rows or {}

    def live(self, slug: str) -> bool:
        """Whether a form may post `slug` (the default campaign's always may)."""
        if slug == slugs.DEFAULT:
            return True
        if self._rows is None:
            return slugs.problem(slug) is None  # any slug a campaign could have
        return slug in self._rows

    def for_host(self, host: str) -> str | None:
        """The live campaign served at `/` of `host` (its --host), if any."""
        return self._hosts.get(host.split(":", 1)[0].lower())

    async def refresh(self) -> None:
        """Read the live campaigns again; keep the last set if PostgreSQL fails."""
        if self._store is None:
            return
        try:
            rows = await self._store.listing(live_only=True)
        except StoreError as exc:
            log.warning("campaigns not refreshed: %s", exc.reason)
            return
        had = bool(self._hosts)
        self._rows = {row.slug: row for row in rows}
        self._hosts = {row.host: row.slug for row in rows if row.host}
        if self._on_hosts is not None and bool(self._hosts) != had:
            self._on_hosts(bool(self._hosts))

    async def follow(self, every_s: float = REFRESH_EVERY_S) -> None:
        """Refresh for ever (a web process's background task)."""
        while True:
            await self.refresh()
            await asyncio.sleep(every_s)
