"""The pages of the campaigns beside the default one: `/SLUG/`, and `/` of a campaign's own host.

Each is the template the default page is filled from, filled with that campaign's file (stored
by `leadcap campaigns add`) and kept in memory like the default page: rendered on the first request
after it changes, never per request. It changes when its row does (`campaigns update`, or
`flush-cache --campaign SLUG`, which touch it: every process sees that on its next refresh of the
live set, within leadcap.campaigns.registry.REFRESH_EVERY_S) and when the default page is
flushed (a new build). Bounded: one page per live campaign; an archived one's page is dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime

from leadcap.campaigns.registry import LiveCampaigns
from leadcap.errors import ConfigError
from web import campaign as web_campaign
from web.campaign import Campaign
from web.landing import LandingCache, Page

log = logging.getLogger(__name__)


class CampaignPages:
    def __init__(self, landing: LandingCache, live: LiveCampaigns) -> None:
        self.landing = landing
        self.live = live
        # slug -> ((row's updated_at, default page version), campaign, page)
        self._pages: dict[str, tuple[tuple[datetime, int], Campaign, Page]] = {}

    def campaign(self, slug: str) -> tuple[Campaign, Page] | None:
        """The live campaign `slug` and its page, or None (unknown, archived, or a file this
        process cannot use, such as an image missing from its LEADCAP_ASSETS_DIR)."""
        row = self.live.rows.get(slug)
        if row is None:
            self._pages.pop(slug, None)
            return None
        key = (row.updated_at, self.landing.page.version)
        held = self._pages.get(slug)
        if held is not None and held[0] == key:
            return held[1], held[2]
        try:
            chosen = web_campaign.parse(row.document, self.landing.assets)
        except ConfigError as exc:
            log.error("campaign %s cannot be served by this process: %s", slug, exc.message)
            return None
        page = self.landing.make_for(chosen, slug)
        for gone in [s for s in self._pages if s not in self.live.rows]:  # bounded by the live set
            del self._pages[gone]
        self._pages[slug] = (key, chosen, page)
        return chosen, page
