"""The landing cache follows `flush-cache` over pub/sub, against a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from leadcap.landing import cache as landing
from leadcap.stores.redis import Redis
from tests import servers
from tests.servers import Stores, on_db
from web import responses
from web.landing import LandingCache


@pytest.fixture
async def redis(stores: Stores) -> AsyncIterator[Redis]:
    async with servers.private_redis(stores.redis, 11) as store:
        yield store


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<h1>one</h1>")
    return tmp_path


async def until(condition: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_a_listening_process_serves_the_flushed_build_without_asking_redis(
    redis: Redis, dist: Path
) -> None:
    cache = LandingCache(dist)
    follower = asyncio.create_task(cache.follow(redis))
    try:
        await until(lambda: cache.listening)
        (dist / "index.html").write_text("<h1>two</h1>")
        flushed = await landing.flush(redis, dist)
        assert (flushed.listening, flushed.confirmed, flushed.complete) == (1, 1, True)
        # Confirmed means already swapped: the very next request gets the new build.
        assert (await cache.current(redis)).body == b"<h1>two</h1>"
        await redis.client_for_tests().set("leadcap:landing:version", 999)  # not announced: not looked at
        assert (await cache.current(redis)).version == flushed.version
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    assert not cache.listening


async def test_a_flush_before_the_subscription_is_caught_up(redis: Redis, dist: Path) -> None:
    (dist / "index.html").write_text("<h1>early</h1>")
    flushed = await landing.flush(redis, dist)
    assert (flushed.listening, flushed.complete) == (0, True)
    cache = LandingCache(None)  # no build of its own: only Redis can give it the page
    follower = asyncio.create_task(cache.follow(redis))
    try:
        await until(lambda: cache.listening)
        assert (await cache.current(redis)).body == b"<h1>early</h1>"
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)


async def test_without_a_subscription_every_request_compares_versions(redis: Redis, dist: Path) -> None:
    cache = LandingCache(dist)
    assert (await cache.current(redis)).body == b"<h1>one</h1>"
    (dist / "index.html").write_text("<h1>two</h1>")
    await landing.flush(redis, dist)
    assert (await cache.current(redis)).body == b"<h1>two</h1>"


async def test_a_listener_that_never_confirms_fails_the_flush(redis: Redis, dist: Path) -> None:
    silent = redis.client_for_tests().pubsub()
    await silent.subscribe(landing.channel(redis))
    try:
        flushed = await landing.flush(redis, dist, timeout_s=0.3)
    finally:
        await silent.aclose()
    assert (flushed.listening, flushed.confirmed, flushed.complete) == (1, 0, False)


async def test_a_lost_subscription_falls_back_then_listens_again(redis: Redis, dist: Path) -> None:
    cache = LandingCache(dist)
    follower = asyncio.create_task(cache.follow(redis))
    try:
        await until(lambda: cache.listening)
        for client in await redis.client_for_tests().client_list(_type="pubsub"):
            if str(client["db"]) == "11":  # only this test's subscriber: others share the server
                await redis.client_for_tests().client_kill_filter(_id=client["id"])
        await until(lambda: not cache.listening)
        (dist / "index.html").write_text("<h1>while away</h1>")
        await landing.publish(redis, dist)  # announced to nobody
        assert (await cache.current(redis)).body == b"<h1>while away</h1>"
        await until(lambda: cache.listening)
        (dist / "index.html").write_text("<h1>back</h1>")
        assert (await landing.flush(redis, dist)).complete
        assert (await cache.current(redis)).body == b"<h1>back</h1>"
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)


async def test_flush_cache_exits_1_when_a_process_does_not_confirm(
    redis: Redis, env: dict[str, str], stores: Stores
) -> None:
    silent = redis.client_for_tests().pubsub()  # listens like a web process, never reloads
    await silent.subscribe(landing.channel(redis))
    try:
        flushed = await asyncio.to_thread(
            servers.leadcap, "flush-cache", env={**env, "LEADCAP_REDIS_URL": on_db(stores.redis, 11)}
        )
    finally:
        await silent.aclose()
    assert flushed.returncode == 1
    assert "only 0 of 1 web processes confirmed it" in " ".join(flushed.stderr.split())


async def test_the_page_carries_its_campaigns_image_policy_and_goes_to_the_edge(
    redis: Redis, tmp_path: Path
) -> None:
    """A campaign with trust badges: the page narrows img-src to their origins itself, so nginx's
    fixed headers (responses.PAGE_HEADERS) fit it, and it is written where nginx serves it."""
    dist, edge = tmp_path / "dist", tmp_path / "edge"
    dist.mkdir()
    edge.mkdir()
    (dist / "index.html").write_text(
        '<!doctype html><html><HEAD lang="fa"><meta charset="utf-8"><title>t</title></head>'
        '<body><img src="https://seal.example/x.png" alt=""></body></html>'
    )
    origins = ("https://seal.example", "https://logo.example:8443")
    cache = LandingCache(dist, image_origins=origins, edge_dir=edge)
    await cache.reload(redis)
    served = cache.page
    written = (edge / "index.html").read_bytes()
    assert written == served.body
    policy = b'<meta http-equiv="Content-Security-Policy" content="img-src \'self\' data: '
    assert written.startswith(b'<!doctype html><html><HEAD lang="fa">' + policy)
    assert b'https://seal.example https://logo.example:8443"><meta charset' in written
    headers = dict(served.headers)
    assert headers[b"content-security-policy"] == responses.PAGE_HEADERS["Content-Security-Policy"].encode()


async def test_a_page_without_a_head_is_left_to_leadcap(redis: Redis, tmp_path: Path) -> None:
    """No <head> to put the image policy in: leadcap serves it with the campaign's own header
    (nothing at the edge, whose fixed headers would let any https: image through)."""
    edge = tmp_path / "edge"
    edge.mkdir()
    (edge / "index.html").write_text("an old page")
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<h1>one</h1>")
    cache = LandingCache(dist, image_origins=("https://seal.example",), edge_dir=edge)
    await cache.reload(redis)
    assert not (edge / "index.html").exists()
    csp = dict(cache.page.headers)[b"content-security-policy"]
    assert csp == responses.html_headers(("https://seal.example",))["Content-Security-Policy"].encode()
