"""The landing page in a real Chromium against real `leadcap serve`s, one per locale (`nox -s ui`),
each filling the build's template at run time from a campaign file that is not the build's.

The figures (FCP against a plain static server, click feedback, CLS, axe) are printed and the
screenshots of both locales at 390 and 1280 px are left in test-output/browser/."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from leadcap.landing import campaign as rules
from leadcap.landing import template
from tests import servers
from tests.servers import Process, Server, wait_for_lead

pytestmark = pytest.mark.browser
DIST = servers.ROOT / "web" / "ui" / "dist"
OUT = servers.ROOT / "test-output" / "browser"


# The campaign the servers are given at run time: not the build's demo, with copy that must be
# escaped (a `</script>` and quotes in the brand), a logo and a badge from LEADCAP_ASSETS_DIR.
BRAND = {"fa": 'نوآوران "پارس" </script>', "en": 'Pars "Novin" </script> & Co'}
HEADLINE = {"fa": "مشاوره‌ی حقوقی، همین امروز", "en": "Legal advice, today."}
# It asks for consent (leadcap/landing/consent.py): the checkbox in both locales, and CLS 0 with it.
CONSENT = {
    "fa": "با تماس کارشناسان و نگه‌داری شماره‌ام طبق سیاست حریم خصوصی موافقم.",
    "en": "I agree to be called and to my number being kept under the privacy policy.",
}


def campaign_file(folder: Path) -> tuple[Path, Path]:
    """A campaign file and its images folder, written under `folder`."""
    data = json.loads(rules.DEFAULT_FILE.read_text(encoding="utf-8"))
    for lang in ("fa", "en"):
        data["locales"][lang].update(brand=BRAND[lang], headline=HEADLINE[lang], consent=CONSENT[lang])
    assets = folder / "assets"
    assets.mkdir(parents=True)
    logo = (servers.ROOT / "web" / "assets.example" / "logo.svg").read_text()
    (assets / "logo.svg").write_text(logo)
    (assets / "seal.svg").write_text(logo)
    data["logo"] = {"src": "logo.svg", "width": 32, "height": 32}
    seal = {"image": "seal.svg", "link": "https://seal.example/", "width": 64, "height": 64}
    data["badges"] = [{**seal, "alt": {"fa": "نماد اعتماد", "en": "Trust seal"}}]
    path = folder / "campaign.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path, assets


@pytest.fixture(scope="module")
def ui_servers(env: dict[str, str], run_dir: Path) -> Iterator[dict[str, Server]]:
    assert (DIST / "template.fa.html").is_file(), "build the front end first: (cd web/ui && npm run build)"
    campaign, assets = campaign_file(run_dir / "ui-campaign")
    running = {
        locale: servers.start_server(
            {
                **env,
                "LEADCAP_UI_DIST": str(DIST),
                "LEADCAP_LOCALE": locale,
                "LEADCAP_CAMPAIGN_FILE": str(campaign),
                "LEADCAP_ASSETS_DIR": str(assets),
            },
            run_dir / f"ui-serve-{locale}.log",
        )
        for locale in ("fa", "en")
    }
    yield running
    for server in running.values():
        server.process.stop()


async def test_landing_page_in_chromium(
    ui_servers: dict[str, Server], worker: Process, pg: asyncpg.Pool
) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    urls = ",".join(f"{locale}={server.url}" for locale, server in ui_servers.items())
    result = subprocess.run(
        ["node", "e2e/landing.mjs"],
        cwd=servers.ROOT / "web" / "ui",
        env={
            **os.environ,
            "BASE_URLS": urls,
            "OUT_DIR": str(OUT),
            "EXPECT_TEXT": json.dumps({lang: [BRAND[lang], HEADLINE[lang]] for lang in ("fa", "en")}),
            "EXPECT_CONSENT": json.dumps(CONSENT, ensure_ascii=False),
        },
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    print(result.stderr)
    figures = json.loads(result.stdout or "{}")
    shown = ("_ms", "cls", "fcp_ratio", "axe")
    print("browser figures:", json.dumps({k: v for k, v in figures.items() if k.endswith(shown)}, indent=1))
    assert result.returncode == 0, "\n".join(figures.get("failures", [])) or result.stderr[-4000:]
    for phone in figures["submitted_phones"]:
        lead = await wait_for_lead(pg, phone)
        assert lead["submissions"] == 1
    for locale in ("fa", "en"):
        for state in ("default", "error", "success"):
            for width in (390, 1280):
                assert (OUT / f"{locale}-{state}-{width}.png").is_file()


@pytest.mark.parametrize("locale", ["fa", "en"])
async def test_code_step_in_chromium(
    env: dict[str, str], run_dir: Path, worker: Process, pg: asyncpg.Pool, locale: str
) -> None:
    """LEADCAP_VERIFY=sms with the log provider: submit, read the code in the server log, type a
    wrong one and then the right one (in Persian digits), and the lead is `verified`."""
    OUT.mkdir(parents=True, exist_ok=True)
    log = run_dir / f"ui-verify-{locale}.log"
    # The suite's servers share one Redis, and the browser comes from 127.0.0.1 like the
    # schemathesis run: that client's rate limit and SMS budget are not what this test is about.
    verifying = {
        "LEADCAP_VERIFY": "sms",
        "LEADCAP_SMS_PROVIDER": "log",
        "LEADCAP_LOCALE": locale,
        "LEADCAP_SMS_PER_IP": "100000/hour",
        "LEADCAP_RATE_LIMIT": "100000/minute",
    }
    server = servers.start_server({**env, "LEADCAP_UI_DIST": str(DIST), **verifying}, log)
    try:
        result = subprocess.run(
            ["node", "e2e/verify.mjs"],
            cwd=servers.ROOT / "web" / "ui",
            env={**os.environ, "BASE_URL": server.url, "SERVER_LOG": str(log), "OUT_DIR": str(OUT)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.process.stop()
    print(result.stderr)
    assert result.returncode == 0, result.stderr[-4000:]
    figures = json.loads(result.stdout)
    assert figures["locale"] == locale
    print("code step:", json.dumps(figures))

    async def verified() -> asyncpg.Record | None:
        return await pg.fetchrow(
            "SELECT * FROM leads WHERE phone = $1 AND status = 'verified' AND verified_at IS NOT NULL",
            figures["phone"],
        )

    assert await servers.wait_for(verified, timeout=20)


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_the_page_filled_at_run_time_is_the_page_react_renders(locale: str) -> None:
    """The build renders its demo campaign with React (index.<locale>.html) and writes the same
    page with slots (template.<locale>.html): filled here with that campaign, it is the same
    bytes, so a page filled from any campaign hydrates without a mismatch."""
    demo = rules.load(None)
    assert template.render(DIST, demo, locale) == (DIST / f"index.{locale}.html").read_bytes()
