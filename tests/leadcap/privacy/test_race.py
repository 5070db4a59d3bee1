"""The in-flight race, with the real worker: a submission of the number accepted (in the Redis
stream) but not yet written when the erase runs does not bring the lead back when it lands; one
accepted after the erase (the owner came back) lands as a new lead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadcap import keys
from leadcap.intake import visitor
from leadcap.intake.accept import Intake, Receipt
from leadcap.privacy import erasure
from leadcap.settings import parse
from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests import servers
from tests.factories import e164, mobile
from tests.leadcap.privacy.conftest import REDIS_DB
from tests.leadcap.privacy.test_erasure import submission
from tests.servers import Process, Stores

pytestmark = pytest.mark.asyncio


@pytest.fixture
def own_env(
    env: dict[str, str], stores: Stores, privacy_database_url: str, privacy_mongo_url: str
) -> dict[str, str]:
    return {
        **env,
        "LEADCAP_DATABASE_URL": privacy_database_url,
        "LEADCAP_REDIS_URL": servers.on_db(stores.redis, REDIS_DB),
        "LEADCAP_MONGO_URL": privacy_mongo_url,
    }


@pytest.fixture
def start_worker(own_env: dict[str, str], tmp_path: Path) -> Iterator[Process]:
    worker = Process(("worker",), own_env, tmp_path / "worker.log")
    yield worker
    if worker.popen is not None:
        worker.stop()


async def test_a_submission_in_flight_when_the_erase_runs_never_lands(
    own_env: dict[str, str], start_worker: Process, postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    pool = postgres.pool_for_tests()
    settings = parse({k.removeprefix("LEADCAP_"): v for k, v in own_env.items() if k.startswith("LEADCAP_")})
    intake = Intake(settings, shards=[redis], postgres=postgres)
    race = visitor.counted_in(
        "race", None, rate_limit=settings.rate_limit, shared_limit=settings.shared_ip_limit
    )  # a client known by its address alone
    phone, bystander = e164(mobile()), e164(mobile())
    in_flight, neighbour = submission(phone), submission(bystander)
    for item in (in_flight, neighbour):
        accepted = (await intake.accept(item, race)).result
        assert isinstance(accepted, Receipt) and not accepted.duplicate and not accepted.degraded
    stream = redis.client_for_tests()
    assert await stream.xlen(keys.LEAD_STREAM) == 2  # both wait there: no worker runs yet

    erased = await erasure.erase_number(postgres, redis, mongo, phone, by="t")
    assert erased.leads == 0  # nothing written yet: only the mark stands between it and the table

    back = submission(phone)  # the owner submits again after the erase
    came_back = (await intake.accept(back, race)).result
    assert isinstance(came_back, Receipt) and not came_back.duplicate  # the dedupe key went too

    start_worker.start()
    deadline = time.monotonic() + 60
    while await stream.xlen(keys.LEAD_STREAM):  # entries leave the stream once written and acked
        assert start_worker.popen and start_worker.popen.poll() is None, start_worker.output()
        assert time.monotonic() < deadline, "the worker never drained the stream:\n" + start_worker.output()
        await asyncio.sleep(0.05)

    assert await pool.fetchval("SELECT count(*) FROM leads WHERE phone = $1", bystander) == 1
    landed = await pool.fetch("SELECT id FROM submissions WHERE phone = $1", phone)
    assert [r["id"] for r in landed] == [back.id]  # the in-flight one never landed
    assert await pool.fetchval("SELECT id FROM leads WHERE phone = $1", phone) == back.id
    assert await pool.fetchval("SELECT submissions FROM leads WHERE phone = $1", phone) == 1
