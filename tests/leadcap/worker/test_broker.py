"""The stream broker and the worker's read loop against a real Redis: reclaim without traffic,
ack deletes, group from 0; plain leads by the batch, acked after their commit, the rest through
Taskiq."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
import pytest
from taskiq import AckableMessage

from leadcap import keys
from leadcap.errors import StoreError
from leadcap.groupcommit import GroupCommit
from leadcap.ids import uuid7
from leadcap.intake.submission import Submission, encode_task
from leadcap.stores.redis import Redis
from leadcap.worker.broker import LeadStreamBroker
from leadcap.worker.consume import Consumer, plain_lead
from leadcap.worker.tasks import lead_task
from tests import factories, servers
from tests.servers import Stores, on_db, wait_for


@pytest.fixture
async def url(stores: Stores) -> AsyncIterator[str]:
    async with servers.private_redis(stores.redis, 4):
        yield on_db(stores.redis, 4)


async def next_message(broker: LeadStreamBroker, timeout: float) -> AckableMessage:
    listener = broker.listen()
    try:
        return await asyncio.wait_for(anext(listener), timeout)
    finally:
        await listener.aclose()


async def test_messages_sent_before_any_worker_are_delivered(url: str) -> None:
    sender = Redis.open(url)
    await sender.client_for_tests().xadd(keys.LEAD_STREAM, {"data": encode_task({"id": "early"})})
    broker = LeadStreamBroker(url, reclaim_idle_s=30)
    await broker.startup()
    message = await next_message(broker, 5)
    assert b'"early"' in message.data
    await broker.shutdown()
    await sender.close()


async def test_dead_consumers_messages_are_reclaimed_with_no_new_traffic(url: str) -> None:
    sender = Redis.open(url)
    doomed = LeadStreamBroker(url, reclaim_idle_s=1)
    await doomed.startup()
    await sender.client_for_tests().xadd(keys.LEAD_STREAM, {"data": encode_task({"id": "orphan"})})
    taken = await next_message(doomed, 5)  # read, then "killed": never acked
    assert b"orphan" in taken.data
    await doomed.shutdown()

    rescuer = LeadStreamBroker(url, reclaim_idle_s=1)
    await rescuer.startup()
    loop = asyncio.get_running_loop()
    started = loop.time()
    message = await next_message(rescuer, 10)
    waited = loop.time() - started
    assert b"orphan" in message.data
    assert waited < 1 + rescuer.sweep_every_s + 1.5  # idle timeout + one sweep + read block
    await message.ack()  # type: ignore[misc]
    assert await sender.client_for_tests().xlen(keys.LEAD_STREAM) == 0  # acked entries leave the stream
    pending = await sender.client_for_tests().xpending(keys.LEAD_STREAM, keys.CONSUMER_GROUP)
    assert pending["pending"] == 0
    await rescuer.shutdown()
    await sender.close()


async def test_unacked_entries_are_never_trimmed(url: str) -> None:
    sender = Redis.open(url)
    broker = LeadStreamBroker(url, reclaim_idle_s=30)
    await broker.startup()
    for i in range(300):
        await sender.client_for_tests().xadd(keys.LEAD_STREAM, {"data": encode_task({"id": str(i)})})
    listener = broker.listen()
    got = [await anext(listener) for _ in range(300)]
    for message in got[:100]:
        await message.ack()  # type: ignore[misc]
    await listener.aclose()
    assert await sender.client_for_tests().xlen(keys.LEAD_STREAM) == 200
    await broker.shutdown()
    await sender.close()


async def test_a_slow_message_of_our_own_is_not_handed_out_twice(url: str) -> None:
    """With a backlog, a message may wait in this worker past the idle timeout: the sweep must
    not yield it again (it would reach PostgreSQL twice in one batch)."""
    sender = Redis.open(url)
    broker = LeadStreamBroker(url, reclaim_idle_s=0.5)
    await broker.startup()
    await sender.client_for_tests().xadd(keys.LEAD_STREAM, {"data": encode_task({"id": "slow"})})
    listener = broker.listen()
    first = await asyncio.wait_for(anext(listener), 5)  # held, not acked, well past the idle timeout
    second = asyncio.ensure_future(anext(listener))
    await asyncio.sleep(2.5)
    assert not second.done(), "the same message was yielded twice"
    second.cancel()
    await first.ack()  # type: ignore[misc]
    assert await sender.client_for_tests().xlen(keys.LEAD_STREAM) == 0
    await listener.aclose()
    await broker.shutdown()
    await sender.close()


def lead() -> Submission:
    return Submission(id=uuid7(), phone=factories.e164(factories.mobile()), region="IR", utm={"source": "g"})


def test_plain_lead_takes_exactly_what_intake_enqueues() -> None:
    item = lead()
    assert plain_lead(encode_task(item.to_message())) == item
    wire = orjson.loads(encode_task(item.to_message()))
    for changed in (
        {"labels": {"ack_type": "when_received"}},  # Taskiq's to apply
        {"task_name": "another:task"},
        {"args": [1]},
        {"kwargs": {"submission": item.to_message(), "extra": 1}},
        {"kwargs": {"submission": {**item.to_message(), "phone": "09121234567"}}},  # buried by the task
        {"task_id": None},
    ):
        assert plain_lead(orjson.dumps({**wire, **changed})) is None, changed
    assert plain_lead(b"not json") is None
    assert plain_lead(b"[1, 2]") is None


class Gate:
    """A lead write that records its batches and waits for `open` before it commits."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.open = asyncio.Event()
        self.batches: list[list[Submission]] = []
        self.refuse = refuse

    async def write(self, items: Sequence[Submission]) -> None:
        await self.open.wait()
        if self.refuse & {s.phone for s in items}:
            raise StoreError("postgres", "refused", transient=False)
        self.batches.append(list(items))


