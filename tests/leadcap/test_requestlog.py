"""The request log in a real MongoDB-wire server: append-only documents, bounded buffer, retries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadcap import embedded
from leadcap.errors import StoreError
from leadcap.requestlog import RequestLog
from leadcap.stores.mongo import Mongo
from tests import servers


@pytest.fixture
async def mongo(mongo_url: str) -> AsyncIterator[Mongo]:
    # A database of its own per test: the documents counted are this test's only.
    store = Mongo.open(servers.with_database(mongo_url, f"leadcap_rl_{uuid.uuid4().hex[:8]}"))
    await store.ensure_indexes(ttl_days=30)
    yield store
    await store.client_for_tests().drop_database(store.logs_for_tests().database.name)
    await store.close()


def request_doc(**extra: Any) -> dict[str, Any]:
    return {
        "time": datetime.now(UTC),
        "request_id": uuid.uuid4().hex,
        "method": "POST",
        "path": "/api/leads/",
        "status": 202,
        "latency_ms": 1.5,
        "client_ip": "127.0.0.0/24",
        "user_agent": "pytest",
        **extra,
    }


def queued(log: RequestLog) -> list[dict[str, Any]]:
    """The documents waiting in the buffer."""
    return list(log.buffer)


async def stored(mongo: Mongo, **query: Any) -> list[dict[str, Any]]:
    return [doc async for doc in mongo.logs_for_tests().find(query, {"_id": 0}).sort("time", 1)]


async def test_every_write_is_a_plain_insert(mongo: Mongo) -> None:
    log = RequestLog(mongo, capacity=10)
    log.record(request_doc())
    log.record(request_doc(submission_id="s-1", task_state="queued"))
    log.record(request_doc(duplicate_of="s-1"))
    log.task_state(["s-1", "s-2"], "done")
    assert len(log.buffer) == 5 and all(type(doc) is dict for doc in log.buffer)
    await log.flush()
    docs = sorted(await stored(mongo), key=lambda d: (d["kind"], d.get("submission_id", "")))
    assert [d["kind"] for d in docs] == ["request"] * 3 + ["task"] * 2
    assert docs[2]["submission_id"] == "s-1" and docs[2]["task_state"] == "queued"
    first, second = docs[3:]
    now = first["time"]
    assert first == {
        "kind": "task",
        "time": now,
        "submission_id": "s-1",
        "task_state": "done",
        "processed_at": now,
    }
    assert second == {**first, "submission_id": "s-2"} and now.utcoffset() == timedelta(0)


async def test_a_submissions_story_is_its_request_then_the_workers_verdict(mongo: Mongo) -> None:
    web, worker = RequestLog(mongo, capacity=10), RequestLog(mongo, capacity=10)
    accepted = request_doc(submission_id="s-1", task_state="queued")
    web.record(dict(accepted))
    web.record(request_doc(status=422))
    worker.task_state(iter(["s-1", "s-2"]), "done")  # s-2: its request was logged elsewhere
    await worker.flush()  # the worker may well flush first: nothing is merged, so order is free
    await web.flush()
    assert (web.written, worker.written) == (2, 2)

    # Both can fall in the same millisecond (what MongoDB keeps of a time): `kind` tells them apart.
    request, task = sorted(await stored(mongo, submission_id="s-1"), key=lambda d: d["kind"])
    assert request["time"] <= task["time"]
    assert request == {**accepted, "kind": "request", "time": request["time"]}
    assert abs((request["time"] - accepted["time"]).total_seconds()) < 0.001  # stored to the ms
    assert set(task) == {"kind", "time", "submission_id", "task_state", "processed_at"}
    assert (task["kind"], task["submission_id"], task["task_state"]) == ("task", "s-1", "done")
    assert task["processed_at"] == task["time"]
    (other,) = await stored(mongo, submission_id="s-2")
    assert other["kind"] == "task" and other["processed_at"] == task["processed_at"]
    assert len(await stored(mongo, kind="request")) == 2


async def test_a_callers_kind_is_kept(mongo: Mongo) -> None:
    log = RequestLog(mongo, capacity=10)
    log.record(request_doc(kind="landing"))
    await log.flush()
    assert [d["kind"] for d in await stored(mongo)] == ["landing"]


async def test_failed_verdicts_are_logged_the_same_way(mongo: Mongo) -> None:
    log = RequestLog(mongo, capacity=10)
    log.task_state(["s-9"], "failed")
    await log.flush()
    (task,) = await stored(mongo, submission_id="s-9")
    assert (task["kind"], task["task_state"]) == ("task", "failed")


async def test_a_batch_written_twice_is_stored_once(mongo: Mongo) -> None:
    """A batch whose answer was lost is retried whole: what did land is not duplicated."""
    log = RequestLog(mongo, capacity=10)
    log.record(request_doc(submission_id="s-1", task_state="queued"))
    log.task_state(["s-1"], "done")
    writes = list(log.buffer)
    await mongo.write(writes[:1])  # the first attempt got halfway
    await log.flush()
    assert log.written == 2 and not log.buffer
    assert sorted(d["kind"] for d in await stored(mongo, submission_id="s-1")) == ["request", "task"]


async def test_the_buffer_is_bounded_and_drops_are_counted(mongo: Mongo) -> None:
    drops: list[int] = []
    log = RequestLog(mongo, capacity=3, on_drop=drops.append)
    for n in range(4):
        log.record(request_doc(status=200 + n))
    log.task_state(["s-1"], "done")
    assert log.dropped == 2 and sum(drops) == 2
    assert [d.get("status") for d in queued(log)] == [202, 203, None]
    nothing = RequestLog(mongo, capacity=0)
    nothing.record(request_doc())
    assert nothing.dropped == 1 and not nothing.buffer


async def test_writes_wait_in_the_buffer_while_mongo_is_away() -> None:
    away = Mongo.open(f"mongodb://127.0.0.1:{embedded.free_port()}/leadcap", timeout_ms=200)
    try:
        log = RequestLog(away, capacity=3, batch=2)
        log.record(request_doc(submission_id="s-1", task_state="queued"))
        log.task_state(["s-1", "s-2"], "done")
        with pytest.raises(StoreError):
            await log.flush()
        # the failed batch is back at the front, in order, and nothing was lost
        assert [d["kind"] for d in queued(log)] == ["request", "task", "task"]
        assert (log.dropped, log.written) == (0, 0)
        log.record(request_doc())
        with pytest.raises(StoreError):
            await log.flush()
        assert log.dropped == 1 and len(log.buffer) == 3  # the oldest went: bounded
    finally:
        await away.close()
