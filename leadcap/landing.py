"""The shared copy of the landing page in Redis: `flush-cache` publishes, web processes follow.

Redis holds the built HTML and a version number. Each web process keeps the page in memory
and compares versions on every request (one GET), so after `flush-cache` every process serves
the new build on its very next request.
"""

from __future__ import annotations

from pathlib import Path

from leadcap import keys
from leadcap.stores.redis import Redis, translated


def built_page(dist: Path | None) -> bytes | None:
    """The pre-rendered index.html of a front-end build, if there is one."""
    if dist is None:
        return None
    index = dist / "index.html"
    return index.read_bytes() if index.is_file() else None


async def publish(redis: Redis, dist: Path | None) -> int:
    """Store the current build as the shared copy and bump the version; return the new version.

    Without a build the shared copy is removed, and web processes fall back to their own page.
    """
    body = built_page(dist)
    async with translated("publishing the landing page"):
        pipe = redis.client.pipeline(transaction=True)
        if body is None:
            pipe.delete(keys.LANDING_HTML)
        else:
            pipe.set(keys.LANDING_HTML, body)
        pipe.incr(keys.LANDING_VERSION)
        *_, version = await pipe.execute()
    return int(version)


async def version(redis: Redis) -> int:
    async with translated("reading the landing version"):
        value = await redis.client.get(keys.LANDING_VERSION)
    return int(value or 0)


async def shared_copy(redis: Redis) -> bytes | None:
    async with translated("reading the landing page"):
        value = await redis.client.get(keys.LANDING_HTML)
    return value.encode() if isinstance(value, str) else value
