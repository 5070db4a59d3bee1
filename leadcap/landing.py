"""The shared copy of the landing page in Redis: `flush-cache` publishes, web processes follow.

Redis holds the built HTML and a version number. Each web process keeps the page in memory and
listens on a pub/sub channel; `flush-cache` bumps the version, announces it there, and returns
only when every listening process has confirmed that it reloaded. So a request never pays a
Redis round trip for the page, and every request after `flush-cache` returns gets the new build.
A process that is not listening (Redis away, reconnecting) compares versions on every request.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from leadcap import keys
from leadcap.stores.redis import Redis, translated

ACK_TTL_S = 300  # acks are only read by the flush that asked for them


@dataclass(frozen=True, slots=True)
class Flush:
    version: int
    listening: int  # web processes subscribed when the version was announced
    confirmed: int  # of those, how many reloaded before the deadline

    @property
    def complete(self) -> bool:
        return self.confirmed >= self.listening


def built_page(dist: Path | None, locale: str | None = None) -> bytes | None:
    """The pre-rendered page of a front-end build in `locale` (index.<locale>.html), else its
    index.html, if there is one."""
    if dist is None:
        return None
    for index in (dist / f"index.{locale}.html" if locale else None, dist / "index.html"):
        if index is not None and index.is_file():
            return index.read_bytes()
    return None


async def publish(redis: Redis, dist: Path | None, locale: str | None = None) -> int:
    """Store the current build as the shared copy and bump the version; return the new version.

    Without a build the shared copy is removed, and web processes fall back to their own page.
    """
    body = built_page(dist, locale)
    async with translated("publishing the landing page"):
        pipe = redis.client.pipeline(transaction=True)
        if body is None:
            pipe.delete(keys.LANDING_HTML)
        else:
            pipe.set(keys.LANDING_HTML, body)
        pipe.incr(keys.LANDING_VERSION)
        *_, version = await pipe.execute()
    return int(version)


def channel(redis: Redis) -> str:
    """The announcement channel of this Redis database: pub/sub ignores database numbers, and
    deployments sharing one Redis server must not hear (and wait for) each other."""
    return f"{keys.LANDING_CHANNEL}:{redis.client.connection_pool.connection_kwargs.get('db', 0)}"


async def flush(
    redis: Redis, dist: Path | None, *, timeout_s: float = 5.0, locale: str | None = None
) -> Flush:
    """Publish the current build, announce it, and wait until every listener has reloaded."""
    version = await publish(redis, dist, locale)
    async with translated("announcing the landing version"):
        listening = int(await redis.client.publish(channel(redis), str(version)))
    deadline = time.monotonic() + timeout_s
    confirmed = 0
    while True:
        async with translated("reading landing acknowledgements"):
            confirmed = int(await redis.client.scard(keys.landing_ack(version)))
        if confirmed >= listening or time.monotonic() > deadline:
            return Flush(version, listening, confirmed)
        await asyncio.sleep(0.02)


async def acknowledge(redis: Redis, version: int, process: str) -> None:
    """Tell the flush of `version` that this process now serves it (or something newer)."""
    async with translated("acknowledging the landing version"):
        pipe = redis.client.pipeline(transaction=False)
        pipe.sadd(keys.landing_ack(version), process)
        pipe.expire(keys.landing_ack(version), ACK_TTL_S)
        await pipe.execute()


async def snapshot(redis: Redis) -> tuple[int, bytes | None]:
    """The version and the shared copy, read together so they belong to each other."""
    async with translated("reading the landing page"):
        pipe = redis.client.pipeline(transaction=True)
        pipe.get(keys.LANDING_VERSION)
        pipe.get(keys.LANDING_HTML)
        version, body = await pipe.execute()
    return int(version or 0), body.encode() if isinstance(body, str) else body


async def version(redis: Redis) -> int:
    async with translated("reading the landing version"):
        value = await redis.client.get(keys.LANDING_VERSION)
    return int(value or 0)
