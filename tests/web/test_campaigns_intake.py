"""A campaign's form through a real `leadcap serve` and `leadcap worker`: the slug it posts picks
the campaign (and the dedupe), an unknown or archived one answers 422 unknown_campaign, and the
no-JS form lands back on the campaign's own page."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests import factories, inprocess, servers
from tests.cli.test_campaigns import campaign_file, cli
from tests.cli.test_webhooks import Ran
from tests.servers import Process, Server, client, wait_for
from tests.web.test_leads_api import assert_error

_IPS = itertools.count()


def poll_ip() -> str:
    """A loopback address of its own for each poll, so waiting spends no test's rate limit."""
    n = next(_IPS)
    return f"127.26.{n // 250}.{n % 250 + 1}"


async def answer(server: Server, body: dict[str, object], ip: str | None = None) -> httpx.Response:
    async with client(server.url, ip or poll_ip()) as http:
        return await http.post("/api/leads/", json=body)


async def lead_rows(pg: asyncpg.Pool, phone: str, n: int) -> list[asyncpg.Record]:
    async def rows() -> list[asyncpg.Record] | None:
        found = await pg.fetch("SELECT * FROM leads WHERE phone = $1 ORDER BY campaign", phone)
        return found if len(found) >= n else None

    found = await wait_for(rows, timeout=20)
    assert found, f"{n} leads of {phone} never reached PostgreSQL"
    return found  # type: ignore[return-value]


