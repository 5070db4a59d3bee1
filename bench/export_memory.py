"""Peak memory of `leadcap export-leads` over many leads (default 200,000).

    python bench/export_memory.py [--leads N] [--database-url URL]

Seeds a fresh database (on the given server, default the embedded one this script starts) with
N leads in one INSERT … SELECT, then runs the real command three times per format and reports
the median peak RSS (ru_maxrss of the child) and time. Nothing is kept: the database is dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from leadcap.ops import embedded  # noqa: E402
from leadcap.stores.postgres.migrate import migrate  # noqa: E402
from tests.servers import create_database, drop_database  # noqa: E402

SEED = """
INSERT INTO leads (id, phone, region, carrier, submissions, first_submitted_at, last_submitted_at,
                   source, utm_source)
SELECT gen_random_uuid(), '+98912' || lpad(n::text, 7, '0'), 'IR', 'Hamrah-e Aval', 1,
       now() - (n || ' seconds')::interval, now() - (n || ' seconds')::interval, 'hero', 'google'
FROM generate_series(1, $1) AS n
"""


def run_once(url: str, fmt: str) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one export to /dev/null, in a fresh child process."""
    env = {
        **os.environ,
        "LEADCAP_DATABASE_URL": url,
        "LEADCAP_REDIS_URL": "redis://127.0.0.1:9/0",
        "LEADCAP_MONGO_URL": "mongodb://127.0.0.1:9/x",
        "LEADCAP_LOG_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "cli", "export-leads", "--format", fmt, "--output", os.devnull],
        env=env,
        cwd=ROOT,
    )
    _, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"export failed with status {status}")
    return usage.ru_maxrss / 1024, took


async def seed(admin_url: str, leads: int) -> str:
    url = await create_database(admin_url)
    await migrate(url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SEED, leads)
    finally:
        await conn.close()
    return url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--database-url", help="a PostgreSQL server to create a scratch database on")
    args = parser.parse_args()
    child = None
    admin = args.database_url
    if not admin:
        child = embedded.start_postgres(Path(tempfile.mkdtemp(prefix="leadcap-export-bench-")))
        admin = child.url
    url = ""
    try:
        url = asyncio.run(seed(admin, args.leads))
        results = {}
        for fmt in ("csv", "jsonl"):
            runs = [run_once(url, fmt) for _ in range(3)]
            results[fmt] = {
                "leads": args.leads,
                "peak_rss_mb_median": round(statistics.median(r[0] for r in runs), 1),
                "peak_rss_mb_spread": [round(min(r[0] for r in runs), 1), round(max(r[0] for r in runs), 1)],
                "seconds_median": round(statistics.median(r[1] for r in runs), 2),
                "leads_per_s_median": round(args.leads / statistics.median(r[1] for r in runs)),
            }
        out = ROOT / "bench" / "results" / f"export-memory-{time.strftime('%Y%m%dT%H%M%S')}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
        print(json.dumps(results, indent=2))
    finally:
        if url:
            asyncio.run(drop_database(admin, url))
        if child:
            child.stop()


if __name__ == "__main__":
    main()
