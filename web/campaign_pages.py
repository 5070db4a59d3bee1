"""The pages of the campaigns beside the default one: `/SLUG/`, and `/` of a campaign's own host.

Each is the template the default page is filled from, filled with that campaign's file (stored
by `leadcap campaigns add`) and kept in memory like the default page: rendered on the first request
after it changes, never per request. It changes when its row does (`campaigns update`, or
`flush-cache --campaign SLUG`, which touch it: every process sees that on its next refresh of the
live set, within leadcap.campaigns.registry.REFRESH_EVERY_S) and when the default page is
flushed (a new build). Bounded: one page per live campaign (one per variant of a campaign with
`variants`, at most 4); an archived one's pages are dropped.

A campaign with variants is filled once per variant; which one a visitor gets is chosen per
request from its visitor cookie (leadcap/landing/variants.py), a hash and a dict lookup.
"""

from __future__ import annotations

import logging
from datetime import datetime

from leadcap.campaigns.registry import LiveCampaigns
from leadcap.errors import ConfigError
from leadcap.landing import variants
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
        # slug -> variant name -> its page (only campaigns with variants); kept in step with _pages
        self._variant_pages: dict[str, dict[str, Page]] = {}

    def variant_page(self, slug: str, visitor_id: str) -> tuple[str, Page] | None:
        """The variant this visitor keeps on campaign `slug` and its page; None when the
        campaign has no variants (or is not live). Call after campaign(slug)."""
        held = self._pages.get(slug)
        pages = self._variant_pages.get(slug)
        if held is None or pages is None:
            return None
        name = variants.choose(held[1].data.variants, slug, visitor_id).name
        return name, pages[name]

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
            self._variant_pages.pop(gone, None)
        self._pages[slug] = (key, chosen, page)
        if chosen.data.variants:
            self._variant_pages[slug] = {
                v.name: self.landing.make_for(web_campaign.of(variants.apply(chosen.data, v)), slug)
                for v in chosen.data.variants
            }
        else:
            self._variant_pages.pop(slug, None)
        return chosen, page
