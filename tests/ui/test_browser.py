"""The landing page in a real Chromium against a real `leadcap serve` (run by `nox -s ui`)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests import servers
from tests.servers import Process, Server
from tests.web.test_pipeline import wait_for_lead

pytestmark = pytest.mark.browser
DIST = servers.ROOT / "web" / "ui" / "dist"
OUT = servers.ROOT / "test-output" / "browser"


@pytest.fixture(scope="module")
def ui_server(env: dict[str, str], run_dir: Path) -> Iterator[Server]:
    assert (DIST / "index.html").is_file(), "build the front end first: (cd web/ui && npm run build)"
    running = servers.start_server({**env, "LEADCAP_UI_DIST": str(DIST)}, run_dir / "ui-serve.log")
    yield running
    running.process.stop()


async def test_landing_page_in_chromium(ui_server: Server, worker: Process, pg: asyncpg.Pool) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["node", "e2e/landing.mjs"],
        cwd=servers.ROOT / "web" / "ui",
        env={**os.environ, "BASE_URL": ui_server.url, "OUT_DIR": str(OUT)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    print(result.stderr)
    assert result.returncode == 0, result.stderr[-4000:]
    figures = json.loads(result.stdout)
    print(
        "browser figures:", json.dumps({k: v for k, v in figures.items() if k.endswith("_ms") or k == "cls"})
    )
    for key in ("submitted_phone", "nojs_submitted_phone"):
        lead = await wait_for_lead(pg, figures[key])
        assert lead["submissions"] == 1
    assert any(OUT.glob("*390*.png")) and any(OUT.glob("*1280*.png"))


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
