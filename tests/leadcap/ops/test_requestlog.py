"""The request log in a real MongoDB-wire server: append-only buckets, bounded buffer, retries."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadcap.errors import StoreError
from leadcap.ops import embedded
from leadcap.ops.requestlog import RequestLog, ip_view
from leadcap.stores.mongo import Bucket, Mongo
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
    """The entries waiting: a failed bucket's, then the buffer's."""
    return [*(log.pending.entries if log.pending else []), *log.buffer]


async def buckets(mongo: Mongo) -> list[dict[str, Any]]:
    return [doc async for doc in mongo.logs_for_tests().find({}).sort("time", 1)]


async def test_a_flush_is_one_bucket_document(mongo: Mongo) -> None:
    log = RequestLog(mongo, capacity=10)
    log.record(request_doc(time=datetime.now(UTC) - timedelta(seconds=2)))  # waited in the buffer
    log.record(request_doc(submission_id="s-1", task_state="queued"))
    log.record(request_doc(duplicate_of="s-1"))
    log.task_state(["s-1", "s-2"], "done")
    entries = queued(log)
    assert len(entries) == 5 and all(type(doc) is dict for doc in entries)
    await log.flush()
    assert log.written == 5 and not queued(log)
    (bucket,) = await buckets(mongo)
    assert set(bucket) == {"_id", "time", "until", "submission_ids", "entries"}
    # whom its entries name (a duplicate names the submission it repeats), for the index
    assert bucket["submission_ids"] == ["s-1", "s-1", "s-1", "s-2"]
    assert [e["kind"] for e in bucket["entries"]] == ["request"] * 3 + ["task"] * 2
    assert bucket["time"] == min(e["time"] for e in bucket["entries"])  # the TTL's field
    assert bucket["until"] == max(e["time"] for e in bucket["entries"])
    first, second = bucket["entries"][3:]
    now = first["time"]
    assert first == {"kind": "task", "time": now, "submission_id": "s-1", "task_state": "done"}
    assert second == {**first, "submission_id": "s-2"} and now.utcoffset() == timedelta(0)


async def test_an_entry_without_a_time_does_not_stop_the_log(mongo: Mongo) -> None:
    log = RequestLog(mongo, capacity=10)
    log.record({"kind": "landing", "status": 200})
    before = datetime.now(UTC)
    await log.flush()
    (bucket,) = await buckets(mongo)
    assert bucket["entries"] == [{"kind": "landing", "status": 200}]
    assert bucket["time"] >= before.replace(microsecond=before.microsecond // 1000 * 1000)


async def test_a_bucket_holds_at_most_a_batch(mongo: Mongo) -> None:
    log = RequestLog(mongo, capacity=10, batch=2)
    for n in range(5):
        log.record(request_doc(status=200 + n))
    await log.flush()
    statuses = [[e["status"] for e in b["entries"]] for b in await buckets(mongo)]
    assert statuses == [[200, 201], [202, 203], [204]]


async def test_the_indexes_expire_buckets_by_time_and_find_submissions(mongo: Mongo) -> None:
    indexes = {i["name"]: i async for i in await mongo.logs_for_tests().list_indexes()}
    ttl = indexes["time_ttl"]
    assert ttl["key"] == {"time": 1} and ttl["expireAfterSeconds"] == 30 * 86400
    assert indexes["submission_ids"]["key"] == {"submission_ids": 1}
    log = RequestLog(mongo, capacity=10)
    log.record(request_doc(submission_id="s-1", task_state="queued"))
    await log.flush()
    plan = await mongo.logs_for_tests().find({"submission_ids": "s-1"}).explain()
    assert "'indexName': 'submission_ids'" in str(plan["queryPlanner"]["winningPlan"])  # no scan


async def test_a_submissions_story_is_its_request_then_the_workers_verdict(mongo: Mongo) -> None:
    web, worker = RequestLog(mongo, capacity=10), RequestLog(mongo, capacity=10)
    accepted = request_doc(submission_id="s-1", task_state="queued")
    web.record(dict(accepted))
    web.record(request_doc(status=422))
    worker.task_state(iter(["s-1", "s-2"]), "done")  # s-2: its request was logged elsewhere
    await worker.flush()  # the worker may well flush first: nothing is merged, so order is free
    await web.flush()
    assert (web.written, worker.written) == (2, 2)

    # Both can fall in the same millisecond (what MongoDB keeps of a time): `kind` orders them.
    request, task = await mongo.entries(submission_id="s-1")
    assert request["time"] <= task["time"]
    assert request == {**accepted, "kind": "request", "time": request["time"]}
    assert abs((request["time"] - accepted["time"]).total_seconds()) < 0.001  # stored to the ms
    assert task == {"kind": "task", "time": task["time"], "submission_id": "s-1", "task_state": "done"}
    (other,) = await mongo.entries(submission_id="s-2")
    assert other["kind"] == "task" and other["time"] == task["time"]
    assert len(await mongo.entries(kind="request")) == 2
    assert [e["status"] for e in await mongo.entries(request_id=accepted["request_id"])] == [202]


async def test_a_callers_kind_is_kept(mongo: Mongo) -> None:
    log = RequestLog(mongo, capacity=10)
    log.record(request_doc(kind="landing"))
    await log.flush()
    assert [d["kind"] for d in await mongo.entries()] == ["landing"]


async def test_failed_verdicts_are_logged_the_same_way(mongo: Mongo) -> None:
    log = RequestLog(mongo, capacity=10)
    log.task_state(["s-9"], "failed")
    await log.flush()
    (task,) = await mongo.entries(submission_id="s-9")
    assert (task["kind"], task["task_state"]) == ("task", "failed")


class AnswerLost(Mongo):
    """The real store, except that the answer to its first write is lost after the write landed."""

    lost = 1

    async def write(self, bucket: Bucket) -> None:
        await super().write(bucket)
        if self.lost:
            self.lost -= 1
            raise StoreError("mongo", "the connection dropped before the answer")


async def test_a_bucket_whose_answer_was_lost_is_stored_once(mongo: Mongo) -> None:
    """A bucket whose write failed is retried as it was, `_id` and all: when the first attempt
    did land (only its answer was lost), the retry adds nothing."""
    lossy = AnswerLost(mongo.client_for_tests(), mongo.logs_for_tests().database.name)
    log = RequestLog(lossy, capacity=10)
    log.record(request_doc(submission_id="s-1", task_state="queued"))
    log.task_state(["s-1"], "done")
    with pytest.raises(StoreError):
        await log.flush()
    log.record(request_doc(status=422))  # newer entries go in a bucket of their own
    await log.flush()
    assert log.written == 3 and not queued(log)
    assert [e["kind"] for e in await mongo.entries(submission_id="s-1")] == ["request", "task"]
    assert [len(b["entries"]) for b in await buckets(mongo)] == [2, 1]


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
    assert nothing.dropped == 1 and not queued(nothing)


async def test_writes_wait_in_the_buffer_while_mongo_is_away() -> None:
    away = Mongo.open(f"mongodb://127.0.0.1:{embedded.free_port()}/leadcap", timeout_ms=200)
    try:
        log = RequestLog(away, capacity=3, batch=2)
        log.record(request_doc(submission_id="s-1", task_state="queued"))
        log.task_state(["s-1", "s-2"], "done")
        with pytest.raises(StoreError):
            await log.flush()
        # the failed bucket waits to be retried first, in order, and nothing was lost
        assert [d["kind"] for d in queued(log)] == ["request", "task", "task"]
        assert log.pending is not None and len(log.pending.entries) == 2
        assert (log.dropped, log.written) == (0, 0)
        log.record(request_doc())
        assert log.dropped == 1 and [d["kind"] for d in queued(log)] == ["task", "task", "request"]
        with pytest.raises(StoreError):
            await log.flush()
        assert log.dropped == 1 and log.waiting() == 3  # the oldest went: bounded
    finally:
        await away.close()


def test_the_client_address_is_kept_as_the_setting_says() -> None:
    v4, v6 = ipaddress.ip_address("203.0.113.77"), ipaddress.ip_address("2001:db8:1:2:3::9")
    for _ in range(2):  # the second answer comes from the cache: the same
        assert ip_view(v4, "truncated") == "203.0.113.0/24"
        assert ip_view(v6, "truncated") == "2001:db8:1::/48"
        assert ip_view(v4, "full") == "203.0.113.77"
        hashed = ip_view(v4, "hashed")
        assert hashed is not None and len(hashed) == 16 and "203" not in hashed
        assert hashed != ip_view(ipaddress.ip_address("203.0.113.78"), "hashed")
        assert ip_view(None, "full") is None
