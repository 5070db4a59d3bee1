"""A real `leadcap serve` and `leadcap worker` with LEADCAP_REDIS_URL listing two Valkey servers."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from leadcap import keys
from leadcap.intake import shard
from tests import factories, servers
from tests.servers import Process, client, wait_for_lead


def numbers_on(index: int, count: int) -> list[str]:
    """`count` fresh national numbers whose phones belong to shard `index` of two."""
    found: list[str] = []
    while len(found) < count:
        number = factories.mobile()
        if shard.of(factories.e164(number), 2) == index:
            found.append(number)
    return found


async def test_two_shards_share_the_intake_and_every_202_reaches_postgres(
    env: dict[str, str], run_dir: Path, pg: asyncpg.Pool, shard_urls: list[str], ip: str
) -> None:
    clients = [aioredis.Redis.from_url(url) for url in shard_urls]
    for redis in clients:
        await redis.flushall()
    two = {**env, "LEADCAP_REDIS_URL": ", ".join(shard_urls)}
    server = servers.start_server(two, run_dir / "shards-serve.log")
    worker = Process(("worker",), two, run_dir / "shards-worker.log").start()
    try:
        numbers = numbers_on(0, 4) + numbers_on(1, 4)
        async with client(server.url, ip) as http:
            accepted = [await http.post("/api/leads/", json={"phone": n}) for n in numbers]
            again = await http.post("/api/leads/", json={"phone": numbers[5]})
            health = await http.get("/api/health/")
        assert [r.status_code for r in accepted] == [202] * 8
        assert again.json() == {**accepted[5].json(), "duplicate": True}
        for number, response in zip(numbers, accepted, strict=True):
            lead = await wait_for_lead(pg, factories.e164(number))  # drained from its shard
            assert str(lead["id"]) == response.json()["id"] and lead["submissions"] == 1
            owner = shard.of(factories.e164(number), 2)
            assert await clients[owner].exists(keys.dedupe(factories.e164(number)))
            assert not await clients[1 - owner].exists(keys.dedupe(factories.e164(number)))
        checks = health.json()["checks"]
        assert checks["redis"]["status"] == checks["redis-1"]["status"] == "ok"
    finally:
        worker.stop()
        server.process.stop()
        for redis in clients:
            await redis.aclose()
