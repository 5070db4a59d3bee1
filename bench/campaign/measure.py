"""/admin/ at scale (issue 26): p50/p99 of every /admin/ page and its filters on 20 campaigns and
1,000,000 leads, and GET /SLUG/ against GET / in the same run.

    python bench/campaign/measure.py                         # 20 campaigns, 1M leads, ~6 minutes
    python bench/campaign/measure.py --leads 50000 --requests 50      # a quick look
    python bench/campaign/measure.py --database-url URL      # a database filled before (--keep)

It makes a scratch database on --admin-url (dropped at the end unless --keep), migrates it, adds
--campaigns campaigns as `leadcap campaigns add` stores them (the default campaign's file, checked
by the same parser; every fourth with 2 to 4 variants), loads fixture.sql (leads spread over them
and the default one, over 90 days; the rollups as the worker's trigger leaves them), adds a user,
starts `leadcap serve` (Redis and MongoDB embedded under a temporary data folder unless
--redis-url/--mongo-url are given) and signs in.

Pages: every GET route of the app under /admin/, read from the app `create_app()` builds, so a page
added later is benched without a change here: a route without parameters is requested as it is,
one with parameters (or with filters worth timing) by its recipe in `recipes()`, and a route with
parameters but no recipe stops the bench. Each page is requested --requests times one after the
other, the pages in turn (noise falls on all alike), after a warm-up; the CSV is timed to its first
64 KiB (what a browser shows as the download starting; the whole file of 1M leads is a stream, not
a page: docs/export.md). Then GET / and GET /SLUG/ (a campaign without variants and one with), as a
first view (no cookies), in --rounds interleaved rounds, the order turned each round; each round's
median per path, the medians' ratio per round, and the median of those.

Exit 1, naming them, if a page's p99 is --limit-ms (100) or more, a CSV's first 64 KiB take
--download-limit-ms (1000) or more at p99 (the CSV is a download, not a page: its first chunk
costs the formatting of its rows; the limit catches a plan that sorts every match before the
first row), or /SLUG/ is more than --max-ratio times as slow as /. Figures are printed as JSON and
kept in bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jdatetime

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    SYSTEM_PG,
    answers,
    percentile,
    psql_file,
    report,
    serve_env,
    wait_until_up,
)
from leadcap.campaign.leadbook import cursor_of  # noqa: E402
from leadcap.landing import campaign as campaign_file  # noqa: E402
from leadcap.ops import embedded  # noqa: E402
from leadcap.stores.postgres.campaigns import CampaignFileStore  # noqa: E402
from leadcap.stores.postgres.migrate import migrate  # noqa: E402
from tests.servers import create_database, drop_database  # noqa: E402
from web import campaign as served_campaign  # noqa: E402

CLI = [sys.executable, "-m", "cli"]
FIXTURE = Path(__file__).with_name("fixture.sql")
PASSWORD = "bench password 1"
CSV_FIRST_BYTES = 64 * 1024  # the admin CSV's first chunk (web/admin/routes.py sends 64 KiB at a time)
WARM_UP = 5  # requests per page before timing: prepared statements, caches
_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


# ---- the fixture ----------------------------------------------------------------------------
def documents(count: int) -> list[tuple[str, dict[str, Any]]]:
    """`count` campaign files: the default campaign's, its headline numbered; every fourth with 2
    to 4 variants of its copy. Each is checked by the parser `leadcap campaigns add` uses."""
    base = json.loads(campaign_file.DEFAULT_FILE.read_text(encoding="utf-8"))
    made = []
    for i in range(count):
        document = json.loads(json.dumps(base))
        locales = document["locales"]
        for words in locales.values():
            words["headline"] = f"{words['headline']} {i}"
        if i % 4 == 0:
            document["variants"] = [
                {lang: {"headline": f"{words['headline']} {v}"} for lang, words in locales.items()}
                for v in range(2 + i // 4 % 3)
            ]
        served_campaign.parse(document)  # as `campaigns add` checks: ConfigError for a file it refuses
        made.append((f"bench-{i:02d}", document))
    return made


async def add_campaigns(url: str, count: int) -> None:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:
        store = CampaignFileStore(pool)
        for slug, document in documents(count):
            await store.add(slug, document, None)
    finally:
        await pool.close()


def fill(url: str, *, campaigns: int, leads: int, days: int = 90) -> None:
    """Campaigns first (fixture.sql spreads the leads over them), then the leads."""
    asyncio.run(add_campaigns(url, campaigns))
    psql_file(url, FIXTURE, leads=leads, days=days)


@dataclass(frozen=True)
class Facts:
    """What the recipes name, read from the filled database."""

    big: str  # the campaign with the most leads besides default
    small: str  # the one with the fewest
    plain: str  # a campaign without variants, for GET /SLUG/
    split: str  # one with variants
    lead_id: str
    second_page: str  # the cursor after the first 50 (the admin's page size)
    deep_page: str  # a cursor half-way down


async def facts_of(url: str) -> Facts:
    conn = await asyncpg.connect(url)
    try:
        counts = await conn.fetch(
            "SELECT c.slug, count(l.id) AS n, c.document ? 'variants' AS split FROM campaigns c"
            " LEFT JOIN leads l ON l.campaign = c.slug GROUP BY c.slug, c.document ORDER BY n DESC, c.slug"
        )
        total = await conn.fetchval("SELECT count(*) FROM leads")

        async def cursor(offset: int) -> str:
            row = await conn.fetchrow(
                "SELECT first_submitted_at, id FROM leads ORDER BY first_submitted_at DESC, id DESC"
                " OFFSET $1 LIMIT 1",
                offset,
            )
            return cursor_of(row["first_submitted_at"], row["id"])

        newest = await conn.fetchval("SELECT id FROM leads ORDER BY first_submitted_at DESC LIMIT 1")
        return Facts(
            big=counts[0]["slug"],
            small=counts[-1]["slug"],
            plain=next(r["slug"] for r in counts if not r["split"]),
            split=next(r["slug"] for r in counts if r["split"]),
            lead_id=str(newest),
            second_page=await cursor(49),
            deep_page=await cursor(total // 2),
        )
    finally:
        await conn.close()


# ---- the pages ------------------------------------------------------------------------------
@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def admin_routes(env: Mapping[str, str]) -> dict[str, str]:
    """Every GET route under /admin/ of the app `leadcap serve` runs with `env`: name → path
    (Sanic's form: `admin/leads/<lead_id:str>/erase`)."""
    from leadcap import settings
    from web.app import create_app

    with environment(env):
        app = create_app(settings.load())
    return {
        route.name.rsplit(".", 1)[-1]: route.path
        for route in app.router.routes
        if "GET" in route.methods and (route.path + "/").startswith("admin/")
    }


def recipes(facts: Facts, today: date) -> dict[str, dict[str, str]]:
    """Route name → the pages timed for it (label → path): its filters, and a value for each
    parameter. A route not here is requested at its own path (it must have no parameters)."""
    week = f"since={today - timedelta(days=6)}&until={today}"
    one_day = f"since={today - timedelta(days=60)}&until={today - timedelta(days=60)}"
    jalali = jdatetime.date.fromgregorian(date=today - timedelta(days=29))
    persian_month = f"since={jalali.strftime('%Y/%m/%d').translate(_PERSIAN)}&lang=fa"
    return {
        "admin_overview": {
            "overview (14 days, today by hour, by source, by campaign)": "/admin/",
            "overview fa": "/admin/?lang=fa",
            # one campaign's overview: with variants, its table of conversion per variant too
            "overview slug=with variants": f"/admin/?slug={facts.split}",
            "overview slug=biggest": f"/admin/?slug={facts.big}",
            "overview slug=with variants fa": f"/admin/?slug={facts.split}&lang=fa",
        },
        "admin_leads": {
            "leads": "/admin/leads",
            "leads fa": "/admin/leads?lang=fa",
            "leads page 2": f"/admin/leads?after={facts.second_page}",
            "leads half-way down": f"/admin/leads?after={facts.deep_page}",
            "leads slug=biggest": f"/admin/leads?slug={facts.big}",
            "leads slug=smallest": f"/admin/leads?slug={facts.small}",
            "leads slug=default": "/admin/leads?slug=default",
            "leads utm campaign=brand": "/admin/leads?campaign=brand",
            "leads source=popup": "/admin/leads?source=popup",
            "leads status=rejected": "/admin/leads?status=rejected",
            "leads last 7 days": f"/admin/leads?{week}",
            "leads one day 60 days ago": f"/admin/leads?{one_day}",
            "leads last 30 days, Jalali, fa": f"/admin/leads?{persian_month}",
            "leads slug=smallest status=rejected": f"/admin/leads?slug={facts.small}&status=rejected",
            "leads slug=biggest utm=brand one day": f"/admin/leads?slug={facts.big}&campaign=brand&{one_day}",
            "leads slug=smallest source=exit status=qualified, last 7 days": (
                f"/admin/leads?slug={facts.small}&source=exit&status=qualified&{week}"
            ),
            "leads no match (utm=none-such)": "/admin/leads?campaign=none-such",
            "leads no match (slug, status)": f"/admin/leads?slug={facts.small}&status=qualified&source=none",
        },
        "admin_leads_csv": {
            "leads.csv (first 64 KiB)": "/admin/leads.csv",
            "leads.csv slug=smallest (first 64 KiB)": f"/admin/leads.csv?slug={facts.small}",
            "leads.csv last 7 days (first 64 KiB)": f"/admin/leads.csv?{week}",
            "leads.csv fa (first 64 KiB)": "/admin/leads.csv?lang=fa",
        },
        "admin_lead_erase_form": {"erase form": f"/admin/leads/{facts.lead_id}/erase"},
        "admin_static": {"admin.css": "/admin/static/admin.css"},
    }


def pages_of(routes: Mapping[str, str], facts: Facts, today: date) -> dict[str, str]:
    """Label → path for every route in `routes`; SystemExit for a route with parameters that has
    no recipe (the bench would otherwise leave a page out without saying so)."""
    known = recipes(facts, today)
    pages: dict[str, str] = {}
    for name, path in sorted(routes.items()):
        if name in known:
            pages.update(known[name])
        elif "<" in path:
            raise SystemExit(f"bench/campaign/measure.py: no recipe for /{path} ({name}): add one")
        else:
            pages[name] = "/" + path
    return pages


def sign_in(http: httpx.Client) -> dict[str, str]:
    """The session cookie header of user `bench` (added by main or the caller)."""
    form = http.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    login_cookie = form.cookies.get("leadcap_admin_login")
    assert csrf and login_cookie, form.status_code
    signed = http.post(
        "/admin/login",
        data={"name": "bench", "password": PASSWORD, "csrf": csrf[1]},
        headers={"cookie": f"leadcap_admin_login={login_cookie}"},
    )
    token = re.search(r"leadcap_admin=([^;]+)", signed.headers.get("set-cookie", ""))
    assert token, signed.status_code
    http.cookies.clear()
    return {"cookie": f"leadcap_admin={token[1]}"}


def timed(http: httpx.Client, path: str, headers: Mapping[str, str]) -> float:
    """Milliseconds to the whole answer (for a CSV, to its first 64 KiB); AssertionError unless 200."""
    started = time.perf_counter()
    with http.stream("GET", path, headers=headers) as response:
        got = 0
        for chunk in response.iter_bytes():
            got += len(chunk)
            if ".csv" in path and got >= CSV_FIRST_BYTES:
                break
        took = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return took


def figures(timings: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(timings, 50), 2),
        "p99_ms": round(percentile(timings, 99), 2),
        "max_ms": round(max(timings), 2),
        "requests": len(timings),
    }


