"""The stream broker against a real Redis: reclaim without traffic, ack deletes, group from 0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from taskiq import AckableMessage

from leadcap import keys
from leadcap.stores.redis import Redis
from leadcap.submission import encode_task
from leadcap.worker.broker import LeadStreamBroker
from tests import servers
from tests.servers import Stores, on_db


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
