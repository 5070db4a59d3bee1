"""`leadcap migrate`: applies once, is safe to repeat, and safe to run from two processes at once."""

from __future__ import annotations

import subprocess
import sys

import asyncpg

from leadcap.migrate import available
from tests import servers
from tests.servers import Stores


async def test_migrate_twice_then_concurrently(stores: Stores, tmp_path: object) -> None:
    url = await servers.create_database(stores.database)
    env = servers.base_env(stores, tmp_path, LEADCAP_DATABASE_URL=url)  # type: ignore[arg-type]
    first = servers.leadcap("migrate", env=env)
    assert first.returncode == 0, first.stderr
    names = [name for name, _ in available()]  # every shipped migration, whoever added it
    assert names[0] == "0001_leads"
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
    finally:
        await conn.close()


def test_migrate_fails_with_status_1_when_postgres_is_down(stores: Stores, tmp_path: object) -> None:
    env = servers.base_env(stores, tmp_path, LEADCAP_DATABASE_URL="postgresql://postgres@127.0.0.1:9/x")  # type: ignore[arg-type]
    result = servers.leadcap("migrate", env=env)
    assert result.returncode == 1
    assert "postgres" in result.stderr and "Traceback" not in result.stderr
