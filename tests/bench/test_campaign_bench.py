"""bench/campaign/measure.py on a tiny fixture, so the campaigns bench cannot rot: the fixture's
campaigns and rollups, every /admin/ GET route timed, GET /SLUG/ beside GET /, and the verdict."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from sanic import Sanic

from tests import servers
from tests.bench.test_bench_sql import bench_module
from tests.servers import Stores
from web import campaign as served_campaign

REDIS_DB = 13  # the served app's visits and sessions, apart from other modules'


async def fixture_figures(url: str) -> dict[str, object]:
    conn = await asyncpg.connect(url)
    try:
        return {
            "documents": [r["document"] for r in await conn.fetch("SELECT document::text FROM campaigns")],
            "leads": dict(await conn.fetch("SELECT campaign, count(*) FROM leads GROUP BY 1")),
            "rollups": dict(
                await conn.fetch(
                    "SELECT key, sum(new_leads)::int FROM campaign_rollups WHERE dim = 'slug' GROUP BY 1"
                )
            ),
            "variants": dict(
                await conn.fetch(
                    "SELECT campaign, array_agg(DISTINCT variant) FILTER (WHERE variant IS NOT NULL)"
                    " FROM submissions GROUP BY 1"
                )
            ),
        }
    finally:
        await conn.close()


def test_campaign_bench_times_every_admin_page_and_the_campaign_pages(stores: Stores, tmp_path: Path) -> None:
    Sanic.test_mode = True  # the bench builds the app once to read its routes; other tests did too
    measure = bench_module("campaign/measure.py")
    url = asyncio.run(servers.migrated_database(stores.database))
    try:
        measure.fill(url, campaigns=5, leads=400, days=3)
        found = asyncio.run(fixture_figures(url))
        result = measure.run(
            url,
            tmp_path,
            redis_url=servers.on_db(stores.redis, REDIS_DB),
            mongo_url=stores.mongo,
            requests=3,
            rounds=2,
            per_round=3,
        )
    finally:
        asyncio.run(servers.drop_database(stores.database, url))

    assert len(found["documents"]) == 5  # type: ignore[arg-type]
    for document in found["documents"]:  # type: ignore[attr-defined]
        served_campaign.parse(json.loads(document))  # what `campaigns add` accepts
    leads = found["leads"]
    assert sum(leads.values()) == 400 and len(leads) == 6, leads  # type: ignore[attr-defined]
    assert found["rollups"] == leads  # the trigger's slug dimension, lead for lead
    assert found["variants"]["bench-00"] == ["a", "b"]  # type: ignore[index]
    assert found["variants"]["bench-01"] is None  # type: ignore[index]

    routes = measure.admin_routes({"LEADCAP_ENV": "development"})
    assert {"admin_overview", "admin_leads", "admin_leads_csv", "admin_lead_erase_form"} <= set(routes)
    facts = measure.Facts("a", "b", "c", "d", "id", "x", "y")
    expected = measure.pages_of(routes, facts, date(2026, 12, 6))
    timed = {**result["admin"], **result["downloads"]}
    assert set(timed) == set(expected)  # every route's pages, each timed
    assert all(page["requests"] == 3 and page["p99_ms"] > 0 for page in timed.values())
    assert result["downloads"] and all(".csv" in expected[label] for label in result["downloads"])
    assert set(result["landing"]) >= {"/", "/SLUG/", "/SLUG/ with variants"}
    assert result["landing"]["/SLUG/"]["ratio_to_/"] > 0

    assert measure.verdict(result, 1e9, 1e9, 1e9) == []
    over = measure.verdict(result, 0, 0, 0)
    assert len(over) == len(expected) + 2  # every page over a 0 ms limit, both campaign pages


def test_a_routed_admin_page_with_a_parameter_and_no_recipe_stops_the_bench() -> None:
    measure = bench_module("campaign/measure.py")
    facts = measure.Facts("a", "b", "c", "d", "id", "x", "y")
    plain = measure.pages_of({"admin_new": "admin/new"}, facts, date(2026, 12, 6))
    assert plain == {"admin_new": "/admin/new"}  # benched as it is, without a recipe
    with pytest.raises(SystemExit, match="no recipe for /admin/new/<id:int>"):
        measure.pages_of({"admin_new_one": "admin/new/<id:int>"}, facts, date(2026, 12, 6))
