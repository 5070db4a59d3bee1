"""Each web process's in-memory landing page, with its ETag, kept in step with Redis."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from leadcap import edgepage, landing, retry
from leadcap.errors import StoreError
from leadcap.settings import LOCALES
from leadcap.stores.redis import Redis
from web import campaign, page, responses
from web.campaign import Copy

log = logging.getLogger(__name__)
REDIS_RETRY_S = 1.0
# While listening, the version is still re-read this often: a subscription that died without
# the socket noticing must not leave a process on an old page for long.
RECHECK_S = 5.0


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    etag: str
    version: int
    headers: responses.EncodedHeaders  # ETag, caching and security headers, encoded once


def make_page(body: bytes, version: int, html_headers: dict[str, str] | None = None) -> Page:
    etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", **(html_headers or responses.HTML_HEADERS)}
    return Page(body, etag, version, responses.encode(headers))


# The build writes the default region into <html data-region="IR">; the server puts its own
# (LEADCAP_DEFAULT_REGION) there once per load, so the page's phone check follows the server.
_REGION = re.compile(rb'data-region="[A-Z]{2}"')


def configure(body: bytes, region: str) -> bytes:
    return _REGION.sub(f'data-region="{region}"'.encode(), body, count=1)


class LandingCache:
    """Never rebuilds per request. While `follow` listens to `flush-cache`, a request costs no
    Redis call at all; otherwise it costs one GET of the version number."""

    def __init__(
        self,
        dist: Path | None,
        *,
        copy: Copy | None = None,
        region: str = "IR",
        html_headers: dict[str, str] | None = None,
        edge_dir: Path | None = None,
    ) -> None:
        self.dist = dist
        self.edge_dir = edge_dir
        self.copy = copy or campaign.load(None).copy(LOCALES[0])
        self.region = region
        self.html_headers = html_headers or responses.HTML_HEADERS
        self.page = self._make(self._local(), -1)
        self.listening = False
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._skip_redis_until = 0.0

    def _local(self) -> bytes:
        return landing.built_page(self.dist, self.copy.lang) or page.render(self.copy).encode()

    def _make(self, body: bytes, version: int) -> Page:
        return make_page(configure(body, self.region), version, self.html_headers)

    async def current(self, redis: Redis) -> Page:
        """The page to serve now, reloaded first if `flush-cache` bumped the version."""
        if self.listening or time.monotonic() < self._skip_redis_until:
            return self.page
        try:
            if await landing.version(redis) != self.page.version:
                await self.reload(redis)
        except StoreError as exc:
            log.warning("landing cache cannot reach redis, serving from memory: %s", exc.reason)
            self._skip_redis_until = time.monotonic() + REDIS_RETRY_S
        return self.page

    async def reload(self, redis: Redis) -> None:
        version, body = await landing.snapshot(redis)
        if version != self.page.version:
            self.page = self._make(body or self._local(), version)
            self._publish_at_edge()

    def _publish_at_edge(self) -> None:
        """Write the page where nginx serves it (before a flush is acknowledged). nginx.conf sets
        the default security headers on it; a campaign with other headers (image origins in
        the CSP) is never served from there, so nginx proxies to this process instead."""
        if self.edge_dir is None:
            return
        try:
            if self.html_headers == responses.HTML_HEADERS:
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
                await pubsub.subscribe(landing.channel(redis))
                # Only once the subscription is confirmed can no announcement slip past: then
                # catch up with any flush that came before it.
                while (await pubsub.message(RECHECK_S) or {}).get("type") != "subscribe":
                    pass
                await self.reload(redis)
                self.listening, attempt = True, 0
                while True:
                    message = await pubsub.message(RECHECK_S)
                    if message is None:
                        if await landing.version(redis) != self.page.version:
                            await self.reload(redis)
                    elif message["type"] == "message":
                        await self.reload(redis)
                        await landing.acknowledge(redis, int(message["data"]), self.name)
            except (StoreError, ValueError) as exc:
                self.listening = False
                attempt += 1
                log.warning("landing cache stopped listening for flushes: %s", exc)
                await asyncio.sleep(retry.delay(attempt, base=0.2, cap=5.0))
            finally:
                self.listening = False
                await asyncio.shield(pubsub.close())
