"""GET /: served from memory with an ETag, secured, and refreshed everywhere by `flush-cache`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leadcap.landing import campaign as rules
from tests import servers
from tests.servers import Server, Stores, client, on_db


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in build: the Persian template with two slots, as `npm run build` writes it."""
    dist = tmp_path_factory.mktemp("dist")
    (dist / "assets").mkdir()
    (dist / "assets" / "index-3f2a1b.js").write_text("console.log('hi')")
    (dist / "template.fa.html").write_text("<!doctype html><title>⟦title⟧</title><h1>⟦headline⟧</h1>")
    return dist


def write_campaign(path: Path, headline: str) -> None:
    data = json.loads(rules.DEFAULT_FILE.read_text(encoding="utf-8"))
    data["locales"]["fa"]["title"] = "v1"
    data["locales"]["fa"]["headline"] = headline
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def campaign_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("campaign") / "campaign.json"
    write_campaign(path, "campaign one")
    return path


@pytest.fixture(scope="module")
def assets(campaign_file: Path) -> Path:
    """LEADCAP_ASSETS_DIR beside the campaign file (never the campaign's own folder)."""
    folder = campaign_file.parent / "assets"
    folder.mkdir()
    (folder / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (folder / "notes.txt").write_text("not an image")
    (folder / "out.svg").symlink_to(campaign_file.parent / "secret.svg")
    (campaign_file.parent / "secret.svg").write_text("<svg>secret</svg>")
    return folder


@pytest.fixture(scope="module")
def two_process_server(
    env: dict[str, str], stores: Stores, build: Path, campaign_file: Path, assets: Path, run_dir: Path
) -> Iterator[Server]:
    with servers.serving(
        {
            **env,
            "LEADCAP_UI_DIST": str(build),
            "LEADCAP_CAMPAIGN_FILE": str(campaign_file),
            "LEADCAP_ASSETS_DIR": str(assets),
            "LEADCAP_WEB_WORKERS": "2",
            "LEADCAP_REDIS_URL": on_db(stores.redis, 7),
        },
        run_dir / "landing.log",
    ) as running:
        yield running


async def test_fallback_page_is_a_working_form(server: Server) -> None:
    async with client(server.url) as http:
        response = await http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert re.search(r'<form method="post" action="/api/leads/"', response.text)
    assert 'name="phone"' in response.text and 'type="tel"' in response.text


async def test_security_headers_and_etag(server: Server) -> None:
    async with client(server.url) as http:
        response = await http.get("/")
        again = await http.get("/", headers={"If-None-Match": response.headers["ETag"]})
        head = await http.head("/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert again.status_code == 304 and again.content == b""
    assert (
        head.status_code == 200 and head.content == b"" and head.headers["ETag"] == response.headers["ETag"]
    )


async def test_a_counted_view_marks_the_browser_until_the_hour_ends(server: Server) -> None:
    """With or without an edge: the browser's POST carries the mark, so its lead counts as one
    that came with a counted visit (conversion). The mark holds no identifier; a HEAD is no view."""
    async with client(server.url) as http:
        response = await http.get("/")
        head = await http.head("/")
    assert response.status_code == 200
    name, _, rest = response.headers["Set-Cookie"].partition("=")
    value, *attributes = (part.strip() for part in rest.split(";"))
    assert (name, value) == ("leadcap_visited", "1")
    max_age = int(next(a for a in attributes if a.lower().startswith("max-age=")).split("=")[1])
    assert 0 < max_age <= 3600
    assert {"Path=/", "HttpOnly", "SameSite=Lax"} <= set(attributes)
    assert "Set-Cookie" not in head.headers


async def test_thank_you_page_after_a_form_post(server: Server) -> None:
    async with client(server.url) as http:
        response = await http.get("/?submitted=1")
    assert response.status_code == 200 and "ممنون" in response.text  # LEADCAP_LOCALE defaults to fa


def test_flush_cache_reaches_every_process(
    two_process_server: Server, campaign_file: Path, env: dict[str, str], stores: Stores
) -> None:
    """The page is filled from the campaign file at start; after the file changes, flush-cache
    makes both processes serve the new copy (no rebuild); a bad file is refused with exit 1
    naming the field, and the good page stays in both."""
    url = two_process_server.url
    flush_env = {
        **env,
        "LEADCAP_CAMPAIGN_FILE": str(campaign_file),
        "LEADCAP_REDIS_URL": on_db(stores.redis, 7),
    }

    def pages() -> set[str]:
        # A new connection each time, so the kernel spreads them over both processes.
        return {httpx.get(url + "/", headers={"Connection": "close"}).text for _ in range(30)}

    def page(headline: str) -> str:
        return f"<!doctype html><title>v1</title><h1>{headline}</h1>"

    assert pages() == {page("campaign one")}
    try:
        write_campaign(campaign_file, "campaign <two> & more")
        assert pages() == {page("campaign one")}  # never re-read per request
        flushed = servers.leadcap("flush-cache", env=flush_env)
        assert flushed.returncode == 0, flushed.stderr
        assert "2 web process(es) serving it" in flushed.stdout  # both confirmed before it returned
        assert pages() == {page("campaign &lt;two&gt; &amp; more")}

        write_campaign(campaign_file, " ")
        refused = servers.leadcap("flush-cache", env=flush_env)
        assert refused.returncode == 1
        assert "LEADCAP_CAMPAIGN_FILE locales.fa.headline must be non-empty text" in " ".join(
            refused.stderr.split()
        )
        assert pages() == {page("campaign &lt;two&gt; &amp; more")}  # the good page stays everywhere
    finally:
        write_campaign(campaign_file, "campaign one")
        assert servers.leadcap("flush-cache", env=flush_env).returncode == 0


def test_the_campaigns_images_and_nothing_else_are_served_from_the_assets_folder(
    two_process_server: Server,
) -> None:
    url = two_process_server.url
    logo = httpx.get(url + "/campaign-assets/logo.svg")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in logo.headers["Content-Security-Policy"]  # opened alone, it runs nothing
    for path in (
        "notes.txt",
        "out.svg",
        "%2e%2e/campaign.json",
        "..%2fsecret.svg",
        "%2e%2e%2fsecret.svg",
        "nope.svg",
    ):
        refused = httpx.get(f"{url}/campaign-assets/{path}")
        assert refused.status_code == 404 and "secret" not in refused.text, path


def test_hashed_assets_are_immutable(two_process_server: Server) -> None:
    response = httpx.get(two_process_server.url + "/assets/index-3f2a1b.js")
    assert response.status_code == 200 and response.text == "console.log('hi')"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


async def test_cors_only_for_configured_origins(env: dict[str, str], run_dir: Path) -> None:
    running = servers.start_server(
        {**env, "LEADCAP_CORS_ORIGINS": "https://landing.example"}, run_dir / "cors.log"
    )
    try:
        async with client(running.url, "127.40.0.1") as http:
            allowed = await http.options(
                "/api/leads/",
                headers={"Origin": "https://landing.example", "Access-Control-Request-Method": "POST"},
            )
            posted = await http.post(
                "/api/leads/", json={"phone": "nope"}, headers={"Origin": "https://landing.example"}
            )
            other = await http.post(
                "/api/leads/", json={"phone": "nope"}, headers={"Origin": "https://evil.example"}
            )
        assert allowed.status_code == 204
        assert allowed.headers["Access-Control-Allow-Origin"] == "https://landing.example"
        assert "Content-Type" in allowed.headers["Access-Control-Allow-Headers"]
        assert posted.headers["Access-Control-Allow-Origin"] == "https://landing.example"
        assert "Retry-After" in posted.headers["Access-Control-Expose-Headers"]
        assert "Access-Control-Allow-Origin" not in other.headers
        # a listed origin's POST is judged as any other; another site's is refused
        assert (posted.status_code, other.status_code) == (422, 403)
        assert other.json()["error"]["code"] == "forbidden_origin"
    finally:
        running.process.stop()


async def test_weak_and_listed_etags_match(server: Server) -> None:
    async with client(server.url) as http:
        etag = (await http.get("/")).headers["ETag"]
        for header in (f"W/{etag}", f'"other", {etag}', "*"):
            assert (await http.get("/", headers={"If-None-Match": header})).status_code == 304
        assert (await http.get("/", headers={"If-None-Match": '"other"'})).status_code == 200
