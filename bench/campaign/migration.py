"""How long migration 0013 (campaigns: the lead key moves to (phone, campaign)) takes on the
campaign view's scale fixture, and which locks it holds while it runs.

    python bench/campaign/migration.py postgresql://…/postgres [--leads 1000000]

Makes a database of its own on that server, applies every migration before 0013, loads
bench/campaign/fixture.sql (1,000,000 leads, 3,000,000 submissions), then applies 0013 as
`leadcap migrate` does (one transaction, under the advisory lock) and prints the time and the
locks the transaction held on leads and submissions just before it committed. The database is
dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from leadcap.stores.postgres.migrate import ADVISORY_LOCK, available

TARGET = "0013_campaigns"
FIXTURE = Path(__file__).with_name("fixture.sql")


def libpq(url: str) -> dict[str, str]:
    """psql's PG* variables for `url` (the password never on a command line)."""
    parts = urlsplit(url)
    return {
        "PGHOST": parts.hostname or "localhost",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "postgres",
        "PGPASSWORD": parts.password or "",
        "PGDATABASE": parts.path.lstrip("/"),
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
        loaded = subprocess.run(  # the URL goes by environment, so no error message shows its password
            ["psql", "-q", "-v", f"leads={leads}", "-v", "days=90", "-f", str(FIXTURE)],
            env={**os.environ, **libpq(url)},
            capture_output=True,
            text=True,
            check=False,
        )
        if loaded.returncode:
            raise SystemExit(f"fixture.sql failed: {loaded.stderr.strip()[-2000:]}")
        await conn.execute("VACUUM ANALYZE")
        print(f"fixture: {leads:,} leads loaded in {time.perf_counter() - started:.1f} s")
        sql = dict(available())[TARGET]
        started = time.perf_counter()
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK)
            await conn.execute(sql)
            locks = await conn.fetch(
                "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE l.pid = pg_backend_pid() AND c.relname IN ('leads', 'submissions')"
                " ORDER BY 1, 2"
            )
        took = time.perf_counter() - started
        print(f"migration {TARGET}: {took:.2f} s on {leads:,} leads")
        for row in locks:
            print(f"  held until commit: {row['relname']} {row['mode']}")
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
