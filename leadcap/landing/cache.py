"""The shared copy of the landing page's campaign in Redis: `flush-cache` publishes, web
processes follow.

Redis holds the campaign document `flush-cache` checked (LEADCAP_CAMPAIGN_FILE) and a version
number. Each web process keeps the page (its build's template filled with that campaign) in
memory and listens on a pub/sub channel; `flush-cache` bumps the version, announces it there,
and returns only when every listening process has confirmed that it refilled its page. So a
request never pays a Redis round trip for the page, and every request after `flush-cache`
returns gets the new copy (and the current build).
A process that is not listening (Redis away, reconnecting) compares versions on every request.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from leadcap.errors import ConfigError
from leadcap.landing import campaign, edgepage
from leadcap.settings import Settings
from leadcap.stores.redis import Redis

ACK_TTL_S = 300  # acks are only read by the flush that asked for them
# The front-end build shipped inside the `web` package. leadcap never imports web; the wheel
# installs both packages side by side (pyproject's hatch packages), so the path is known here
# and `flush-cache` needs no web import to find the build.
UI_DIST = Path(__file__).resolve().parents[2] / "web" / "ui" / "dist"


@dataclass(frozen=True, slots=True)
class Flush:
    version: int
    listening: int  # web processes subscribed when the version was announced
    confirmed: int  # of those, how many reloaded before the deadline

    @property
    def complete(self) -> bool:
        return self.confirmed >= self.listening


def ui_dist(settings: Settings) -> Path:
    """Where the built landing page is: LEADCAP_UI_DIST, or the build inside the package."""
    return settings.ui_dist or UI_DIST


def document(settings: Settings) -> bytes | None:
    """The campaign file `flush-cache` hands every web process, checked first: ConfigError
    naming the field for a bad one (then nothing is published and every page stays). Without
    LEADCAP_CAMPAIGN_FILE, None: each process reads its own file."""
    if settings.campaign_file is None:
        return None
    return campaign.load(settings.campaign_file, settings.assets_dir).document


async def publish(redis: Redis, document: bytes | None) -> int:
    """Store the campaign document as the shared copy and bump the version; return the new
    version. Without one, the shared copy is removed and each process reads its own file."""
    return await redis.landing.publish(document)


def channel(redis: Redis) -> str:
    """The announcement channel of this Redis database (see LandingRedis.channel)."""
    return redis.landing.channel()


async def flush(
    redis: Redis,
    document: bytes | None,
    *,
    timeout_s: float = 5.0,
    edge_dir: Path | None = None,
) -> Flush:
    """Publish the campaign (checked by `document()`), announce it, and wait until every
    listener has refilled its page from it and the current build's template.

    With an edge folder, its page is retired before the announcement: nginx then proxies to the
    web processes (which serve the new version) until one of them writes the new page there."""
    version = await publish(redis, document)
    if edge_dir is not None:
        try:
            edgepage.retire(edge_dir, version)
        except OSError as exc:  # nginx would go on serving the old page: say so, loudly
            raise ConfigError("LEADCAP_EDGE_DIR", f"cannot be written ({exc})") from exc
    listening = await redis.landing.announce(channel(redis), str(version))
    deadline = time.monotonic() + timeout_s
    confirmed = 0
    while True:
        confirmed = await redis.landing.acks(version)
        if confirmed >= listening or time.monotonic() > deadline:
            return Flush(version, listening, confirmed)
        await asyncio.sleep(0.02)


async def acknowledge(redis: Redis, version: int, process: str) -> None:
    """Tell the flush of `version` that this process now serves it (or something newer)."""
    await redis.landing.acknowledge(version, process, ACK_TTL_S)


async def snapshot(redis: Redis) -> tuple[int, bytes | None]:
    """The version and the shared campaign document, read together so they belong to each other."""
    return await redis.landing.snapshot()


async def version(redis: Redis) -> int:
    return await redis.landing.version()
