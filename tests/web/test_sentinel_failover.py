"""Redis behind Sentinel, on a real `leadcap serve` and `leadcap worker`: the primary is killed
while leads come in, the sentinels promote a replica, the intake keeps answering 202 throughout
(the direct path to PostgreSQL covers the gap), Redis takes the intake again once promoted, every
202 reaches PostgreSQL, and health says so during and after."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from leadcap import keys
from leadcap.intake.accept import Receipt
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests import factories, replicated, servers
from tests.leadcap.intake import test_accept
from tests.replicated import SentinelSet
from tests.servers import Process, Server, Stores, client, wait_for

POSTERS = 4


@pytest.fixture(scope="module")
def sentinels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSet]:
    with replicated.sentinel_set(tmp_path_factory.mktemp("sentinel")) as running:
        yield running


@pytest.fixture(scope="module")
async def own_db_url(stores: Stores) -> str:
    return await servers.migrated_database(stores.database)


@pytest.fixture(scope="module")
async def own_db(own_db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(own_db_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture(scope="module")
def sentinel_env(env: dict[str, str], sentinels: SentinelSet, own_db_url: str) -> dict[str, str]:
    return {
        **env,
        "LEADCAP_REDIS_URL": sentinels.url(),
        "LEADCAP_DATABASE_URL": own_db_url,
        "LEADCAP_RATE_LIMIT": "1000000/minute",
    }


@pytest.fixture(scope="module")
def web(sentinel_env: dict[str, str], run_dir: Path) -> Iterator[Server]:
    with servers.serving(sentinel_env, run_dir / "sentinel-serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def lead_worker(sentinel_env: dict[str, str], run_dir: Path) -> Iterator[Process]:
    with servers.background(Process(("worker",), sentinel_env, run_dir / "sentinel-worker.log")) as running:
        yield running


def entries_added(sentinels: SentinelSet, port: int) -> int:
    """How many entries the lead stream on the server at `port` ever took (replicated ones too)."""
    with sentinels.node(port) as node:
        return int(node.xinfo_stream(keys.LEAD_STREAM)["entries-added"])


async def test_a_primary_killed_under_load_loses_no_202(
    sentinels: SentinelSet, web: Server, lead_worker: Process, own_db: asyncpg.Pool
) -> None:
    accepted: dict[str, float] = {}  # E.164 phone -> when its 202 came
    refused: list[int] = []
    health: list[tuple[float, int, str, int]] = []  # (when, /api/health/ code, its redis check, ready)
    stop = asyncio.Event()

    async def post(n: int) -> None:
        async with client(web.url, f"127.0.20.{n + 1}") as http:
            while not stop.is_set():
                number = factories.mobile()
                response = await http.post("/api/leads/", json={"phone": number})
                if response.status_code == 202:
                    accepted[factories.e164(number)] = time.monotonic()
                else:
                    refused.append(response.status_code)

    async def watch() -> None:
        async with client(web.url) as http:
            while not stop.is_set():
                report = await http.get("/api/health/")
                ready = await http.get("/api/health/ready")
                health.append(
                    (
                        time.monotonic(),
                        report.status_code,
                        report.json()["checks"]["redis"]["status"],
                        ready.status_code,
                    )
                )
                await asyncio.sleep(0.1)

    async def health_ok() -> bool:
        async with client(web.url) as http:
            report = (await http.get("/api/health/")).json()
        return report["checks"]["redis"]["status"] == "ok" and report["checks"]["workers"]["status"] == "ok"

    assert await wait_for(health_ok, 60), "the worker never beat through the sentinels' primary"
    tasks = [asyncio.create_task(post(n)) for n in range(POSTERS)] + [asyncio.create_task(watch())]
    try:
        assert await wait_for(lambda: asyncio.sleep(0, len(accepted) >= 100), 30)
        old = sentinels.primary_port
        added_before = entries_added(sentinels, old)
        assert added_before > 0  # the intake went through Redis before the kill
        killed_at = time.monotonic()
        replicated.kill(sentinels.primary)

        async def promoted() -> int:
            port = await asyncio.to_thread(sentinels.master_port)
            return port if port in sentinels.replicas else 0

        new = await wait_for(promoted, 30)
        assert new, "no replica was promoted"
        promoted_at = time.monotonic()
        added_at_promotion = await asyncio.to_thread(entries_added, sentinels, new)

        async def intake_on_new_primary() -> bool:
            return await asyncio.to_thread(entries_added, sentinels, new) > added_at_promotion

        assert await wait_for(intake_on_new_primary, 30), "the intake never came back to Redis"
        back_at = time.monotonic()
        assert await wait_for(health_ok, 30)
        settled = len(accepted)
        assert await wait_for(lambda: asyncio.sleep(0, len(accepted) >= settled + 100), 30)
    finally:
        stop.set()
        await asyncio.gather(*tasks)

    assert refused == []  # a 202 for every POST, before, during and after the failover
    phones = list(accepted)

    async def all_written() -> bool:
        count = await own_db.fetchval("SELECT count(*) FROM leads WHERE phone = ANY($1::text[])", phones)
        return bool(count == len(phones))

    assert await wait_for(all_written, 60), "a 202 never reached PostgreSQL"
    # Health: Redis down (503) while no primary answered, ready all along (PostgreSQL took the
    # leads), ok again after.
    during = [h for h in health if killed_at < h[0] < promoted_at]
    assert any(code == 503 and redis == "down" for _, code, redis, _ in during)
    assert all(ready == 200 for *_, ready in health)
    assert health[-1][2] == "ok"
    times = sorted(accepted.values())
    longest_silence = max(b - a for a, b in itertools.pairwise(times))
    print(
        f"\nsentinel failover: {len(phones)} leads accepted, promoted {promoted_at - killed_at:.2f}s"
        f" after the kill, intake back on Redis after {back_at - killed_at:.2f}s,"
        f" longest wait between two 202s {longest_silence * 1000:.0f} ms"
    )


@pytest.mark.parametrize(("wait_replicas", "degraded"), [("1", False), ("0", False), ("3", True)])
async def test_the_intake_counts_on_redis_only_once_replicas_hold_the_lead(
    sentinels: SentinelSet, postgres: Postgres, wait_replicas: str, degraded: bool
) -> None:
    """Two replicas: waiting for one (the default) or none goes through Redis; waiting for more
    replicas than answer takes the direct path, so the lead is in PostgreSQL before its 202."""
    redis = Redis.open(sentinels.url(wait_replicas=wait_replicas))
    try:
        sub = test_accept.submission()
        the_intake = test_accept.intake(redis, postgres)
        outcome = await the_intake.accept(sub, test_accept.addr(the_intake, "1.2.3.4"))
        assert isinstance(outcome.result, Receipt) and outcome.result.degraded is degraded
        assert (await postgres.leads.recent_submission(sub.phone, 60) is not None) is degraded
    finally:
        await redis.close()
