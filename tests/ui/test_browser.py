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
from tests.servers import Process, Server, wait_for_lead

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
