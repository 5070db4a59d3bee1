"""Dead letters through the real `leadcap worker`: a poison message blocks nothing, hides nothing."""

from __future__ import annotations

import asyncpg
import orjson
import pytest

from leadcap import keys
from leadcap.ids import uuid7
from leadcap.intake.submission import Submission, encode_task
from leadcap.ops import deadletters
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests import factories
from tests.servers import Process, Server, client, wait_for


def fresh(**fields: object) -> Submission:
    return Submission(id=uuid7(), phone=factories.e164(factories.mobile()), region="IR", **fields)  # type: ignore[arg-type]


async def drained(redis: Redis) -> bool:
    info = await redis.client_for_tests().xinfo_groups(keys.LEAD_STREAM)
    group = next(g for g in info if g["name"] in (keys.CONSUMER_GROUP, keys.CONSUMER_GROUP.encode()))
    return bool(group["pending"] == 0 and group["lag"] == 0)


async def set_aside(redis: Redis, pg: asyncpg.Pool, marker: str, kwargs: dict[str, object]) -> None:
    """Queue a lead task with `kwargs` (its task_id `marker`); wait until the running worker has
    dead-lettered it as unreadable (its row holds the marker) and acked it."""
    task = {"task_id": marker, "task_name": keys.TASK_NAME, "labels": {}, "args": [], "kwargs": kwargs}
    await redis.client_for_tests().xadd(keys.LEAD_STREAM, {"data": orjson.dumps(task)})

    async def found() -> asyncpg.Record | None:
        return await pg.fetchrow(
            "SELECT * FROM dead_letters WHERE position($1::bytea in message) > 0", marker.encode()
        )

    row = await wait_for(found, 30)
    assert row is not None and row["error"].startswith("unreadable message")  # type: ignore[index]
    assert await wait_for(lambda: drained(redis), 30)


async def dead_letter(pg: asyncpg.Pool, submission: Submission) -> asyncpg.Record | None:
    async def found() -> asyncpg.Record | None:
        return await pg.fetchrow("SELECT * FROM dead_letters WHERE submission_id = $1", submission.id)

    return await wait_for(found, 60)  # type: ignore[return-value]


async def test_poison_among_a_thousand_good_ones(worker: Process, redis: Redis, pg: asyncpg.Pool) -> None:
    good = [fresh(source="hero") for _ in range(1000)]
    poison = fresh(source="a\x00b")  # PostgreSQL's text refuses NUL, however often it is retried
    messages = [*good[:500], poison, *good[500:]]
    pipe = redis.client_for_tests().pipeline(transaction=False)
    for item in messages:
        pipe.xadd(keys.LEAD_STREAM, {"data": encode_task(item.to_message())})
    await pipe.execute()

    async def landed() -> bool:
        count = await pg.fetchval(
            "SELECT count(*) FROM submissions WHERE id = ANY($1::uuid[])", [s.id for s in good]
        )
        return bool(count == 1000)

    assert await wait_for(landed, 90), "not every good submission reached PostgreSQL"
    assert (
        await pg.fetchval("SELECT count(*) FROM leads WHERE phone = ANY($1::text[])", [s.phone for s in good])
        == 1000
    )
    row = await dead_letter(pg, poison)
    assert row is not None, "the poison message was not moved to dead_letters"
    assert "CharacterNotInRepertoire" in row["error"] or "0x00" in row["error"]
    listed = {d.submission_id: d for d in await deadletters.listed(Postgres(pg))}
    assert listed[poison.id].message == poison.to_message()
    assert await pg.fetchval("SELECT count(*) FROM leads WHERE phone = $1", poison.phone) == 0
    # Acked: nothing of it stays pending to bounce between workers.
    assert await wait_for(lambda: drained(redis), 30)
    assert int(await redis.client_for_tests().get(keys.STATS_DEAD_LETTERS) or 0) >= 1


async def test_the_dedupe_key_of_a_dead_letter_is_cleared(
    worker: Process, server: Server, redis: Redis, pg: asyncpg.Pool, ip: str
) -> None:
    poison = fresh(source="a\x00b")
    # What intake.lua does on a 202: remember the id for the dedupe window, then enqueue.
    await redis.client_for_tests().set(keys.dedupe(poison.phone), str(poison.id), ex=600)
    await redis.client_for_tests().xadd(keys.LEAD_STREAM, {"data": encode_task(poison.to_message())})
    assert await dead_letter(pg, poison) is not None

    async def cleared() -> bool:
        return not await redis.client_for_tests().exists(keys.dedupe(poison.phone))

    assert await wait_for(cleared, 10), "the dead submission still holds the phone's dedupe key"
    # A clean submission of the same phone is a new lead, not a duplicate of the dead id.
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", json={"phone": poison.phone, "source": "hero"})
    assert response.status_code == 202
    assert response.json()["duplicate"] is False and response.json()["id"] != str(poison.id)

    async def lead() -> asyncpg.Record | None:
        return await pg.fetchrow("SELECT * FROM leads WHERE phone = $1", poison.phone)

    row = await wait_for(lead, 20)
    assert row is not None and str(row["id"]) == response.json()["id"]  # type: ignore[index]


async def test_a_dead_letter_clears_its_own_campaigns_dedupe_key(
    database_url: str, postgres: Postgres, redis: Redis
) -> None:
    """A number answers each campaign once (api.md, Campaigns): burying a spring-sale submission
    frees the number for the spring sale, and leaves the default campaign's key as it was."""
    poison = fresh(source="a\x00b", campaign="spring-sale")
    default_id = str(uuid7())
    raw = redis.client_for_tests()
    await raw.set(keys.dedupe(poison.phone, "spring-sale"), str(poison.id), ex=600)
    await raw.set(keys.dedupe(poison.phone), default_id, ex=600)
    await deadletters.bury(postgres, redis, poison.to_message(), "refused for good")
    assert not await raw.exists(keys.dedupe(poison.phone, "spring-sale"))
    assert await raw.get(keys.dedupe(poison.phone)) == default_id.encode()


async def test_a_later_submission_keeps_its_own_dedupe_key(
    worker: Process, redis: Redis, pg: asyncpg.Pool
) -> None:
    poison = fresh(source="a\x00b")
    later = str(uuid7())  # the key already names another, accepted submission
    await redis.client_for_tests().set(keys.dedupe(poison.phone), later, ex=600)
    await redis.client_for_tests().xadd(keys.LEAD_STREAM, {"data": encode_task(poison.to_message())})
    assert await dead_letter(pg, poison) is not None
    assert (await redis.client_for_tests().get(keys.dedupe(poison.phone))) == later.encode()


@pytest.mark.parametrize(
    "message",
    [
        {"phone": "+989120000000", "region": "IR"},  # no id
        {"id": "not-a-uuid", "phone": "+989120000000", "region": "IR"},
        {"id": None, "phone": "garbage", "region": "IR"},
        {"id": "x", "phone": "+989120000000", "region": "IR", "utm": "google"},
    ],
)
async def test_an_unreadable_message_is_set_aside(
    worker: Process, redis: Redis, pg: asyncpg.Pool, message: dict[str, object]
) -> None:
    marker = str(uuid7())
    await set_aside(redis, pg, marker, {"submission": {**message, "marker": marker}})


@pytest.mark.parametrize("kwargs", [{}, {"submission": "a string"}, {"submission": None}])
async def test_a_task_without_a_submission_is_set_aside(
    worker: Process, redis: Redis, pg: asyncpg.Pool, kwargs: dict[str, object]
) -> None:
    await set_aside(redis, pg, str(uuid7()), kwargs)
