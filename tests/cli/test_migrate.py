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


async def test_variant_rollups_backfilled_equal_those_the_trigger_keeps(stores: Stores) -> None:
    """Migration 0016 counts the variants recorded before it exactly as its trigger counts those
    after: the same submissions written before and after the migration give the same rows."""
    from leadcap.ids import uuid7
    from leadcap.intake.submission import Submission
    from leadcap.stores.postgres import Postgres

    def batch() -> list[Submission]:
        subs = [
            Submission(
                id=uuid7(),
                phone=f"+98912000{n:04d}",
                region="IR",
                campaign="ab",
                variant=name,
                visited=n % 2 == 0,
            )
            for n, name in enumerate("xxyxyyx")
        ]
        again = Submission(id=uuid7(), phone=subs[0].phone, region="IR", campaign="ab", variant="y")
        plain = Submission(id=uuid7(), phone="+989120009999", region="IR", campaign="ab")  # shown none
        return [*subs, again, plain]

    async def variant_rows(url: str, before_0016: bool) -> list[tuple[object, ...]]:
        if before_0016:
            await migrate_to(url, "0015_variants")
        else:
            await migrate(url)
        postgres = await Postgres.open(url)
        try:
            subs = batch()
            await postgres.leads.record(subs[:4])
            await postgres.leads.record(subs[4:])
            await postgres.leads.mark_verified([subs[1]])
        finally:
            await postgres.close()
        if before_0016:
            await migrate(url)
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT key, sum(submissions), sum(new_leads), sum(visited_leads), sum(verified)"
                " FROM campaign_rollups WHERE dim = 'variant' GROUP BY key ORDER BY key"
            )
        finally:
            await conn.close()
        return [(r[0], *(int(n) for n in r[1:])) for r in rows]

    backfilled = await variant_rows(await servers.create_database(stores.database), before_0016=True)
    kept = await variant_rows(await servers.create_database(stores.database), before_0016=False)
    # x: 4 numbers, 2 from a counted visit, 1 verified; y: 3 numbers and a second submission of
    # an x lead (a submission, no new lead); the one shown no variant is in no variant's row.
    assert backfilled == kept == [("ab/x", 4, 4, 2, 1), ("ab/y", 4, 3, 2, 0)]