class Settle:
    """Waits, after a CSV cut short, until the web process has let go of its export: no other
    session on the database in a transaction (it stops at its next chunk; the next page timed
    would otherwise pay for that chunk)."""

    IDLE = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
    )

    def __init__(self, database_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._conn = self._loop.run_until_complete(asyncpg.connect(database_url))

    def __call__(self, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while self._loop.run_until_complete(self._conn.fetchval(self.IDLE)):
            if time.monotonic() > deadline:
                raise SystemExit("the web process kept its export open after the client left")

    def close(self) -> None:
        self._loop.run_until_complete(self._conn.close())
        self._loop.close()


def admin_figures(
    http: httpx.Client, pages: Mapping[str, str], requests: int, settle: Settle
) -> dict[str, dict[str, float]]:
    cookie = sign_in(http)

    def one(path: str) -> float:
        took = timed(http, path, cookie)
        if ".csv" in path:
            settle()
        return took

    for path in pages.values():
        for _ in range(WARM_UP):
            one(path)
    timings: dict[str, list[float]] = {label: [] for label in pages}
    for _ in range(requests):
        for label, path in pages.items():
            timings[label].append(one(path))
    return {label: figures(values) for label, values in timings.items()}


def page_versus(http: httpx.Client, paths: Mapping[str, str], rounds: int, per_round: int) -> dict[str, Any]:
    """GET of each path as a first view, interleaved: each round times every path `per_round`
    times, the order turned each round. Each round's median per path, and per round the ratio of
    each path's median to the first path's; the figures are the medians over rounds."""
    labels = list(paths)
    medians: dict[str, list[float]] = {label: [] for label in labels}
    for label in labels:
        for _ in range(WARM_UP):
            timed(http, paths[label], {})
    for r in range(rounds):
        for label in labels if r % 2 == 0 else reversed(labels):
            times = []
            for _ in range(per_round):
                http.cookies.clear()  # a first view: no visitor cookie, a counted visit
                times.append(timed(http, paths[label], {}))
            medians[label].append(statistics.median(times))
    base = labels[0]
    out: dict[str, Any] = {
        label: {"path": paths[label], "median_ms": round(statistics.median(medians[label]), 3)}
        for label in labels
    }
    for label in labels[1:]:
        ratios = [mine / theirs for mine, theirs in zip(medians[label], medians[base], strict=True)]
        out[label]["ratio_to_" + base] = round(statistics.median(ratios), 3)
    out["rounds"], out["per_round"] = rounds, per_round
    return out


def verdict(
    result: Mapping[str, Any], limit_ms: float, max_ratio: float, download_limit_ms: float
) -> list[str]:
    """What breaks the targets: each page at or over the p99 limit, each download whose first
    64 KiB take `download_limit_ms` or more at p99, each /SLUG/ slower than `max_ratio` times /."""
    failures = [
        f"{label}: p99 {page['p99_ms']} ms >= {limit:g} ms"
        for kind, limit in (("admin", limit_ms), ("downloads", download_limit_ms))
        for label, page in result[kind].items()
        if page["p99_ms"] >= limit
    ]
    failures += [
        f"{label} ({page['path']}): {page['ratio_to_/']} x GET /"
        for label, page in result["landing"].items()
        if isinstance(page, dict) and page.get("ratio_to_/", 0) > max_ratio
    ]
    return failures


def run(
    database_url: str,
    data: Path,
    *,
    redis_url: str | None,
    mongo_url: str | None,
    requests: int,
    rounds: int,
    per_round: int,
) -> dict[str, Any]:
    """Serve the filled database at `database_url`, sign in, time the pages; the figures."""
    port = embedded.free_port()
    env = serve_env(database_url, data, port, redis_url, mongo_url, LEADCAP_RATE_LIMIT="1000000/second")
    subprocess.run(
        [*CLI, "admin", "add-user", "bench"],
        input=PASSWORD + "\n",
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    facts = asyncio.run(facts_of(database_url))
    pages = pages_of(admin_routes(env), facts, datetime.now(UTC).date())
    server = subprocess.Popen(
        [*CLI, "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    settle = Settle(database_url)
    try:
        wait_until_up(server, base + "/api/health/live")
        load_before = os.getloadavg()[0]
        with httpx.Client(base_url=base, timeout=60) as http:
            admin = admin_figures(http, pages, requests, settle)
            landing = page_versus(
                http,
                {"/": "/", "/SLUG/": f"/{facts.plain}/", "/SLUG/ with variants": f"/{facts.split}/"},
                rounds,
                per_round,
            )
    finally:
        settle.close()
        server.terminate()
        server.wait(60)
    return {
        "admin": {label: page for label, page in admin.items() if ".csv" not in pages[label]},
        "downloads": {label: page for label, page in admin.items() if ".csv" in pages[label]},
        "landing": landing,
        "machine": {
            "load_average_1m_before": load_before,
            "after": os.getloadavg()[0],
            "cpus": os.cpu_count(),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--admin-url", help="a PostgreSQL server (default: this machine's on 5432, else an embedded one)"
    )
    parser.add_argument("--database-url", help="a database filled before (--keep): no fixture is loaded")
    parser.add_argument("--redis-url")
    parser.add_argument("--mongo-url")
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds of GET / and /SLUG/")
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--limit-ms", type=float, default=100.0, help="the p99 every page stays under")
    parser.add_argument(
        "--download-limit-ms", type=float, default=1000.0, help="the p99 a CSV's first 64 KiB stay under"
    )
    parser.add_argument("--max-ratio", type=float, default=1.2, help="how much slower /SLUG/ may be than /")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (its URL is printed)")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="leadcap-campaign-bench-"))
    postgres = None
    if not args.admin_url and not args.database_url:
        if answers(SYSTEM_PG):
            args.admin_url = SYSTEM_PG
        else:
            postgres = embedded.start_postgres(data / "postgres")
            args.admin_url = postgres.url
    url = args.database_url or asyncio.run(create_database(args.admin_url))
    try:
        if not args.database_url:
            asyncio.run(migrate(url))
            started = time.perf_counter()
            fill(url, campaigns=args.campaigns, leads=args.leads)
            print(
                f"fixture: {args.campaigns} campaigns, {args.leads:,} leads in "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
        result = run(
            url,
            data,
            redis_url=args.redis_url,
            mongo_url=args.mongo_url,
            requests=args.requests,
            rounds=args.rounds,
            per_round=args.per_round,
        )
        result["fixture"] = (
            {"campaigns": args.campaigns, "leads": args.leads} if not args.database_url else {}
        )
        result["failures"] = verdict(result, args.limit_ms, args.max_ratio, args.download_limit_ms)
        report("campaign-admin", result)
    finally:
        if args.keep and not args.database_url:
            print(f"kept: {url}", file=sys.stderr)
        elif not args.database_url:
            asyncio.run(drop_database(args.admin_url, url))
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(data, ignore_errors=True)
    if result["failures"]:
        raise SystemExit("over the targets:\n  " + "\n  ".join(result["failures"]))


if __name__ == "__main__":
    main()
