"""Retention against the real stores: only leads whose last submission is older than the limit
go, a batch per transaction, with the same reach as an erase; the intake's writes go on beside
it and lose nothing; the daily run is claimed once however many workers ask, and two real
workers run it once."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from leadcap.ids import uuid7
from leadcap.intake.submission import Submission
from leadcap.ops import health
from leadcap.ops.services import Services
from leadcap.privacy import retention
from leadcap.settings import Settings
from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests import servers
from tests.factories import e164, mobile
from tests.leadcap.privacy.conftest import REDIS_DB
from tests.leadcap.privacy.test_erasure import rows_holding
from tests.servers import Process, Stores

pytestmark = pytest.mark.asyncio
DAY_MS = 86_400_000


def at(days_ago: float, phone: str) -> Submission:
    ms = int(time.time() * 1000 - days_ago * DAY_MS)
    return Submission(id=uuid7(ms), phone=phone, region="IR", source="hero")


async def test_only_old_leads_go_in_batches(postgres: Postgres, redis: Redis, mongo: Mongo) -> None:
    pool = postgres.pool_for_tests()
    old = [e164(mobile()) for _ in range(5)]
    young = [e164(mobile()) for _ in range(3)]
    await postgres.leads.record([at(40, p) for p in old])
    await postgres.leads.record([at(50, p) for p in young] + [at(1, p) for p in young])  # came back

    summary = await retention.run_once(postgres, redis, mongo, 30, batch=2)

    assert summary["leads"] == 5 and summary["batches"] == 3
    for phone in old:
        assert await rows_holding(pool, phone) == {}
    for phone in young:  # the whole lead stays, its old submission too
        assert await pool.fetchval("SELECT submissions FROM leads WHERE phone = $1", phone) == 2
    trail = await pool.fetch("SELECT new_status, changed_by FROM lead_status_changes")
    assert [tuple(r) for r in trail] == [("erased", "retention")] * 5
    assert await pool.fetchval("SELECT count(*) FROM webhook_events WHERE type = 'lead.erased'") == 5
    again = await retention.run_once(postgres, redis, mongo, 30, batch=2)
    assert again["leads"] == 0 and again["batches"] == 0


async def test_an_old_lead_goes_while_the_same_numbers_young_lead_of_another_campaign_stays_whole(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    pool = postgres.pool_for_tests()
    phone = e164(mobile())
    young = dataclasses.replace(at(1, phone), campaign="spring")
    await postgres.leads.record([at(40, phone), young])

    summary = await retention.run_once(postgres, redis, mongo, 30, batch=10)

    assert summary["leads"] == 1
    kept = await pool.fetch("SELECT campaign, submissions FROM leads WHERE phone = $1", phone)
    assert [tuple(r) for r in kept] == [("spring", 1)]
    held = await pool.fetch("SELECT id, campaign FROM submissions WHERE phone = $1", phone)
    assert [(r["id"], r["campaign"]) for r in held] == [(young.id, "spring")]


async def test_a_dead_letter_younger_than_the_limit_stays_with_its_number(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    """The number's lead aged, then a new submission of it was refused (a dead letter, kept for
    `dead-letters retry`): retention takes the old dead letter with the lead, not the young one."""
    pool = postgres.pool_for_tests()
    phone = e164(mobile())
    await postgres.leads.record([at(40, phone)])
    aged, young = at(40, phone), at(0, phone)
    for refused in (aged, young):
        await postgres.dead_letters.bury(refused.id, orjson.dumps(refused.to_message()), "refused")
    await pool.execute(
        "UPDATE dead_letters SET first_failed_at = now() - interval '40 days' WHERE submission_id = $1",
        aged.id,
    )

    summary = await retention.run_once(postgres, redis, mongo, 30, batch=10)

    assert summary["leads"] == 1
    left = await pool.fetch(
        "SELECT submission_id FROM dead_letters WHERE submission_id = ANY ($1::uuid[])", [aged.id, young.id]
    )
    assert [r["submission_id"] for r in left] == [young.id]


async def test_the_intake_writes_beside_it_and_loses_nothing(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    """Submissions written while retention erases (some of them of numbers it is erasing) all
    land: each either makes its old lead young again (kept) or lands as a new lead."""
    pool = postgres.pool_for_tests()
    old = [e164(mobile()) for _ in range(600)]
    for start in range(0, len(old), 200):
        await postgres.leads.record([at(40, p) for p in old[start : start + 200]])
    fresh: list[Submission] = []

    async def intake() -> None:
        for i in range(60):
            batch = [at(0, e164(mobile())), at(0, old[i * 10])]  # a new number, and an old one back
            await postgres.leads.record(batch)
            fresh.extend(batch)
            await asyncio.sleep(0)

    summary, _ = await asyncio.gather(retention.run_once(postgres, redis, mongo, 30, batch=50), intake())

    landed = await pool.fetchval(
        "SELECT count(*) FROM submissions WHERE id = ANY ($1::uuid[])", [s.id for s in fresh]
    )
    assert landed == len(fresh)
    back = {old[i * 10] for i in range(60)}
    assert await pool.fetchval("SELECT count(*) FROM leads WHERE phone = ANY ($1::text[])", list(back)) == 60
    left = await pool.fetchval(
        "SELECT count(*) FROM leads WHERE phone = ANY ($1::text[])", [p for p in old if p not in back]
    )
    assert left == 0 and summary["leads"] >= 540


async def test_the_daily_run_is_claimed_once(postgres: Postgres, privacy_database_url: str) -> None:
    stores = [await Postgres.open(privacy_database_url, max_size=1) for _ in range(8)]
    try:
        claims = await asyncio.gather(
            *(s.privacy.claim_run("retention", 86_400, lease_s=3600) for s in stores)
        )
    finally:
        for s in stores:
            await s.close()
    assert sorted(claims) == [False] * 7 + [True]
    assert not await postgres.privacy.claim_run("retention", 86_400, lease_s=3600)  # not until tomorrow


async def test_marks_go_once_nothing_in_flight_can_need_them(postgres: Postgres, redis: Redis) -> None:
    pool = postgres.pool_for_tests()
    long_ago, just_now = datetime.now(UTC) - timedelta(days=2), datetime.now(UTC)
    await postgres.privacy.mark(["+989120000001", "+989120000002"], [long_ago, just_now])
    stream = redis.client_for_tests()
    old_entry = f"{int(long_ago.timestamp() * 1000) - 3_600_000 * 2}-0"
    await stream.xadd("leadcap:leads", {"data": "x"}, id=old_entry)  # something accepted before both
    assert await retention.prune_marks(postgres, redis) == 0
    await stream.delete("leadcap:leads")
    assert await retention.prune_marks(postgres, redis) == 1  # the recent one may still be needed
    assert await pool.fetchval("SELECT count(*) FROM lead_erasures") == 1


async def test_two_workers_run_it_once(
    env: dict[str, str],
    stores: Stores,
    privacy_database_url: str,
    privacy_mongo_url: str,
    postgres: Postgres,
    redis: Redis,
    tmp_path: Path,
) -> None:
    pool = postgres.pool_for_tests()
    old = [e164(mobile()) for _ in range(20)]
    await postgres.leads.record([at(40, p) for p in old])
    own = {
        **env,
        "LEADCAP_DATABASE_URL": privacy_database_url,
        "LEADCAP_REDIS_URL": servers.on_db(stores.redis, REDIS_DB),
        "LEADCAP_MONGO_URL": privacy_mongo_url,
        "LEADCAP_LEAD_RETENTION_DAYS": "30",
    }
    workers = [Process(("worker",), own, tmp_path / f"worker-{i}.log").start() for i in range(2)]
    try:
        deadline = time.monotonic() + 60
        while not await pool.fetchval("SELECT finished_at FROM maintenance_runs WHERE job = 'retention'"):
            assert time.monotonic() < deadline, "\n".join(w.output() for w in workers)
            await asyncio.sleep(0.1)
    finally:
        for w in workers:
            w.stop()
    assert await pool.fetchval("SELECT count(*) FROM leads WHERE phone = ANY ($1::text[])", old) == 0
    ran = [w.output().count("retention erased") for w in workers]
    assert sorted(ran) == [0, 1], [w.output()[-2000:] for w in workers]  # one run, by one worker
    assert any("retention erased 20 leads" in w.output() for w in workers)
    assert await pool.fetchval("SELECT count(*) FROM lead_status_changes WHERE new_status = 'erased'") == 20


async def test_health_shows_the_last_run_and_a_late_one(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    services = Services(Settings(lead_retention_days=30), postgres, redis, mongo)
    assert (await health.report(services))["checks"]["retention"] == {
        "status": "ok",
        "last_run_at": None,
        "leads": 0,
    }
    await postgres.leads.record([at(40, e164(mobile()))])
    assert await postgres.privacy.claim_run(retention.JOB, retention.DAY_S, lease_s=3600)
    await postgres.privacy.finish_run(retention.JOB, await retention.run_once(postgres, redis, mongo, 30))
    check = (await health.report(services))["checks"]["retention"]
    assert check["status"] == "ok" and check["leads"] == 1
    assert datetime.fromisoformat(check["last_run_at"]) <= datetime.now(UTC)
    await postgres.pool_for_tests().execute(
        "UPDATE maintenance_runs SET finished_at = now() - interval '3 days'"
    )
    late = await health.report(services)
    assert late["checks"]["retention"]["status"] == "down" and late["status"] == "degraded"
    unset = await health.report(Services(Settings(), postgres, redis, mongo))
    assert "retention" not in unset["checks"]  # without the setting nothing changes
