"""p50/p99 of GET /api/v1/leads, pages of 500, against a `leadcap serve` on a database of
--leads leads (fixture.sql: 1,000,000 by default, committed in transactions of 250, out of id
order), and what the read API costs the lead writes (the before and after of migration 0011 in
one run).

    python bench/readapi/measure.py                                   # 1M leads, ~3 minutes
    python bench/readapi/measure.py --leads 50000 --walk 100          # a quick look

It makes a scratch database on --admin-url (dropped at the end), migrates it, loads the fixture
with psql, adds a key, starts `leadcap serve` (Redis and MongoDB embedded under a temporary data
folder unless --redis-url/--mongo-url are given) and times, one request at a time:

    walk             a sync from the first lead: --walk consecutive pages by cursor
    deep             pages from 50 cursors spread over the whole order
    status=qualified a filtered walk (1 lead in 25 matches)
    since=yesterday  a sync of the last day's leads, first pages

Then the write path: LeadStore.record (the worker's write) of --write-batches batches of 256 new
leads into two copies of the schema, one with migration 0011's column and index and one without,
alternating, on top of the loaded leads; medians and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.harness import percentile, psql_file, serve_env, wait_until_up  # noqa: E402
from leadcap.ids import uuid7  # noqa: E402
from leadcap.intake.submission import Submission  # noqa: E402
from leadcap.ops import embedded  # noqa: E402
from leadcap.stores.postgres import Postgres  # noqa: E402
from leadcap.stores.postgres.migrate import migrate  # noqa: E402
from tests.servers import create_database, drop_database  # noqa: E402

CLI = [sys.executable, "-m", "cli"]


def figures(timings: list[float], cpu_s: float | None = None) -> dict[str, float]:
    out = {
        "p50_ms": round(percentile(timings, 50), 1),
        "p99_ms": round(percentile(timings, 99), 1),
        "max_ms": round(max(timings), 1),
        "pages": len(timings),
    }
    if cpu_s is not None:  # what the figures would be on an idle machine, near enough
        out["web_cpu_ms_per_page"] = round(cpu_s * 1000 / len(timings), 2)
    return out


def cpu_seconds(root: int) -> float:
    """User and system CPU of process `root` and all its descendants (Sanic's serving processes)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    family = {root}
    while True:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        if not more:
            return sum(times.get(pid, 0.0) for pid in family)
        family |= more


def load(url: str, leads: int) -> None:
    started = time.monotonic()
    psql_file(url, Path(__file__).with_name("fixture.sql"), leads=leads)
    print(f"loaded {leads} leads in {time.monotonic() - started:.0f} s", file=sys.stderr)


def timed_walk(
    http: httpx.Client, params: dict[str, str], pages: int, cursor: str | None = None
) -> list[float]:
    """Time up to `pages` consecutive pages from `cursor` (None: the first lead)."""
    timings: list[float] = []
    for _ in range(pages):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        answer = http.get("/api/v1/leads", params=query)
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    return timings


def read_figures(base: str, key: str, walk: int, server: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with httpx.Client(base_url=base, timeout=60, headers={"authorization": f"Bearer {key}"}) as http:
        timed_walk(http, {"limit": "500"}, 20)  # warm up: prepared statements, caches
        cpu = cpu_seconds(server)
        walked = timed_walk(http, {"limit": "500"}, walk)
        results["walk"] = figures(walked, cpu_seconds(server) - cpu)
        cursors: list[str] = []
        cursor = None
        for _ in range(50):  # 50 positions spread over the order, by pages of 1000 with gaps
            page = http.get(
                "/api/v1/leads", params={"limit": "1000", **({"cursor": cursor} if cursor else {})}
            )
            cursor = page.json()["next_cursor"]
            cursors.append(cursor)
            for _ in range(random.randrange(5, 30)):
                cursor = http.get("/api/v1/leads", params={"limit": "1", "cursor": cursor}).json()[
                    "next_cursor"
                ]
        deep: list[float] = []
        for cursor in cursors:
            deep += timed_walk(http, {"limit": "500"}, 2, cursor)
        results["deep"] = figures(deep)
        results["status=qualified"] = figures(timed_walk(http, {"limit": "500", "status": "qualified"}, 100))
        results["since=yesterday"] = figures(timed_walk(http, {"limit": "500", "since": "yesterday"}, 100))
    return results


async def write_figures(url: str, leads: int, batches: int) -> dict[str, float]:
    """Median ms of the worker's write of 256 new leads, with and without migration 0011's
    commit_xid column and index, alternating on two tables of the same loaded leads."""
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    before_url = await create_database(admin)
    try:
        # "before": the same schema and the same leads, less what migration 0011 added to leads
        await migrate(before_url)
        load(before_url, leads)
        conn = await asyncpg.connect(before_url)
        try:
            await conn.execute("DROP INDEX leads_commit_order_idx; ALTER TABLE leads DROP COLUMN commit_xid")
        finally:
            await conn.close()
        stores = {
            "after": await Postgres.open(url, max_size=1),
            "before": await Postgres.open(before_url, max_size=1),
        }
        timings: dict[str, list[float]] = {"after": [], "before": []}
        counter = 0
        try:
            for n in range(batches + 5):
                for name in ("before", "after") if n % 2 else ("after", "before"):
                    batch = []
                    for _ in range(256):
                        counter += 1
                        batch.append(Submission(id=uuid7(), phone=f"+98935{counter:07d}", region="IR"))
                    started = time.perf_counter()
                    await stores[name].leads.record(batch)
                    if n >= 5:  # the first ones warm the caches
                        timings[name].append((time.perf_counter() - started) * 1000)
        finally:
            for store in stores.values():
                await store.close()
    finally:
        await drop_database(admin, before_url)
    before, after = statistics.median(timings["before"]), statistics.median(timings["after"])
    return {
        "batches": batches,
        "before_median_ms": round(before, 2),
        "after_median_ms": round(after, 2),
        "after_over_before": round(after / before, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url")
    parser.add_argument("--mongo-url")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--walk", type=int, default=2000, help="pages of the sync from the first lead")
    parser.add_argument("--write-batches", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    url = asyncio.run(create_database(args.admin_url))
    data = Path(tempfile.mkdtemp(prefix="leadcap-readapi-bench-"))
    port = embedded.free_port()
    env = serve_env(url, data, port, args.redis_url, args.mongo_url, LEADCAP_API_RATE_LIMIT="1000000/minute")
    server = None
    try:
        asyncio.run(migrate(url))
        load(url, args.leads)
        added = subprocess.run(
            [*CLI, "api-keys", "add", "bench"], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        )
        key = next(line for line in added.stdout.splitlines() if line.startswith("leadcap_"))
        server = subprocess.Popen(
            [*CLI, "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_up(server, base + "/api/health/live")
        load_before = os.getloadavg()[0]
        reads = read_figures(base, key, args.walk, server.pid)
        reads["machine"] = {"load_average_1m_before": load_before, "after": os.getloadavg()[0]}
        server.terminate()
        server.wait(60)
        server = None
        writes = asyncio.run(write_figures(url, args.leads, args.write_batches)) if args.write_batches else {}
        print(json.dumps({"leads": args.leads, "pages_of_500": reads, "write_256_leads": writes}, indent=2))
    finally:
        if server is not None:
            server.terminate()
            server.wait(60)
        if not args.keep:
            asyncio.run(drop_database(args.admin_url, url))
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
