"""The page's language (LEADCAP_LOCALE), the language of every error.message (Accept-Language),
and the campaign file, through a real `leadcap serve` and the app in process."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests import inprocess, servers
from tests.inprocess import App
from tests.servers import Server, client
from web import campaign, messages, responses

FORM = {"content-type": "application/x-www-form-urlencoded"}
LANDLINE = "021 8888 8888"
BADGE = "https://trustseal.enamad.ir/logo.aspx?id=1&Code=x"
PERSIAN_LETTERS = re.compile(r"[\u0600-\u06FF]")
DEFAULT = campaign.load(None)


@pytest.fixture(scope="module")
def campaign_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = json.loads(campaign.DEFAULT_FILE.read_text(encoding="utf-8"))
    data["locales"]["en"]["headline"] = "A headline from the campaign file"
    data["badges"] = [
        {
            "image": BADGE,
            "link": "https://trustseal.enamad.ir/?id=1&Code=x",
            "width": 90,
            "height": 90,
            "alt": {"fa": "نماد اعتماد", "en": "Enamad seal"},
        }
    ]
    path = tmp_path_factory.mktemp("campaign") / "campaign.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in front-end build with one template per locale, as `npm run build` writes them."""
    dist = tmp_path_factory.mktemp("dist")
    for lang, direction in (("fa", "rtl"), ("en", "ltr")):
        (dist / f"template.{lang}.html").write_text(
            f'<!doctype html><html lang="{lang}" dir="{direction}" data-region="IR">'
            f"<h1>{lang} build: ⟦headline⟧</h1>"
        )
    return dist


@pytest.fixture(scope="module")
async def english_server(env: dict[str, str], campaign_file: Path) -> AsyncIterator[App]:
    async with inprocess.running(
        {**env, "LEADCAP_LOCALE": "en", "LEADCAP_CAMPAIGN_FILE": str(campaign_file)}
    ) as running:
        yield running


async def test_the_default_page_is_persian_and_right_to_left(server: Server) -> None:
    async with client(server.url) as http:
        response = await http.get("/")
    assert response.text.startswith('<!doctype html>\n<html lang="fa" dir="rtl">')
    assert DEFAULT.copy("fa").headline in response.text
    assert 'dir="ltr" autocomplete="tel" inputmode="tel"' in response.text  # the number stays LTR


async def test_json_errors_follow_accept_language(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        default = await http.post("/api/leads/", json={"phone": LANDLINE})
        english = await http.post(
            "/api/leads/", json={"phone": LANDLINE}, headers={"Accept-Language": "en-US,en;q=0.9"}
        )
        other = await http.post("/api/leads/", json={"phone": LANDLINE}, headers={"Accept-Language": "de"})
    sentences = messages.CATALOGUE["not_mobile"]
    assert default.json()["error"] == {"code": "not_mobile", "message": sentences["fa"], "field": "phone"}
    assert english.json()["error"] == {"code": "not_mobile", "message": sentences["en"], "field": "phone"}
    assert other.json()["error"]["message"] == sentences["fa"]  # unsupported: the page's language
    assert sentences["fa"].encode() in default.content  # UTF-8 as is, not \\u-escaped


async def test_sanic_level_errors_are_translated_too(server: Server) -> None:
    async with client(server.url) as http:
        fa = await http.get("/api/nowhere")
        en = await http.get("/api/nowhere", headers={"Accept-Language": "en"})
    assert fa.status_code == en.status_code == 404
    assert fa.json()["error"] == {"code": "not_found", "message": messages.CATALOGUE["not_found"]["fa"]}
    assert en.json()["error"] == {"code": "not_found", "message": messages.CATALOGUE["not_found"]["en"]}


async def test_the_no_js_error_page_is_persian(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        # The browser prefers English, but the page around the sentence is Persian: so is the sentence.
        response = await http.post(
            "/api/leads/", content="phone=021+8888+8888", headers={**FORM, "Accept-Language": "en"}
        )
    assert response.status_code == 422
    assert response.text.startswith('<!doctype html>\n<html lang="fa" dir="rtl">')
    assert messages.CATALOGUE["not_mobile"]["fa"] in response.text


async def test_the_no_js_thank_you_says_when_we_call(server: Server) -> None:
    async with client(server.url) as http:
        response = await http.get("/?submitted=1")
    assert '<html lang="fa" dir="rtl">' in response.text
    assert DEFAULT.copy("fa").call_back in response.text


async def test_english_locale_and_campaign_file(english_server: App, ip: str) -> None:
    async with english_server.client(ip) as http:
        page = await http.get("/")
        thanks = await http.get("/?submitted=1")
        default = await http.post("/api/leads/", json={"phone": LANDLINE})
        persian = await http.post("/api/leads/", json={"phone": LANDLINE}, headers={"Accept-Language": "fa"})
    assert page.text.startswith('<!doctype html>\n<html lang="en" dir="ltr">')
    assert "A headline from the campaign file" in page.text
    assert not PERSIAN_LETTERS.search(page.text)
    assert "We will call you between 9:00 and 17:00, Saturday to Wednesday" in thanks.text
    assert default.json()["error"]["message"] == messages.CATALOGUE["not_mobile"]["en"]
    assert persian.json()["error"]["message"] == messages.CATALOGUE["not_mobile"]["fa"]
    # The badge's image host is allowed through the CSP, and nothing else is added: in the
    # thank-you page's header, and in the landing page's own <meta> policy, which narrows the
    # fixed header that the page has from leadcap and from nginx alike (responses.PAGE_HEADERS).
    csp = thanks.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://trustseal.enamad.ir;" in csp
    assert csp.count("https://") == 1
    assert page.headers["Content-Security-Policy"] == responses.PAGE_HEADERS["Content-Security-Policy"]
    policy = '<meta http-equiv="Content-Security-Policy" content="img-src \'self\' data: https://trustseal.enamad.ir">'
    assert page.text.count(policy) == 1 and page.text.index(policy) < page.text.index("<title>")


async def test_the_build_of_the_configured_locale_is_served_with_the_server_region(
    env: dict[str, str], build: Path
) -> None:
    async with (
        inprocess.running(
            {**env, "LEADCAP_UI_DIST": str(build), "LEADCAP_LOCALE": "en", "LEADCAP_DEFAULT_REGION": "GB"}
        ) as running,
        running.client() as http,
    ):
        page = await http.get("/")
    assert page.text == (
        '<!doctype html><html lang="en" dir="ltr" data-region="GB">'
        "<h1>en build: Expert advice, without the wait.</h1>"
    )


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('{"phone": {"tel": "+982191001234"}}', "phone.display must be non-empty text"),
        ("not json", "is not valid JSON"),
    ],
)
def test_a_bad_campaign_file_stops_serve_with_exit_78(
    env: dict[str, str], tmp_path: Path, content: str, named: str
) -> None:
    bad = tmp_path / "campaign.json"
    bad.write_text(content, encoding="utf-8")
    # A port of its own: serve checks its port first, and 8000 may be taken on a shared machine.
    own = {**env, "LEADCAP_CAMPAIGN_FILE": str(bad), "LEADCAP_PORT": str(servers.embedded.free_port())}
    result = servers.leadcap("serve", env=own, timeout=60)
    assert result.returncode == 78, result.stderr
    assert "LEADCAP_CAMPAIGN_FILE" in result.stderr and named in result.stderr


def test_an_unknown_locale_is_a_configuration_error(env: dict[str, str]) -> None:
    result = servers.leadcap("config", env={**env, "LEADCAP_LOCALE": "de"})
    assert result.returncode == 78 and "LEADCAP_LOCALE" in result.stderr
