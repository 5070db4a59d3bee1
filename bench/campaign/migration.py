"""How long migration 0013 (campaigns: the lead key moves to (phone, campaign)) takes on the
campaign view's scale fixture, which locks it holds while it runs, and how long a writer waits.

    python bench/campaign/migration.py postgresql://…/postgres [--leads 1000000]

Makes a database of its own on that server, applies every migration before 0013, loads
bench/campaign/fixture.sql (1,000,000 leads, 3,000,000 submissions), then applies 0013 as
`leadcap migrate` does (one transaction, under the advisory lock) and prints the time and the
locks the transaction held on leads and submissions just before it committed. Meanwhile a writer
on a connection of its own writes one new lead and its submission per transaction, as a worker
of the release before 0013 would (its columns), from a second before the migration starts to a
second after it ends: its usual write time, its longest wait, and how many writes finished while
the migration ran. The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.harness import psql_file  # noqa: E402
from leadcap.stores.postgres.migrate import ADVISORY_LOCK, available  # noqa: E402

TARGET = "0013_campaigns"
FIXTURE = Path(__file__).with_name("fixture.sql")
SETTLE_S = 1.0  # the writer's time alone before the migration starts and after it ends
# A worker's write before 0013 (no campaign column yet): a new lead, then its submission (the
# rollup trigger runs on it).
WRITE_LEAD = (
    "INSERT INTO leads (id, phone, region, submissions, first_submitted_at, last_submitted_at)"
    " VALUES ($1, $2, 'IR', 1, now(), now())"
)
WRITE_SUBMISSION = "INSERT INTO submissions (id, phone, submitted_at, visited) VALUES ($1, $2, now(), true)"


async def writer(url: str, stop: asyncio.Event, writes: list[tuple[float, float]]) -> None:
    """Write leads one per transaction until `stop`; each write's (start, end) in perf_counter."""
    conn = await asyncpg.connect(url)
    try:
        n = 0
        while not stop.is_set():
            n += 1
            key, phone = uuid.uuid4(), f"+98935{n:07d}"
            started = time.perf_counter()
            async with conn.transaction():
                await conn.execute(WRITE_LEAD, key, phone)
                await conn.execute(WRITE_SUBMISSION, key, phone)
            writes.append((started, time.perf_counter()))
    finally:
        await conn.close()


def writer_figures(writes: list[tuple[float, float]], began: float, ended: float) -> dict[str, float]:
    """The writer's usual write (before the migration), its longest one that overlapped the
    migration, and how many writes ended while it ran."""
    before = sorted(end - start for start, end in writes if end < began)
    during = [end - start for start, end in writes if start < ended and end > began]
    return {
        "usual_write_ms": round(1000 * before[len(before) // 2], 2) if before else float("nan"),
        "longest_wait_s": round(max(during, default=0.0), 2),
        "writes_ended_during": sum(1 for _, end in writes if began < end < ended),
    }


async def main(admin_url: str, leads: int) -> None:
    name = f"leadcap_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    try:
        conn = await asyncpg.connect(url)
        before = [(n, sql) for n, sql in available() if n < TARGET]
        await conn.execute(
            "CREATE TABLE schema_migrations"
            " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for n, sql in before:
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", n)
        started = time.perf_counter()
        psql_file(url, FIXTURE, leads=leads, days=90)
        await conn.execute("VACUUM ANALYZE")
        print(f"fixture: {leads:,} leads loaded in {time.perf_counter() - started:.1f} s")
        sql = dict(available())[TARGET]
        stop, writes = asyncio.Event(), []
        writing = asyncio.create_task(writer(url, stop, writes))
        await asyncio.sleep(SETTLE_S)  # the writer's usual pace, before
        started = time.perf_counter()
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK)
            await conn.execute(sql)
            locks = await conn.fetch(
                "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE l.pid = pg_backend_pid() AND c.relname IN ('leads', 'submissions')"
                " ORDER BY 1, 2"
            )
        ended = time.perf_counter()
        await asyncio.sleep(SETTLE_S)
        stop.set()
        await writing
        print(f"migration {TARGET}: {ended - started:.2f} s on {leads:,} leads")
        for row in locks:
            print(f"  held until commit: {row['relname']} {row['mode']}")
        seen = writer_figures(writes, started, ended)
        print(
            f"  a writer (one lead per transaction): usually {seen['usual_write_ms']} ms a write;"
            f" longest wait {seen['longest_wait_s']} s; {seen['writes_ended_during']} writes ended"
            " while the migration ran"
        )
        await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("admin_url")
    parser.add_argument("--leads", type=int, default=1_000_000)
    args = parser.parse_args()
    asyncio.run(main(args.admin_url, args.leads))
