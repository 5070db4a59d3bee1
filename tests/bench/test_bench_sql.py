"""The bench scripts' SQL against the current schema: a benchmark a user is told to run must not
fail on a database where every migration has run (bench/webhooks.py once truncated `leads` while
`lead_status_changes` referred to it). Each runs briefly, on a scratch database it drops."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import asyncpg

from tests import servers
from tests.servers import Stores

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_module(relative: str) -> ModuleType:
    """A bench script imported by its path (bench/ is no package; its names may clash)."""
    path = BENCH / relative
    spec = importlib.util.spec_from_file_location("bench_" + path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass in it looks its module up there
    spec.loader.exec_module(module)
    return module


async def test_webhooks_bench_runs_its_three_phases(stores: Stores) -> None:
    webhooks = bench_module("webhooks.py")
    args = argparse.Namespace(database_url=stores.database, events=60, rate=60, seconds=0.5)
    result = await webhooks.run(args)
    assert result["throughput"]["events"] == 60
    assert result["lag"]["events"] > 0 and result["lag"]["p99_s"] >= 0
    assert result["outbox_cost"]["leads_per_s_one_endpoint"] > 0


async def test_webhooks_bench_reset_empties_what_refers_to_leads(stores: Stores) -> None:
    """The reset between phases, on a database with an audited status change (the case that failed)."""
    webhooks = bench_module("webhooks.py")
    url = await servers.migrated_database(stores.database)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:
        lead = await pool.fetchval(
            "INSERT INTO leads (id, phone, region, submissions, first_submitted_at, last_submitted_at)"
            " VALUES (gen_random_uuid(), '+989120000001', 'IR', 1, now(), now()) RETURNING id"
        )
        await pool.execute(
            "INSERT INTO lead_status_changes (lead_id, old_status, new_status, changed_by)"
            " VALUES ($1, 'new', 'contacted', 'bench')",
            lead,
        )
        await webhooks.reset(pool)
        assert await pool.fetchval("SELECT count(*) FROM leads") == 0
        assert await pool.fetchval("SELECT count(*) FROM lead_status_changes") == 0
    finally:
        await pool.close()


async def test_export_memory_bench_seeds_the_leads_table(stores: Stores) -> None:
    export_memory = bench_module("export_memory.py")
    url = await export_memory.seed(stores.database, 50)
    try:
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM leads") == 50
        finally:
            await conn.close()
    finally:
        await servers.drop_database(stores.database, url)


async def test_campaign_fixture_fills_leads_and_rollups(stores: Stores) -> None:
    url = await servers.migrated_database(stores.database)
    bench_module("harness.py").psql_file(url, BENCH / "campaign" / "fixture.sql", leads=200, days=3)
    conn = await asyncpg.connect(url)
    try:
        totals = await conn.fetchrow(
            "SELECT sum(submissions) AS submissions, sum(new_leads) AS new_leads,"
            " sum(visited_leads) AS visited FROM campaign_rollups WHERE dim = 'total'"
        )
    finally:
        await conn.close()
    assert tuple(totals) == (600, 200, 200 - 200 // 3)  # two in three came with a counted visit


async def test_read_api_fixture_commits_leads_out_of_id_order_under_the_horizon(stores: Stores) -> None:
    url = await servers.migrated_database(stores.database)
    bench_module("readapi/measure.py").load(url, 1000)  # the bench's own loader, psql on fixture.sql
    conn = await asyncpg.connect(url)
    try:
        figures = await conn.fetchrow(
            "SELECT count(*) AS leads, count(DISTINCT commit_xid) AS transactions,"
            " bool_and(commit_xid < pg_snapshot_xmin(pg_current_snapshot())) AS all_visible FROM leads"
        )
        # ids and commit order disagree somewhere: the fixture is out of id order, as workers are
        out_of_order = await conn.fetchval(
            "SELECT count(*) FROM (SELECT id, lag(id) OVER (ORDER BY commit_xid, id) AS before"
            " FROM leads) o WHERE before > id"
        )
    finally:
        await conn.close()
    assert tuple(figures) == (1000, 5, True)
    assert out_of_order > 0
