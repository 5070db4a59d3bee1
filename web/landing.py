"""Each web process's in-memory landing page, with its ETag, kept in step with Redis."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from leadcap import landing
from leadcap.errors import StoreError
from leadcap.stores.redis import Redis
from web import page

log = logging.getLogger(__name__)
REDIS_RETRY_S = 1.0


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    etag: str
    version: int


def make_page(body: bytes, version: int) -> Page:
    return Page(body, f'"{hashlib.sha256(body).hexdigest()[:20]}"', version)


class LandingCache:
    """Never rebuilds per request: a request costs one Redis GET of the version number."""

    def __init__(self, dist: Path | None) -> None:
        self.dist = dist
        self.page = make_page(self._local(), -1)
        self._skip_redis_until = 0.0

    def _local(self) -> bytes:
        return landing.built_page(self.dist) or page.render().encode()

    async def current(self, redis: Redis) -> Page:
        """The page to serve now, reloaded first if `flush-cache` bumped the version."""
        if time.monotonic() < self._skip_redis_until:
            return self.page
        try:
            version = await landing.version(redis)
            if version != self.page.version:
                body = await landing.shared_copy(redis) or self._local()
                self.page = make_page(body, version)
        except StoreError as exc:
            log.warning("landing cache cannot reach redis, serving from memory: %s", exc.reason)
            self._skip_redis_until = time.monotonic() + REDIS_RETRY_S
        return self.page