async def enqueue(sender: Redis, messages: Sequence[bytes]) -> None:
    pipe = sender.client_for_tests().pipeline(transaction=False)
    for data in messages:
        pipe.xadd(keys.LEAD_STREAM, {"data": data})
    await pipe.execute()


async def test_leads_are_written_by_the_batch_and_acked_only_after_the_commit(url: str) -> None:
    sender = Redis.open(url)
    leads = [lead() for _ in range(100)]
    await enqueue(sender, [encode_task(s.to_message()) for s in leads])
    broker = LeadStreamBroker(url, reclaim_idle_s=30)
    await broker.startup()
    gate = Gate()
    consumer = Consumer(broker, GroupCommit(gate.write, max_batch=256), capacity=256, read_count=256)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    client = sender.client_for_tests()

    async def all_read() -> bool:
        return int((await client.xpending(keys.LEAD_STREAM, keys.CONSUMER_GROUP))["pending"]) == 100

    assert await wait_for(all_read, 5)
    await asyncio.sleep(0.2)
    assert await client.xlen(keys.LEAD_STREAM) == 100, "acked before the commit"
    gate.open.set()

    async def acked() -> bool:
        return int(await client.xlen(keys.LEAD_STREAM)) == 0

    assert await wait_for(acked, 5)
    assert [s for b in gate.batches for s in b] == leads
    assert len(gate.batches) == 1  # one read, one write
    assert (await client.xpending(keys.LEAD_STREAM, keys.CONSUMER_GROUP))["pending"] == 0
    stop.set()
    await running
    await consumer.finish(5)
    await broker.shutdown()
    await sender.close()


async def test_other_messages_go_through_taskiq_and_are_buried_there(url: str) -> None:
    sender = Redis.open(url)
    good = [lead() for _ in range(10)]
    bad = {**lead().to_message(), "phone": "not a phone"}
    await enqueue(sender, [*(encode_task(s.to_message()) for s in good[:5]), encode_task(bad)])
    await enqueue(sender, [encode_task(s.to_message()) for s in good[5:]])
    buried: list[tuple[dict[str, Any], str]] = []

    async def bury(message: dict[str, Any], error: str) -> None:
        buried.append((message, error))

    gate = Gate()
    gate.open.set()
    writer = GroupCommit(gate.write, max_batch=256)
    broker = LeadStreamBroker(url, reclaim_idle_s=30)
    broker.register_task(lead_task(writer, bury), task_name=keys.TASK_NAME)
    await broker.startup()
    consumer = Consumer(broker, writer, capacity=256, read_count=256)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    client = sender.client_for_tests()

    async def acked() -> bool:
        return int(await client.xlen(keys.LEAD_STREAM)) == 0

    assert await wait_for(acked, 5)
    assert buried == [(bad, "unreadable message: phone is not E.164")]
    assert sorted(str(s.id) for b in gate.batches for s in b) == sorted(str(s.id) for s in good)
    stop.set()
    await running
    await consumer.finish(5)
    await broker.shutdown()
    await sender.close()


