"""Each web process's in-memory landing page (the build's template filled with the campaign),
with its ETag, kept in step with `flush-cache` through Redis. A campaign file with `variants`
also gets one page per variant, and `/` serves each visitor its own (leadcap/landing/variants.py)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import socket
import time
from dataclasses import dataclass, replace
from pathlib import Path

from leadcap import retry, slugs
from leadcap.errors import ConfigError, StoreError
from leadcap.landing import cache, consent, edgepage, template, variants
from leadcap.landing import campaign as rules
from leadcap.settings import LOCALES
from leadcap.stores.redis import Redis
from web import campaign as web_campaign
from web import page, responses
from web.campaign import Campaign

log = logging.getLogger(__name__)
REDIS_RETRY_S = 1.0
# While listening, the version is still re-read this often: a subscription that died without
# the socket noticing must not leave a process on an old page for long.
RECHECK_S = 5.0


# The page's own policy goes first in its <head>: a <meta> policy covers only what follows it.
_HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    etag: str
    version: int
    headers: responses.EncodedHeaders  # ETag, caching and security headers, encoded once
    at_edge: bool = False  # it carries its own image policy: nginx may serve it (PAGE_HEADERS)


def make_page(body: bytes, version: int, image_origins: tuple[str, ...] = ()) -> Page:
    """The page with its image policy in its <head> and nginx's headers (responses.PAGE_HEADERS);
    a page without a <head> keeps leadcap's own headers and is never served by nginx."""
    found = _HEAD.search(body)
    at_edge = found is not None
    if found is not None:
        body = body[: found.end()] + responses.page_policy(image_origins) + body[found.end() :]
    html_headers = responses.PAGE_HEADERS if at_edge else responses.html_headers(image_origins)
    etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", **html_headers}
    return Page(body, etag, version, responses.encode(headers), at_edge)


# The build writes the default region into <html data-region="IR">; the server puts its own
# (LEADCAP_DEFAULT_REGION) there once per load, so the page's phone check follows the server.
_REGION = re.compile(rb'data-region="[A-Z]{2}"')


def configure(body: bytes, region: str) -> bytes:
    return _REGION.sub(f'data-region="{region}"'.encode(), body, count=1)


# A campaign's page names its slug twice: a hidden field in each form that posts to /api/leads/
# (the phone form, and the code step's: the page without JavaScript posts it, and the answer
# lands back on /SLUG/) and data-campaign on <html> (web/ui/src/api.ts sends it with the JSON).
_LEAD_FORM = re.compile(rb'<form\b[^>]*\baction="/api/leads/[^"]*"[^>]*>', re.IGNORECASE)
_HTML_TAG = re.compile(rb"<html\b", re.IGNORECASE)


def with_slug(body: bytes, slug: str) -> bytes:
    """`body` as campaign `slug`'s page (a slug is [a-z0-9-]: nothing in it needs escaping)."""
    field = f'<input type="hidden" name="campaign" value="{slug}">'.encode()
    body = _LEAD_FORM.sub(lambda found: found.group(0) + field, body)
    return _HTML_TAG.sub(f'<html data-campaign="{slug}"'.encode(), body, count=1)


