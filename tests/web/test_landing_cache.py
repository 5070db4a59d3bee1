"""The landing cache follows `flush-cache` over pub/sub, against a real Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from leadcap.landing import cache as landing
from leadcap.landing import campaign as rules
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
    """A stand-in build: the Persian template with one slot."""
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "template.fa.html").write_text("<h1>⟦headline⟧</h1>")
    return tmp_path / "dist"


@pytest.fixture
def campaign_file(tmp_path: Path) -> Path:
    path = tmp_path / "campaign.json"
    write(path, "one")
    return path


def write(path: Path, headline: str, **changes: Any) -> bytes:
    """The default campaign with this Persian headline (and top-level changes), written to `path`;
    returns the document, as `flush-cache` would publish it."""
    data = json.loads(rules.DEFAULT_FILE.read_text(encoding="utf-8"))
    data["locales"]["fa"]["headline"] = headline
    data.update(changes)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path.read_bytes()


async def until(condition: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_a_listening_process_serves_the_flushed_campaign_without_asking_redis(
    redis: Redis, dist: Path, campaign_file: Path
) -> None:
    cache = LandingCache(dist, campaign_file=campaign_file)
    assert cache.page.body == b"<h1>one</h1>"
    follower = asyncio.create_task(cache.follow(redis))
    try:
        await until(lambda: cache.listening)
        flushed = await landing.flush(redis, write(campaign_file, "two"))
        assert (flushed.listening, flushed.confirmed, flushed.complete) == (1, 1, True)
        # Confirmed means already refilled: the very next request gets the new copy.
        assert (await cache.current(redis)).body == b"<h1>two</h1>"
        assert cache.campaign.copy("fa").headline == "two"  # the no-JS pages follow too
        await redis.client_for_tests().set("leadcap:landing:version", 999)  # not announced: not looked at
        assert (await cache.current(redis)).version == flushed.version
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    assert not cache.listening


async def test_a_starting_process_reads_its_file_and_then_follows_flushes(
    redis: Redis, dist: Path, campaign_file: Path, tmp_path: Path
) -> None:
    """A flush before it started does not override the file it starts with (edited since,
    restarted); the next flush does."""
    await landing.flush(redis, write(tmp_path / "old.json", "flushed before"))
    write(campaign_file, "edited since")
    cache = LandingCache(dist, campaign_file=campaign_file)
    follower = asyncio.create_task(cache.follow(redis))
    try:
        await until(lambda: cache.listening)
        assert (await cache.current(redis)).body == b"<h1>edited since</h1>"
        assert (await landing.flush(redis, write(campaign_file, "flushed after"))).complete
        assert (await cache.current(redis)).body == b"<h1>flushed after</h1>"
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)


async def test_without_a_subscription_every_request_compares_versions(
    redis: Redis, dist: Path, campaign_file: Path
) -> None:
    cache = LandingCache(dist, campaign_file=campaign_file)
    assert (await cache.current(redis)).body == b"<h1>one</h1>"
    await landing.flush(redis, write(campaign_file, "two"))
    assert (await cache.current(redis)).body == b"<h1>two</h1>"


async def test_a_listener_that_never_confirms_fails_the_flush(redis: Redis) -> None:
    silent = redis.client_for_tests().pubsub()
    await silent.subscribe(landing.channel(redis))
    try:
        flushed = await landing.flush(redis, None, timeout_s=0.3)
    finally:
        await silent.aclose()
    assert (flushed.listening, flushed.confirmed, flushed.complete) == (1, 0, False)


async def test_a_lost_subscription_falls_back_then_listens_again(
    redis: Redis, dist: Path, campaign_file: Path
) -> None:
    cache = LandingCache(dist, campaign_file=campaign_file)
    follower = asyncio.create_task(cache.follow(redis))
    try:
        await until(lambda: cache.listening)
        for client in await redis.client_for_tests().client_list(_type="pubsub"):
            if str(client["db"]) == "11":  # only this test's subscriber: others share the server
                await redis.client_for_tests().client_kill_filter(_id=client["id"])
        await until(lambda: not cache.listening)
        await landing.publish(redis, write(campaign_file, "while away"))  # announced to nobody
        assert (await cache.current(redis)).body == b"<h1>while away</h1>"
        await until(lambda: cache.listening)
        assert (await landing.flush(redis, write(campaign_file, "back"))).complete
        assert (await cache.current(redis)).body == b"<h1>back</h1>"
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)


async def test_a_campaign_this_process_cannot_use_keeps_its_page_and_is_not_confirmed(
    redis: Redis, dist: Path, campaign_file: Path, tmp_path: Path
) -> None:
    """flush-cache checked the file where it ran; here the logo it names is missing from this
    process's LEADCAP_ASSETS_DIR: the page stays, and the flush is not confirmed."""
    theirs, mine = tmp_path / "their-assets", tmp_path / "my-assets"
    theirs.mkdir()
    mine.mkdir()
    (theirs / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    cache = LandingCache(dist, campaign_file=campaign_file, assets=mine)
    follower = asyncio.create_task(cache.follow(redis))
    try:
        await until(lambda: cache.listening)
        write(campaign_file, "with a logo", logo={"src": "logo.svg", "width": 32, "height": 32})
        document = rules.load(campaign_file, theirs).document
        flushed = await landing.flush(redis, document, timeout_s=0.5)
        assert (flushed.listening, flushed.confirmed) == (1, 0)
        assert (await cache.current(redis)).body == b"<h1>one</h1>"
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


BADGES = [
    {
        "image": f"https://{host}/seal.png",
        "link": f"https://{host}/",
        "width": 90,
        "height": 90,
        "alt": {"fa": "نماد", "en": "seal"},
    }
    for host in ("seal.example", "logo.example:8443")
]


async def test_the_page_carries_its_campaigns_image_policy_and_goes_to_the_edge(
    redis: Redis, tmp_path: Path, campaign_file: Path
) -> None:
    """A campaign with trust badges: the page narrows img-src to their origins itself, so nginx's
    fixed headers (responses.PAGE_HEADERS) fit it, and it is written where nginx serves it."""
    dist, edge = tmp_path / "dist", tmp_path / "edge"
    dist.mkdir()
    edge.mkdir()
    (dist / "template.fa.html").write_text(
        '<!doctype html><html><HEAD lang="fa"><meta charset="utf-8"><title>t</title></head>'
        '<body>⟦each:badges⟧<img src="⟦badge.src⟧" alt="">⟦/each:badges⟧</body></html>'
    )
    write(campaign_file, "h", badges=BADGES)
    cache = LandingCache(dist, campaign_file=campaign_file, edge_dir=edge)
    await cache.reload(redis)
    served = cache.page
    written = (edge / "index.html").read_bytes()
    assert written == served.body
    policy = b'<meta http-equiv="Content-Security-Policy" content="img-src \'self\' data: '
    assert written.startswith(b'<!doctype html><html><HEAD lang="fa">' + policy)
    assert b'https://seal.example https://logo.example:8443"><meta charset' in written
    assert b'<img src="https://seal.example/seal.png" alt="">' in written
    headers = dict(served.headers)
    assert headers[b"content-security-policy"] == responses.PAGE_HEADERS["Content-Security-Policy"].encode()


async def test_a_page_without_a_head_is_left_to_leadcap(
    redis: Redis, dist: Path, campaign_file: Path
) -> None:
    """No <head> to put the image policy in: leadcap serves it with the campaign's own header
    (nothing at the edge, whose fixed headers would let any https: image through)."""
    edge = dist.parent / "edge"
    edge.mkdir()
    (edge / "index.html").write_text("an old page")
    write(campaign_file, "one", badges=BADGES[:1])
    cache = LandingCache(dist, campaign_file=campaign_file, edge_dir=edge)
    await cache.reload(redis)
    assert not (edge / "index.html").exists()
    csp = dict(cache.page.headers)[b"content-security-policy"]
    assert csp == responses.html_headers(("https://seal.example",))["Content-Security-Policy"].encode()
