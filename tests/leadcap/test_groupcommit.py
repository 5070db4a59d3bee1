"""GroupCommit on its own: batching, lingering under load, failures and cancelled callers."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Sequence

import pytest

from leadcap.errors import StoreError
from leadcap.groupcommit import GroupCommit


class Store:
    """A write function that records its batches and takes `delay` seconds."""

    def __init__(self, delay: float = 0.0, fail: set[int] | None = None, transient: int = 0) -> None:
        self.delay = delay
        self.fail = fail or set()
        self.transient = transient
        self.batches: list[list[int]] = []
        self.writing = asyncio.Event()  # set once a write is in flight

    async def write(self, items: Sequence[int]) -> None:
        self.writing.set()
        await asyncio.sleep(self.delay)  # the write's own duration: what the batching works around
        if self.transient:
            self.transient -= 1
            raise StoreError("postgres", "connection refused", transient=True)
        if self.fail & set(items):
            raise StoreError("postgres", "bad row", transient=False)
        self.batches.append(list(items))


async def test_at_rest_an_item_is_written_at_once_even_with_a_linger() -> None:
    store = Store()
    writer = GroupCommit(store.write, max_batch=100, linger_s=5.0)
    started = time.monotonic()
    await writer.submit(1)
    assert time.monotonic() - started < 1.0
    assert store.batches == [[1]]


async def test_concurrent_items_share_a_write() -> None:
    store = Store(delay=0.01)
    writer = GroupCommit(store.write, max_batch=100)
    await asyncio.gather(*(writer.submit(i) for i in range(50)))
    assert sorted(i for b in store.batches for i in b) == list(range(50))
    assert len(store.batches) <= 2
    assert (writer.written, writer.batches) == (50, len(store.batches))


async def arrive_during_and_after_a_write(store: Store, writer: GroupCommit[int]) -> None:
    """Item 0's write in flight, 1-5 arrive during it, 6-10 once it is done (during a linger, if
    the writer has one): returns when all are written."""
    first = asyncio.create_task(writer.submit(0))
    await store.writing.wait()
    during = [asyncio.create_task(writer.submit(i)) for i in range(1, 6)]
    await first  # the flusher has taken 1-5 (no linger) or is lingering on them
    await asyncio.gather(*during, *(writer.submit(i) for i in range(6, 11)))


async def test_under_load_the_next_batch_lingers_to_fill() -> None:
    store = Store(delay=0.05)
    await arrive_during_and_after_a_write(store, GroupCommit(store.write, max_batch=100, linger_s=1.0))
    assert store.batches == [[0], list(range(1, 11))]


async def test_without_a_linger_the_next_batch_goes_as_soon_as_the_write_ends() -> None:
    store = Store(delay=0.05)
    await arrive_during_and_after_a_write(store, GroupCommit(store.write, max_batch=100))
    assert store.batches == [[0], [1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]


async def test_a_full_batch_does_not_wait_out_the_linger() -> None:
    store = Store(delay=0.05)
    writer = GroupCommit(store.write, max_batch=5, linger_s=10.0)
    first = asyncio.create_task(writer.submit(0))
    await store.writing.wait()
    started = time.monotonic()
    await asyncio.gather(first, *(writer.submit(i) for i in range(1, 6)))
    assert time.monotonic() - started < 2.0
    assert store.batches == [[0], [1, 2, 3, 4, 5]]


async def test_transient_failures_are_retried_until_written() -> None:
    store = Store(transient=2)
    writer = GroupCommit(store.write, max_batch=10)
    await asyncio.wait_for(writer.submit(7), 5)
    assert store.batches == [[7]]


async def test_a_permanent_failure_fails_only_its_item() -> None:
    store = Store(fail={3})
    failed: list[int] = []

    async def on_failed(item: int) -> None:
        failed.append(item)

    writer = GroupCommit(store.write, max_batch=10, on_failed=on_failed)
    results = await asyncio.gather(*(writer.submit(i) for i in range(5)), return_exceptions=True)
    assert [isinstance(r, StoreError) for r in results] == [False, False, False, True, False]
    assert failed == [3]
    assert sorted(i for b in store.batches for i in b) == [0, 1, 2, 4]


async def test_a_refused_item_is_handed_to_on_refused_and_its_caller_succeeds() -> None:
    store = Store(fail={3})
    refused: list[tuple[int, str]] = []
    failed: list[int] = []

    async def on_refused(item: int, exc: StoreError) -> None:
        refused.append((item, exc.reason))

    async def on_failed(item: int) -> None:
        failed.append(item)

    writer = GroupCommit(store.write, max_batch=10, on_refused=on_refused, on_failed=on_failed)
    await asyncio.wait_for(asyncio.gather(*(writer.submit(i) for i in range(5))), 5)
    assert refused == [(3, "bad row")] and failed == [] and writer.refused == 1
    assert sorted(i for b in store.batches for i in b) == [0, 1, 2, 4]


async def test_on_refused_is_retried_while_transient_and_fails_the_caller_when_it_cannot() -> None:
    store = Store(fail={3})
    tries: list[int] = []

    async def flaky(item: int, exc: StoreError) -> None:
        tries.append(item)
        if len(tries) < 3:
            raise StoreError("postgres", "connection refused", transient=True)

    writer = GroupCommit(store.write, max_batch=10, on_refused=flaky)
    await asyncio.wait_for(writer.submit(3), 10)
    assert tries == [3, 3, 3]

    async def broken(item: int, exc: StoreError) -> None:
        raise StoreError("postgres", "no such table", transient=False)

    writer = GroupCommit(store.write, max_batch=10, on_refused=broken)
    with pytest.raises(StoreError, match="bad row"):  # not acked: it stays pending, nothing is lost
        await asyncio.wait_for(writer.submit(3), 5)


async def cancel_the_first_of_two(store: Store, writer: GroupCommit[int]) -> None:
    """Submit 1 and 2 together, cancel 1's caller while their write is in flight, wait for 2."""
    doomed = asyncio.create_task(writer.submit(1))
    kept = asyncio.create_task(writer.submit(2))
    await store.writing.wait()
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    await kept


