"""/admin/ in a real Chromium against a real `leadcap serve` and worker (run by `nox -s ui`):
sign in, read the charts, change a status (its audit row checked here), both locales at
1280 px and 320 px with screenshots, and axe with no WCAG A/AA violation. In Persian: Solar Hijri
dates and Persian digits on a lead submitted at a known instant, the font, the day filters, the
«تا تاریخ» label with its field at every width, and the CSV's byte-order mark (web/ui/e2e/admin.mjs)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from leadcap.ids import uuid7
from leadcap.intake.submission import Submission
from leadcap.stores.postgres import Postgres
from tests import factories, servers
from tests.servers import Process, Server, Stores, client, on_db, wait_for

pytestmark = pytest.mark.browser
OUT = servers.ROOT / "test-output" / "browser"
PASSWORD = "correct horse battery"
REDIS_DB = 2  # its own Redis database (each module that flushes one has its own)
DIST = servers.ROOT / "web" / "ui" / "dist"  # the build `nox -s ui` makes: the admin's font is in it
# 00:15 on Nowruz 1405 in Tehran (LEADCAP_TIMEZONE's default); in UTC still the last day of 1404.
KNOWN_AT = datetime(2026, 3, 20, 20, 45, tzinfo=UTC)
KNOWN_PHONE = "+989123456789"


@pytest.fixture(scope="module")
async def admin_db(stores: Stores) -> str:
    return await servers.migrated_database(stores.database)


@pytest.fixture(scope="module")
def admin_stack(env: dict[str, str], admin_db: str, stores: Stores, run_dir: Path) -> Iterator[Server]:
    own = {
        **env,
        "LEADCAP_DATABASE_URL": admin_db,
        "LEADCAP_REDIS_URL": on_db(stores.redis, REDIS_DB),
        "LEADCAP_UI_DIST": str(DIST),
    }
    server = servers.start_server(own, run_dir / "admin-ui-serve.log")
    worker = Process(("worker",), own, run_dir / "admin-ui-worker.log").start()
    yield server
    worker.stop()
    server.process.stop()


async def test_admin_in_chromium(admin_stack: Server, admin_db: str) -> None:
    added = servers.leadcap("admin", "add-user", "ops", env=admin_stack.env, stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    async with client(admin_stack.url, "127.32.0.1", headers={"user-agent": "visitor"}) as http:
        await http.get("/")
        posted = await http.post("/api/leads/", json={"phone": factories.mobile(), "source": "hero"})
        assert posted.status_code == 202
    known = await Postgres.open(admin_db)
    try:  # a lead submitted at a known instant, long before the one just posted
        at_ms = int(KNOWN_AT.timestamp() * 1000)
        lead = Submission(id=uuid7(now_ms=at_ms), phone=KNOWN_PHONE, region="IR", source="نوروز")
        await known.leads.record([lead])
    finally:
        await known.close()
    pg = await asyncpg.connect(admin_db)
    try:

        async def lead() -> bool:
            return await pg.fetchval("SELECT count(*) FROM leads") == 2

        assert await wait_for(lead, 20)
        OUT.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["node", "e2e/admin.mjs"],
            cwd=servers.ROOT / "web" / "ui",
            env={
                **os.environ,
                "BASE_URL": admin_stack.url,
                "OUT_DIR": str(OUT),
                "ADMIN_USER": "ops",
                "ADMIN_PASSWORD": PASSWORD,
                "KNOWN_AT": KNOWN_AT.isoformat(),
                "KNOWN_PHONE": KNOWN_PHONE,
                "ADMIN_TIMEZONE": "Asia/Tehran",
            },
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        print(result.stderr)
        assert result.returncode == 0, result.stderr[-4000:]
        figures = json.loads(result.stdout)
        changes = await pg.fetch(
            "SELECT old_status, new_status, changed_by FROM lead_status_changes WHERE lead_id = $1::uuid"
            " ORDER BY id",
            figures["changed_lead"],
        )
        assert [tuple(c) for c in changes] == [("new", "contacted", "ops"), ("contacted", "qualified", "ops")]
    finally:
        await pg.close()
    # What the browser read for the known lead, against what it must be (computed here apart).
    assert figures["known"] == {
        "shown": "۱۴۰۵/۰۱/۰۱ ۰۰:۱۵",
        "wanted": "۱۴۰۵/۰۱/۰۱ ۰۰:۱۵",
        "phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹",
        "typed": "۱۴۰۵/۰۱/۰۱",
    }
    for lang in ("fa", "en"):
        for shot in ("overview", "leads"):
            assert (OUT / f"admin-{shot}-{lang}-1280.png").is_file()
        assert (OUT / f"admin-leads-{lang}-320.png").is_file()
