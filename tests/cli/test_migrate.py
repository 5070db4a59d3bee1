"""`leadcap migrate`: applies once, is safe to repeat, and safe to run from two processes at once."""

from __future__ import annotations

import subprocess
import sys

import asyncpg

from leadcap.stores.postgres.migrate import available, migrate
from tests import servers
from tests.servers import Stores


async def test_migrate_twice_then_concurrently(stores: Stores, tmp_path: object) -> None:
    url = await servers.create_database(stores.database)
    env = servers.base_env(stores, tmp_path, LEADCAP_DATABASE_URL=url)  # type: ignore[arg-type]
    first = servers.leadcap("migrate", env=env)
    assert first.returncode == 0, first.stderr
    # Every shipped migration, whichever files later issues add.
    names = [name for name, _ in available()]
    assert names[:2] == ["0001_leads", "0002_dead_letters"]
    assert f"applied {len(names)} migration(s): {', '.join(names)}" in first.stdout
    again = servers.leadcap("migrate", env=env)
    assert again.returncode == 0 and "up to date" in again.stdout

    fresh = await servers.create_database(stores.database)
    env["LEADCAP_DATABASE_URL"] = fresh
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "cli", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=servers.ROOT,
        )
        for _ in range(3)
    ]
    results = [(p.wait(60), *p.communicate()) for p in runs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert sum(f"applied {len(names)}" in out for _, out, _ in results) == 1
    conn = await asyncpg.connect(fresh)
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(names)
        assert await conn.fetchval("SELECT to_regclass('leads') IS NOT NULL")
        assert await conn.fetchval("SELECT to_regclass('dead_letters') IS NOT NULL")
    finally:
        await conn.close()


def test_migrate_fails_with_status_1_when_postgres_is_down(stores: Stores, tmp_path: object) -> None:
    env = servers.base_env(stores, tmp_path, LEADCAP_DATABASE_URL="postgresql://postgres@127.0.0.1:9/x")  # type: ignore[arg-type]
    result = servers.leadcap("migrate", env=env)
    assert result.returncode == 1
    assert "postgres" in result.stderr and "Traceback" not in result.stderr


async def migrate_to(url: str, last: str) -> None:
    """The schema as an older release left it: the migrations up to `last`, recorded as applied."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations"
            " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for name, sql in available():
            if name > last:
                break
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
    finally:
        await conn.close()


async def test_carriers_written_by_an_older_release_get_their_brand(stores: Stores) -> None:
    url = await servers.create_database(stores.database)
    conn = await asyncpg.connect(url)
    try:
        await migrate_to(url, "0006_conversion")
        for phone, old in (
            ("+989120000001", "IR-MCI"),
            ("+989310000001", "MTCE"),
            ("+989350000001", "Irancell"),
        ):
            await conn.execute(
                "INSERT INTO leads (id, phone, region, carrier, submissions, first_submitted_at,"
                " last_submitted_at) VALUES (gen_random_uuid(), $1, 'IR', $2, 1, now(), now())",
                phone,
                old,
            )
        await migrate(url)
        rows = await conn.fetch("SELECT carrier FROM leads ORDER BY phone")
    finally:
        await conn.close()
    assert [r["carrier"] for r in rows] == ["Hamrah-e Aval", "Espadan", "Irancell"]