async def test_a_cancelled_caller_does_not_stop_the_batch() -> None:
    store = Store(delay=0.05)
    written: list[int] = []

    async def on_written(items: Sequence[int]) -> None:
        written.extend(items)

    await cancel_the_first_of_two(store, GroupCommit(store.write, max_batch=10, on_written=on_written))
    assert written == [1, 2]  # the cancelled caller's item was still written (it is idempotent)


async def test_a_cancelled_callers_failure_is_not_left_unretrieved() -> None:
    """A caller that gave up must not leave a future holding an exception no one reads (asyncio
    reports "exception was never retrieved" when such a future is collected)."""
    store = Store(delay=0.05, fail={1})
    writer = GroupCommit(store.write, max_batch=10)
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(str(context.get("message"))))
    try:
        await cancel_the_first_of_two(store, writer)
        gc.collect()  # the report comes when the future is collected: make that happen now
        await asyncio.sleep(0)  # one turn of the loop, for a report it would schedule
    finally:
        loop.set_exception_handler(previous)
    assert store.batches == [[2]]  # the batch failed on item 1, then item 2 went through alone
    assert reported == []


async def test_submit_many_settles_each_item_and_names_the_ones_that_failed() -> None:
    store = Store(fail={3})
    refused: list[int] = []

    async def set_aside(item: int, exc: StoreError) -> None:
        if item == 5:
            refused.append(item)
        else:
            raise StoreError("postgres", "cannot set aside", transient=False)

    writer = GroupCommit(store.write, max_batch=4, on_refused=set_aside)
    store.fail.add(5)
    outcomes = await writer.submit_many([1, 2, 3, 4, 5, 6])
    assert [error is None for error in outcomes] == [True, True, False, True, True, True]
    assert isinstance(outcomes[2], StoreError) and outcomes[2].reason == "bad row"
    assert refused == [5]
    assert sorted(i for b in store.batches for i in b) == [1, 2, 4, 6]
    assert await writer.submit_many([]) == []