class LandingCache:
    """Never rebuilds per request. While `follow` listens to `flush-cache`, a request costs no
    Redis call at all; otherwise it costs one GET of the version number.

    The page is the build's template filled with the campaign (leadcap/landing/template.py),
    once per start and once per flush. A flush hands every process the campaign document that
    `flush-cache` checked; at its first contact with Redis (its start) a process reads the file
    itself. A document this process cannot use (an image missing from its LEADCAP_ASSETS_DIR)
    never replaces the page it serves: it logs the field and does not confirm the flush."""

    def __init__(
        self,
        dist: Path | None,
        *,
        campaign: Campaign | None = None,
        locale: str = LOCALES[0],
        region: str = "IR",
        edge_dir: Path | None = None,
        campaign_file: Path | None = None,
        assets: Path | None = None,
    ) -> None:
        self.dist = dist
        self.edge_dir = edge_dir
        self.locale = locale
        self.region = region
        self.campaign_file = campaign_file
        self.assets = assets
        self.campaign = campaign or web_campaign.load(campaign_file, assets)
        self.consent = consent.offered(self.campaign.data)  # what POST /api/leads/ asks for
        self.html_headers = responses.html_headers(self.campaign.image_origins)
        self.page = self._make(self.campaign, -1)
        self.variant_pages = self._make_variants(self.campaign, -1)
        self.listening = False
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._skip_redis_until = 0.0
        self._refused = -1  # the last version whose campaign this process could not use
        self.hosts_elsewhere = False  # a live campaign has its own --host (web/campaign_pages.py)

    def _body(self, chosen: Campaign) -> bytes:
        try:
            filled = template.render(self.dist, chosen.data, self.locale)
        except template.TemplateError as exc:  # a build of another version: the plain page will do
            log.error("the landing page template cannot be filled (%s): serving the plain page", exc)
            filled = None
        return filled or page.render(chosen.copy(self.locale)).encode()

    def _make(self, chosen: Campaign, version: int) -> Page:
        return make_page(configure(self._body(chosen), self.region), version, chosen.image_origins)

    def _make_variants(self, chosen: Campaign, version: int) -> dict[str, Page]:
        """One page per variant of the file (none without `variants`), never served by nginx:
        it cannot tell which variant a visitor keeps."""
        return {
            v.name: replace(
                self._make(web_campaign.of(variants.apply(chosen.data, v)), version), at_edge=False
            )
            for v in chosen.data.variants
        }

    def variant_page(self, visitor_id: str) -> tuple[str, Page] | None:
        """The variant this visitor keeps on `/` and its page; None without variants."""
        pages = self.variant_pages
        if not pages:
            return None
        name = variants.choose(self.campaign.data.variants, slugs.DEFAULT, visitor_id).name
        return name, pages[name]

    def make_for(self, chosen: Campaign, slug: str) -> Page:
        """Another campaign's page (web/campaign_pages.py) from the template this process serves
        now: its form posts its slug, and it is never written to the edge."""
        body = with_slug(configure(self._body(chosen), self.region), slug)
        made = make_page(body, self.page.version, chosen.image_origins)
        return Page(made.body, made.etag, made.version, made.headers, at_edge=False)

    async def current(self, redis: Redis) -> Page:
        """The page to serve now, reloaded first if `flush-cache` bumped the version."""
        if self.listening or time.monotonic() < self._skip_redis_until:
            return self.page
        try:
            version = await cache.version(redis)
            if version not in (self.page.version, self._refused):
                await self.reload(redis)
        except StoreError as exc:
            log.warning("landing cache cannot reach redis, serving from memory: %s", exc.reason)
            self._skip_redis_until = time.monotonic() + REDIS_RETRY_S
        return self.page

    def _chosen(self, document: bytes | None) -> Campaign:
        """The campaign of a flush's document; without one (a flush that named no file, a Redis
        that lost its data), or at start, this process's own file."""
        if document is None or self.page.version == -1:
            return web_campaign.load(self.campaign_file, self.assets)
        return web_campaign.of(rules.loads(document, self.assets))

    async def reload(self, redis: Redis) -> bool:
        """Serve the version Redis holds; return whether this process now serves it."""
        version, document = await cache.snapshot(redis)
        if version == self.page.version:
            return True
        try:
            chosen = self._chosen(document)
        except ConfigError as exc:
            if version != self._refused:
                log.error(
                    "landing page version %d not taken, the page stays as it was: %s", version, exc.message
                )
            self._refused = version
            return False
        self.campaign = chosen
        self.consent = consent.offered(chosen.data)
        self.html_headers = responses.html_headers(chosen.image_origins)
        self.page = self._make(chosen, version)
        self.variant_pages = self._make_variants(chosen, version)
        self._publish_at_edge()
        return True

    def hosts_changed(self, any_host: bool) -> None:
        """Whether some live campaign has its own host now: withdraw the edge page, or write it back."""
        self.hosts_elsewhere = any_host
        self._publish_at_edge()

    def _publish_at_edge(self) -> None:
        """Write the page where nginx serves it (before a flush is acknowledged). nginx.conf sets
        responses.PAGE_HEADERS on it, and the page carries its campaign's image policy; a page
        that could not take that policy is never served from there (nginx proxies to us). Nor is
        it while a campaign has a host of its own: nginx's `location = /` cannot tell that host's
        `/` (another campaign's page) from the default's, so every `/` then reaches leadcap; nor
        while the campaign has variants (a visitor's is picked from its signed cookie)."""
        if self.edge_dir is None:
            return
        try:
            if self.page.at_edge and not self.hosts_elsewhere and not self.variant_pages:
                edgepage.write(self.edge_dir, self.page.version, self.page.body)
            else:
                edgepage.withdraw(self.edge_dir)
        except OSError as exc:
            log.error("cannot update the landing page at the edge (%s): %s", self.edge_dir, exc)

    async def follow(self, redis: Redis) -> None:
        """Listen for `flush-cache` until cancelled, reconnecting whenever Redis goes away."""
        attempt = 0
        while True:
            pubsub = redis.subscription()
            try:
                await pubsub.subscribe(cache.channel(redis))
                # Only once the subscription is confirmed can no announcement slip past: then
                # catch up with any flush that came before it.
                while (await pubsub.message(RECHECK_S) or {}).get("type") != "subscribe":
                    pass
                await self.reload(redis)
                self.listening, attempt = True, 0
                while True:
                    message = await pubsub.message(RECHECK_S)
                    if message is None:
                        if await cache.version(redis) != self.page.version:
                            await self.reload(redis)
                    elif message["type"] == "message" and await self.reload(redis):
                        await cache.acknowledge(redis, int(message["data"]), self.name)
            except (StoreError, ValueError) as exc:
                self.listening = False
                attempt += 1
                log.warning("landing cache stopped listening for flushes: %s", exc)
                await asyncio.sleep(retry.delay(attempt, base=0.2, cap=5.0))
            finally:
                self.listening = False
                await asyncio.shield(pubsub.close())
