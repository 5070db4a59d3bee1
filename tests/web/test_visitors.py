"""Shared mobile addresses through a real `leadcap serve`: a browser that loaded the page counts
as itself, so many phones behind one carrier address all get in, while a client that never
loaded the page is still held per address (the contract's "Shared mobile addresses")."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from leadcap import settings
from leadcap.intake import visitor
from tests import factories, servers
from tests.fakesms import FakeSms
from tests.servers import Server, client
from tests.web.test_verify import verify_env


async def page_then_post(base_url: str, ip: str) -> httpx.Response:
    """One phone: its own cookie jar, GET / (which gives it a visitor cookie), then one POST."""
    async with client(base_url, ip) as phone:
        page = await phone.get("/")
        assert page.status_code == 200 and visitor.COOKIE in phone.cookies
        return await phone.post("/api/leads/", json={"phone": factories.mobile()})


async def cookieless_posts(base_url: str, ip: str, n: int, **kwargs: object) -> list[httpx.Response]:
    async with client(base_url, ip, **kwargs) as bare:
        return [await bare.post("/api/leads/", json={"phone": factories.mobile()}) for _ in range(n)]


def server_key(server: Server) -> bytes:
    return visitor.load_key(settings.parse({"DATA_DIR": server.env["LEADCAP_DATA_DIR"]}))


async def test_get_gives_a_signed_visitor_cookie_once(server: Server, ip: str) -> None:
    async with client(server.url, ip) as browser:
        first = await browser.get("/")
        again = await browser.get("/")
    minted = [c for c in first.headers.get_list("set-cookie") if c.startswith(visitor.COOKIE + "=")]
    assert len(minted) == 1
    assert "HttpOnly" in minted[0] and "SameSite=Lax" in minted[0] and "Max-Age=86400" in minted[0]
    value = minted[0].split(";", 1)[0].split("=", 1)[1]
    assert visitor.read(server_key(server), value, int(time.time())) is not None
    assert not any(c.startswith(visitor.COOKIE + "=") for c in again.headers.get_list("set-cookie"))
    async with client(server.url, ip) as checker:  # a HEAD is no view: no cookie, as no visit
        assert "set-cookie" not in (await checker.head("/")).headers


async def test_a_hundred_phones_behind_one_address_all_get_in(server: Server, ip: str) -> None:
    answers = await asyncio.gather(*(page_then_post(server.url, ip) for _ in range(100)))
    assert [a.status_code for a in answers] == [202] * 100
    # Each reported its own window (the visitor's 10/minute), not the address's.
    assert {(a.headers["RateLimit-Limit"], a.headers["RateLimit-Remaining"]) for a in answers} == {
        ("10", "9")
    }
    # Cookie-less clients of that very address are still held at 10 a minute: the original rule.
    bare = await cookieless_posts(server.url, ip, 11)
    assert [a.status_code for a in bare] == [202] * 10 + [429]


async def limited(pg: asyncpg.Pool, window: str) -> int:
    """Refusals by `window` the web tier has flushed to intake_counts so far (the campaign view's)."""
    query = "SELECT coalesce(sum(n), 0) FROM intake_counts WHERE outcome = 'rate_limited' AND code = $1"
    return int(await pg.fetchval(query, window))


async def counted_once_more(pg: asyncpg.Pool, window: str, before: int) -> bool:
    async def more() -> bool:
        return await limited(pg, window) >= before + 1

    return bool(await servers.wait_for(more, 10))


async def test_one_visitor_is_refused_at_its_eleventh(server: Server, ip: str, pg: asyncpg.Pool) -> None:
    before = await limited(pg, "visitor")
    async with client(server.url, ip) as phone:
        await phone.get("/")
        answers = [await phone.post("/api/leads/", json={"phone": factories.mobile()}) for _ in range(11)]
    assert [a.status_code for a in answers] == [202] * 10 + [429]
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert (
        answers[-1].headers["RateLimit-Limit"] == "10" and answers[-1].headers["RateLimit-Remaining"] == "0"
    )
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    # The address itself is untouched: another phone behind it gets in.
    assert (await page_then_post(server.url, ip)).status_code == 202
    assert await counted_once_more(pg, "visitor", before)  # /admin/ and `stats` see it as a visitor's


async def test_forged_expired_and_other_key_cookies_count_as_none(
    server: Server, ip: str, pg: asyncpg.Pool
) -> None:
    before = await limited(pg, "address")
    key, now = server_key(server), int(time.time())
    real = visitor.mint(key, now)
    body, _, mac = real.rpartition(".")
    cookies = [
        visitor.mint(b"another key, 32 bytes long......", now),  # another key's
        visitor.mint(key, now - visitor.MAX_AGE_S - 1),  # expired
        f"{body}.{'A' * len(mac)}",  # forged
        "1.made-up.0.AAAA",
        "x" * 200,
    ]
    answers = []
    for i in range(11):  # each from a jar of its own: had any counted as a visitor, all 11 passed
        cookie = {visitor.COOKIE: cookies[i % len(cookies)]}
        answers += await cookieless_posts(server.url, ip, 1, cookies=cookie)
    assert [a.status_code for a in answers] == [202] * 10 + [429]
    assert answers[-1].headers["RateLimit-Limit"] == "10"
    assert await counted_once_more(pg, "address", before)


@pytest.fixture(scope="module")
def tight_server(env: dict[str, str], run_dir: Path) -> Iterator[Server]:
    """A server whose shared ceiling is 5 visitor POSTs a minute per address."""
    with servers.serving({**env, "LEADCAP_SHARED_IP_LIMIT": "5/minute"}, run_dir / "tight.log") as running:
        yield running


async def test_the_shared_ceiling_holds_every_visitor_of_an_address(
    tight_server: Server, ip: str, pg: asyncpg.Pool
) -> None:
    """A bot that mints a cookie per POST is still held by its address's ceiling; that ceiling
    does not touch the address's cookie-less budget, and another address has its own."""
    before = await limited(pg, "shared")
    answers = [await page_then_post(tight_server.url, ip) for _ in range(6)]
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["RateLimit-Limit"] == "10"  # the visitor's own limit is reported
    assert refused.headers["RateLimit-Remaining"] == "10"  # and it was not charged
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert [a.status_code for a in await cookieless_posts(tight_server.url, ip, 1)] == [202]
    other = ip.replace("127.10.", "127.12.")
    assert (await page_then_post(tight_server.url, other)).status_code == 202
    assert await counted_once_more(pg, "shared", before)


@pytest.fixture(scope="module")
def sms_server(env: dict[str, str], run_dir: Path, fake: FakeSms) -> Iterator[Server]:
    """Verification on, one code an hour per client and three for the visitors of one address."""
    extra = {"LEADCAP_SMS_PER_IP": "1/hour", "LEADCAP_SMS_SHARED_IP": "3/hour"}
    with servers.serving(verify_env(env, fake, "kavenegar", **extra), run_dir / "visitor-sms.log") as running:
        yield running


async def test_codes_reach_phones_behind_one_address_by_the_same_rule(
    sms_server: Server, fake: FakeSms, ip: str
) -> None:
    """Each visitor has its own SMS budget and the visitors of an address share a ceiling; a
    cookie-less client is budgeted by its address. The code step counts visitors apart too."""
    fake.mode = "ok"
    sent = []
    for _ in range(4):
        async with client(sms_server.url, ip) as phone:
            await phone.get("/")
            lead = (await phone.post("/api/leads/", json={"phone": factories.mobile()})).json()
            sent.append(lead["status"] == "verification_sent")
            if len(sent) == 1:  # the code step of a visitor: its own window, the visitor's limit
                step = await phone.post(
                    f"/api/leads/{lead['id']}/verify", json={"code": "00000", "token": "wrong"}
                )
                assert step.status_code != 429 and step.headers["RateLimit-Remaining"] == "9"
    assert sent == [True, True, True, False]  # 1 each, 3 for the address's visitors together
    async with client(sms_server.url, ip) as bare:
        answers = [
            (await bare.post("/api/leads/", json={"phone": factories.mobile()})).json() for _ in range(2)
        ]
    assert [a["status"] for a in answers] == ["verification_sent", "queued"]  # the address's own
