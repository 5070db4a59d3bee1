"""The request log through a replica-set URL (`replicaSet=`) against the suite's MongoDB-wire
server, which is a single-member replica set (`secantus`): the driver holds it to the set's
name, and a step-down (no primary for a while) costs no entry: the failed bucket is kept and
lands once, after the primary is back.

A switch between two members cannot be tested here: SecantusDB has no replication between
servers, so the set has one member, and a step-down is the only change of primary it offers."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest

from leadcap.errors import StoreError
from leadcap.ops.requestlog import RequestLog
from leadcap.stores.mongo import Mongo
from tests import servers
from tests.leadcap.ops.test_requestlog import request_doc
from tests.servers import wait_for

SET_NAME = "secantus"  # the set SecantusDB says it is
STEP_DOWN_S = 2


def in_set(mongo_url: str, name: str) -> str:
    url = servers.with_database(mongo_url, f"leadcap_rs_{uuid.uuid4().hex[:8]}")
    return url + ("&" if "?" in url else "?") + f"replicaSet={name}&heartbeatFrequencyMS=1000"


@pytest.fixture
async def replica_set(mongo_url: str) -> AsyncIterator[Mongo]:
    store = Mongo.open(in_set(mongo_url, SET_NAME))
    yield store
    await store.client_for_tests().drop_database(store.logs_for_tests().database.name)
    await store.close()


async def test_the_set_name_is_held_to(mongo_url: str) -> None:
    """A URL naming another set finds no member: the driver really runs in replica-set mode."""
    wrong = Mongo.open(in_set(mongo_url, "not-" + SET_NAME))
    try:
        with pytest.raises(StoreError):
            await wrong.ping()
    finally:
        await wrong.close()


async def test_a_step_down_loses_no_entry(replica_set: Mongo) -> None:
    log = RequestLog(replica_set, capacity=1000)
    ids = [f"before-{n}" for n in range(3)]
    for request_id in ids:
        log.record(request_doc(request_id=request_id))
    await log.flush()
    admin = replica_set.client_for_tests().admin
    stepped_at = time.monotonic()
    await admin.command({"replSetStepDown": STEP_DOWN_S, "force": True})
    during = [f"during-{n}" for n in range(3)]
    for request_id in during:
        log.record(request_doc(request_id=request_id))
    with pytest.raises(StoreError):  # no primary: the bucket stays for the next flush
        await log.flush()
    assert log.waiting() == 3

    async def flushed() -> bool:
        try:
            await log.flush()
        except StoreError:
            return False
        return True

    assert await wait_for(flushed, 30)
    resumed_s = time.monotonic() - stepped_at
    written = sorted(e["request_id"] for e in await replica_set.entries(kind="request"))
    assert written == sorted(ids + during)  # each once
    assert log.dropped == 0
    print(f"\nmongo step-down of {STEP_DOWN_S}s: request logs written again after {resumed_s:.2f}s")