async def test_a_lead_refused_for_good_stays_pending_and_is_handed_out_again(url: str) -> None:
    """No dead letters here (no on_refused): the entry is not acked, and this same worker's sweep
    gives it another try once it has been idle long enough."""
    sender = Redis.open(url)
    leads = [lead() for _ in range(5)]
    await enqueue(sender, [encode_task(s.to_message()) for s in leads])
    broker = LeadStreamBroker(url, reclaim_idle_s=1)
    await broker.startup()
    gate = Gate(refuse=frozenset({leads[2].phone}))
    gate.open.set()
    tried: list[Submission] = []

    async def write(items: Sequence[Submission]) -> None:
        tried.extend(items)
        await gate.write(items)

    consumer = Consumer(broker, GroupCommit(write, max_batch=256), capacity=256, read_count=256)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    client = sender.client_for_tests()

    async def tried_twice() -> bool:
        return tried.count(leads[2]) >= 3  # in the batch, alone, then again after the sweep

    assert await wait_for(tried_twice, 10), "the refused lead was never handed out again"
    assert await client.xlen(keys.LEAD_STREAM) == 1  # only the refused one is left
    assert {s.id for b in gate.batches for s in b} == {s.id for s in leads} - {leads[2].id}
    stop.set()
    await running
    await consumer.finish(5)
    await broker.shutdown()
    await sender.close()


async def test_stop_wakes_a_consumer_that_waits_for_room(url: str) -> None:
    """Capacity full with writes that never finish (PostgreSQL down): SIGTERM must still stop
    the reading, not wait for room forever."""
    sender = Redis.open(url)
    await enqueue(sender, [encode_task(lead().to_message()) for _ in range(5)])
    broker = LeadStreamBroker(url, reclaim_idle_s=30)
    await broker.startup()
    gate = Gate()  # never opened
    consumer = Consumer(broker, GroupCommit(gate.write, max_batch=256), capacity=2, read_count=2)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    client = sender.client_for_tests()

    async def full() -> bool:
        return int((await client.xpending(keys.LEAD_STREAM, keys.CONSUMER_GROUP))["pending"]) == 2

    assert await wait_for(full, 5)
    stop.set()
    await asyncio.wait_for(running, 3)
    await consumer.finish(0.1)  # the batch in hand is given up, unacked
    assert await client.xlen(keys.LEAD_STREAM) == 5
    await broker.shutdown()
    await sender.close()


async def test_a_trickle_of_leads_is_written_in_batches_not_one_by_one(url: str) -> None:
    """Leads arriving one at a time while the worker runs (the web tier's steady traffic) are
    gathered: a read that did not fill its slice waits a moment before the next one."""
    sender = Redis.open(url)
    broker = LeadStreamBroker(url, reclaim_idle_s=30)
    await broker.startup()
    gate = Gate()
    gate.open.set()
    consumer = Consumer(broker, GroupCommit(gate.write, max_batch=256), capacity=256, read_count=128)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    leads = [lead() for _ in range(100)]
    for s in leads:  # ~1 ms apart: 100 leads over ~0.1-0.2 s
        await enqueue(sender, [encode_task(s.to_message())])
        await asyncio.sleep(0.001)

    async def all_written() -> bool:
        return sum(len(b) for b in gate.batches) == 100

    assert await wait_for(all_written, 5)
    assert sorted(s.phone for b in gate.batches for s in b) == sorted(s.phone for s in leads)
    # One read per lead would make ~100 batches; the linger makes a few.
    assert len(gate.batches) <= 25, len(gate.batches)
    stop.set()
    await running
    await consumer.finish(5)
    await broker.shutdown()
    await sender.close()