@pytest.fixture(scope="module")
def slug(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    name = f"spring-{factories.mobile()[-6:]}"
    ran = cli("add", name, "--file", str(campaign_file(tmp_path_factory.mktemp("c"))), env=env)
    assert ran.returncode == 0, ran.stderr
    return name


async def test_one_phone_two_campaigns(
    server: Server, worker: Process, pg: asyncpg.Pool, slug: str, ip: str
) -> None:
    await until_known(server, slug)
    number = factories.mobile()
    first = await answer(server, {"phone": number, "campaign": slug}, ip)
    again = await answer(server, {"phone": number, "campaign": slug}, ip)
    default = await answer(server, {"phone": number}, ip)
    assert first.status_code == again.status_code == default.status_code == 202, first.text
    assert again.json()["duplicate"] is True and again.json()["id"] == first.json()["id"]
    assert default.json()["duplicate"] is False  # another campaign: another lead
    rows = await lead_rows(pg, factories.e164(number), 2)
    assert [(r["campaign"], r["submissions"]) for r in rows] == [("default", 1), (slug, 1)]
    assert str(rows[1]["id"]) == first.json()["id"]


async def until_known(server: Server, slug: str) -> None:
    """Wait until the campaign is live in the web process: its code is no longer unknown_campaign."""

    async def known() -> bool:
        response = await answer(server, {"phone": "x", "campaign": slug})
        return response.json()["error"]["code"] != "unknown_campaign"

    assert await wait_for(known, timeout=20), f"{slug} never became live"


@pytest.mark.parametrize("campaign", ["nothing-here", "API", "../admin", "a" * 41, "بهار", "x\u0000"])
async def test_unknown_campaign(server: Server, ip: str, campaign: str) -> None:
    response = await answer(server, {"phone": factories.mobile(), "campaign": campaign}, ip)
    if "\u0000" in campaign:  # a control character is a malformed body before it is a slug
        assert_error(response, 400, "invalid_body")
    else:
        assert_error(response, 422, "unknown_campaign")


async def test_not_a_string(server: Server, ip: str) -> None:
    assert_error(await answer(server, {"phone": factories.mobile(), "campaign": 5}, ip), 400, "invalid_body")


async def test_form_lands_on_its_page(server: Server, slug: str, ip: str) -> None:
    await until_known(server, slug)
    async with client(server.url, ip) as http:
        response = await http.post(
            "/api/leads/",
            content=f"phone={factories.mobile()}&campaign={slug}",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 303 and response.headers["location"] == f"/{slug}/?submitted=1"


async def test_archived_campaign_is_refused(
    server: Server, env: dict[str, str], tmp_path: Path, ip: str
) -> None:
    name = f"gone-{factories.mobile()[-6:]}"
    ran = await asyncio.to_thread(cli, "add", name, "--file", str(campaign_file(tmp_path)), env=env)
    assert ran.returncode == 0, ran.stderr
    await until_known(server, name)
    assert (await answer(server, {"phone": factories.mobile(), "campaign": name}, ip)).status_code == 202
    assert (await asyncio.to_thread(cli, "archive", name, env=env)).returncode == 0

    async def refused() -> bool:
        response = await answer(server, {"phone": factories.mobile(), "campaign": name})
        return response.status_code == 422 and response.json()["error"]["code"] == "unknown_campaign"

    assert await wait_for(refused, timeout=20)
    listed = json.loads((await asyncio.to_thread(cli, "list", "--json", env=env)).stdout)
    assert {r["slug"]: r["status"] for r in listed}[name] == "archived"


async def page_of(server: Server, path: str, **headers: str) -> httpx.Response:
    async with client(server.url, poll_ip()) as http:
        return await http.get(path, headers=headers)


async def test_campaign_page_host_and_flush(
    server: Server, env: dict[str, str], tmp_path: Path, pg: asyncpg.Pool
) -> None:
    """/SLUG/ serves the campaign's own copy with a form that posts its slug, cached with an ETag;
    `/` of its --host serves it too; the page changes on `update` and on `flush-cache --campaign`
    only; an archived campaign's page is gone."""
    name = f"page-{factories.mobile()[-6:]}"
    host = f"{name}.example.com"
    path = campaign_file(tmp_path, locales__fa__headline="بهار ۱۴۰۶", locales__en__headline="Spring 1406")
    ran = await asyncio.to_thread(cli, "add", name, "--file", str(path), "--host", host, env=env)
    assert ran.returncode == 0, ran.stderr

    async def served() -> httpx.Response | None:
        response = await page_of(server, f"/{name}/")
        return response if response.status_code == 200 else None

    first = await wait_for(served, timeout=20)
    assert isinstance(first, httpx.Response), f"/{name}/ never served"
    assert "بهار ۱۴۰۶" in first.text and "text/html" in first.headers["content-type"]
    assert f'<input type="hidden" name="campaign" value="{name}">' in first.text
    assert f'data-campaign="{name}"' in first.text
    assert (await page_of(server, f"/{name}/", **{"If-None-Match": first.headers["etag"]})).status_code == 304
    default = await page_of(server, "/")
    assert "بهار ۱۴۰۶" not in default.text and 'name="campaign"' not in default.text
    assert "بهار ۱۴۰۶" in (await page_of(server, "/", host=host)).text  # its own host's /
    assert (await page_of(server, "/nothing-here/")).status_code == 404
    assert (await page_of(server, "/admin-x/")).status_code == 404
    thanks = await page_of(server, f"/{name}/?submitted=1")
    assert thanks.status_code == 200 and "بهار ۱۴۰۶" in thanks.text

    # The stored file changed behind the pages' back: the cached page stays until a flush of it.
    await pg.execute(
        "UPDATE campaigns SET document = jsonb_set(document, '{locales,fa,headline}', '\"تابستان\"')"
        " WHERE slug = $1",
        name,
    )
    assert "بهار ۱۴۰۶" in (await page_of(server, f"/{name}/")).text
    flushed = await asyncio.to_thread(main_cli, "flush-cache", "--campaign", name, env=env)
    assert flushed.returncode == 0, flushed.stderr

    async def changed() -> bool:
        return "تابستان" in (await page_of(server, f"/{name}/")).text

    assert await wait_for(changed, timeout=20)
    # update replaces the file and flushes that page too
    newer = campaign_file(tmp_path, "n.json", locales__fa__headline="پاییز")
    assert (await asyncio.to_thread(cli, "update", name, "--file", str(newer), env=env)).returncode == 0

    async def updated() -> bool:
        return "پاییز" in (await page_of(server, f"/{name}/")).text

    assert await wait_for(updated, timeout=20)
    assert (await asyncio.to_thread(cli, "archive", name, env=env)).returncode == 0

    async def gone() -> bool:
        return (await page_of(server, f"/{name}/")).status_code == 404

    assert await wait_for(gone, timeout=20)
    assert "پاییز" not in (await page_of(server, "/", host=host)).text


def main_cli(*args: str, env: dict[str, str]) -> Ran:
    from typer.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main.app, list(args), env=env)
    return Ran(result.exit_code, result.stdout, result.stderr)


async def test_form_error_stays_on_its_campaign(server: Server, slug: str, ip: str) -> None:
    await until_known(server, slug)
    async with client(server.url, ip) as http:
        response = await http.post(
            "/api/leads/",
            content=f"phone=123&campaign={slug}",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 422
    assert f'<input type="hidden" name="campaign" value="{slug}">' in response.text


async def test_each_visitor_keeps_the_variant_its_cookie_picks(
    server: Server, worker: Process, pg: asyncpg.Pool, env: dict[str, str], tmp_path: Path
) -> None:
    """A campaign with variants: a first GET mints the visitor cookie and serves the variant that
    cookie's id picks (leadcap/landing/variants.py); the same cookie gets the same variant again."""
    from leadcap.landing import campaign as rules
    from leadcap.landing import variants

    name = f"ab-{factories.mobile()[-6:]}"
    rows = [
        {"name": n, "fa": {"headline": f"تیتر {n}"}, "en": {"headline": f"Headline {n}"}} for n in ("x", "y")
    ]
    path = campaign_file(tmp_path, variants=rows)
    ran = await asyncio.to_thread(cli, "add", name, "--file", str(path), env=env)
    assert ran.returncode == 0, ran.stderr
    parsed = rules.loads(path.read_bytes())

    async def served() -> httpx.Response | None:
        response = await page_of(server, f"/{name}/")
        return response if response.status_code == 200 else None

    assert await wait_for(served, timeout=20), f"/{name}/ never served"
    seen = set()
    for _ in range(24):
        async with client(server.url, poll_ip()) as http:
            first = await http.get(f"/{name}/")
            cookie = first.cookies["leadcap_v"]
            visitor_id = cookie.split(".")[1]  # 1.<id>.<made>.<mac>
            want = variants.choose(parsed.variants, name, visitor_id).name
            other = "y" if want == "x" else "x"
            assert f"تیتر {want}" in first.text and f"تیتر {other}" not in first.text
        again = await page_of(server, f"/{name}/", Cookie=f"leadcap_v={cookie}")
        assert "leadcap_v=" not in again.headers.get("set-cookie", "")  # a kept cookie, not a new one
        assert f"تیتر {want}" in again.text
        seen.add(want)
    # The lead records the variant the server derives from the cookie; the form's word is ignored.
    number = factories.mobile()
    async with client(server.url, poll_ip()) as http:
        posted = await http.post(
            "/api/leads/",
            json={"phone": number, "campaign": name, "variant": "forged"},
            headers={"Cookie": f"leadcap_v={cookie}"},
        )
    assert posted.status_code == 202, posted.text
    rows = await lead_rows(pg, factories.e164(number), 1)
    assert rows[0]["variant"] == want
    recorded = await pg.fetchval("SELECT variant FROM submissions WHERE id = $1", rows[0]["id"])
    assert recorded == want
    exported = await asyncio.to_thread(
        main_cli, "export-leads", "--campaign", name, "--format", "jsonl", env=env
    )
    assert exported.returncode == 0, exported.stderr
    assert [json.loads(line)["variant"] for line in exported.stdout.splitlines() if line.strip()] == [want]
    data = await pg.fetchval("SELECT data FROM webhook_events WHERE lead_id = $1", rows[0]["id"])
    assert json.loads(data)["variant"] == want
    assert seen == {"x", "y"}  # 24 visitors on a 1:1 split: both arms (fails by chance 1 in 8 million)


async def test_the_default_campaign_honours_its_variants(
    env: dict[str, str], worker: Process, pg: asyncpg.Pool, tmp_path: Path
) -> None:
    """`/` of a LEADCAP_CAMPAIGN_FILE with variants does what /SLUG/ does (slug `default`): each
    visitor keeps the variant its cookie picks, is counted for it, and its lead records it; the
    page is never left at the edge (nginx cannot read the cookie)."""
    from leadcap.landing import campaign as rules
    from leadcap.landing import variants

    copies = [
        {"name": n, "fa": {"headline": f"پیش‌فرض {n}"}, "en": {"headline": f"Default {n}"}} for n in "pq"
    ]
    path = campaign_file(tmp_path, variants=copies)
    parsed = rules.loads(path.read_bytes())
    edge = tmp_path / "edge"
    edge.mkdir()
    own = {**env, "LEADCAP_CAMPAIGN_FILE": str(path), "LEADCAP_EDGE_DIR": str(edge)}
    shown = {"p": 0, "q": 0}
    async with inprocess.running(own) as app:
        for n in range(16):
            async with app.client(f"127.27.0.{n + 1}") as browser:
                first = await browser.get("/")
                want = variants.choose(
                    parsed.variants, "default", first.cookies["leadcap_v"].split(".")[1]
                ).name
                other = "q" if want == "p" else "p"
                assert f"پیش‌فرض {want}" in first.text and f"پیش‌فرض {other}" not in first.text
                assert f"پیش‌فرض {want}" in (await browser.get("/")).text  # kept
                shown[want] += 1
                if n == 0:
                    number = factories.mobile()
                    posted = await browser.post("/api/leads/", json={"phone": number, "variant": other})
                    assert posted.status_code == 202, posted.text
                    converted = want
        assert not (edge / "index.html").exists()
        await app.sanic.ctx.variant_visits.flush()
    assert min(shown.values()) > 0  # 16 visitors on a 1:1 split: both arms (fails 1 in 32,768)
    rows = await lead_rows(pg, factories.e164(number), 1)
    assert (rows[0]["campaign"], rows[0]["variant"]) == ("default", converted)
    done = await asyncio.to_thread(
        servers.leadcap,
        "stats",
        "--json",
        "--since",
        "today",
        "--by",
        "variant",
        "--campaign",
        "default",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {r["label"]: r["visits"] for r in report["rows"]} == shown
    assert {r["label"]: r["new_leads"] for r in report["rows"]} == {converted: 1, other_of(converted): 0}


def other_of(name: str) -> str:
    return "q" if name == "p" else "p"


async def test_a_fixed_split_over_1000_visitors_through_the_page(env: dict[str, str], tmp_path: Path) -> None:
    """Weights 1:3 over 1,000 first visits of `/`: the count shown "p" is Binomial(1000, 0.25),
    sd ≈ 13.7; the tolerance is 5 sd (±68: a correct split fails about once in 1.7 million runs,
    one that ignores the weights, 500, or inverts them, 750, always does). Every visitor asked
    again with its cookie keeps its variant."""
    copies = [
        {"name": "p", "fa": {"headline": "تقسیم p"}, "en": {"headline": "Split p"}},
        {"name": "q", "weight": 3, "fa": {"headline": "تقسیم q"}, "en": {"headline": "Split q"}},
    ]
    path = campaign_file(tmp_path, variants=copies)
    shown = {"p": 0, "q": 0}
    async with (
        inprocess.running({**env, "LEADCAP_CAMPAIGN_FILE": str(path)}) as app,
        app.client("127.27.2.1") as browser,
    ):
        for _ in range(1000):
            browser.cookies.clear()
            first = await browser.get("/")
            want = "p" if "تقسیم p" in first.text else "q"
            assert f"تقسیم {other_of(want)}" not in first.text
            assert f"تقسیم {want}" in (await browser.get("/")).text  # its cookie: the same variant
            shown[want] += 1
    assert abs(shown["p"] - 250) <= 5 * math.sqrt(1000 * 0.25 * 0.75), shown
