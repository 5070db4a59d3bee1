"""A lead's whole path: HTTP → Redis stream → real worker → PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg

from leadcap import keys
from leadcap.intake.submission import encode_task
from leadcap.stores.redis import Redis
from tests import factories
from tests.servers import Process, Server, client, wait_for, wait_for_lead


async def test_submitted_lead_reaches_postgres(
    server: Server, worker: Process, pg: asyncpg.Pool, ip: str
) -> None:
    number = factories.mobile()
    async with client(server.url, ip) as http:
        response = await http.post(
            "/api/leads/",
            json={"phone": factories.persian(number), "source": "hero", "utm": {"campaign": "fall"}},
        )
    assert response.status_code == 202
    lead = await wait_for_lead(pg, factories.e164(number))
    assert str(lead["id"]) == response.json()["id"]
    assert (lead["submissions"], lead["source"], lead["utm_campaign"], lead["carrier"]) == (
        1,
        "hero",
        "fall",
        "Hamrah-e Aval",
    )
    sub = await pg.fetchrow("SELECT * FROM submissions WHERE id = $1::uuid", response.json()["id"])
    assert sub["processed_at"] is not None and sub["status"] == "processed"


async def test_same_submission_delivered_twice_counts_once(
    worker: Process, redis: Redis, pg: asyncpg.Pool, server: Server, ip: str
) -> None:
    number = factories.mobile()
    async with client(server.url, ip) as http:
        accepted = (await http.post("/api/leads/", json={"phone": number})).json()
    # Redeliver the very same message, as Redis would after a worker died before its ack.
    message = encode_task(
        {"id": accepted["id"], "phone": accepted["phone"], "region": "IR", "source": None, "utm": {}}
    )
    await redis.client_for_tests().xadd(keys.LEAD_STREAM, {"data": message})
    await redis.client_for_tests().xadd(keys.LEAD_STREAM, {"data": message})

    async def drained() -> bool:
        info = await redis.client_for_tests().xinfo_groups(keys.LEAD_STREAM)
        group = next(g for g in info if g["name"] in (keys.CONSUMER_GROUP, keys.CONSUMER_GROUP.encode()))
        return group["pending"] == 0 and group["lag"] == 0

    assert await wait_for(drained, 20)
    lead = await wait_for_lead(pg, accepted["phone"])
    assert lead["submissions"] == 1
    assert await pg.fetchval("SELECT count(*) FROM submissions WHERE phone = $1", accepted["phone"]) == 1


async def test_a_burst_all_lands_exactly_once(server: Server, worker: Process, pg: asyncpg.Pool) -> None:
    numbers = [factories.mobile() for _ in range(200)]

    async def post(i: int, number: str) -> str:
        async with client(server.url, f"127.20.{i // 200}.{i % 200 + 1}") as http:
            response = await http.post("/api/leads/", json={"phone": number})
            assert response.status_code == 202, response.text
            return str(response.json()["id"])

    ids = await asyncio.gather(*(post(i, n) for i, n in enumerate(numbers)))

    async def all_there() -> bool:
        count = await pg.fetchval("SELECT count(*) FROM submissions WHERE id = ANY($1::uuid[])", ids)
        return int(count) == len(ids)

    assert await wait_for(all_there, 30)
    counts = await pg.fetch(
        "SELECT submissions FROM leads WHERE phone = ANY($1::text[])", [factories.e164(n) for n in numbers]
    )
    assert [r["submissions"] for r in counts] == [1] * 200
