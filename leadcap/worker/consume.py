"""The worker's read loop: lead messages by the batch, everything else through Taskiq.

Taskiq's receiver handles one message at a time: a prefetch task, a semaphore, a task per
message, dependency injection, one ack each. For the one hot task that cost more worker CPU than
the write itself. So the worker reads the stream a batch at a time (one XREADGROUP), and a
message that is exactly what intake.lua enqueues (`plain_lead`) goes with its whole batch to
the group-commit writer in one call; the batch's written entries are then acknowledged with
one XACK + XDEL. Anything else (another task, labels, a submission the worker cannot read, a
message that is no Taskiq message at all) goes through `Receiver.callback` as before, so the
dead letters and Taskiq's own handling of a bad message are unchanged.

The guarantees stay those of the receiver path: an entry is acknowledged only after PostgreSQL
committed it (or its dead letter); an entry whose write fails for good is released unacked, so
the reclaim sweep hands it out again; at most `capacity` entries are in this process's hands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from taskiq import AckableMessage
from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver

from leadcap import keys
from leadcap.errors import StoreError
from leadcap.groupcommit import GroupCommit
from leadcap.intake.submission import Submission, Unreadable, read_message
from leadcap.worker.broker import LeadStreamBroker

log = logging.getLogger(__name__)
Entry = tuple[bytes | str, bytes]  # (stream entry id, message)
# After a read that did not fill its slice, wait this long before the next one. Under steady
# traffic (the web tier enqueuing while the workers run) a read would otherwise take one or two
# leads, and every lead would pay a statement, a commit (a WAL flush) and an ack of its own:
# PostgreSQL then spent ~5x more CPU per lead than when draining a backlog. A lone lead is still
# read the moment it arrives (the read blocks); only the ones behind it wait, at most this long,
# against the contract's 1 s from 202 to row. Measured in bench/run.py's mixed phase: 20 ms
# gave 679 persisted leads/s, 100 ms 1,277 (202-to-row p99 85 ms at ~500 req/s).
LINGER_S = 0.1


def plain_lead(data: bytes) -> Submission | None:
    """The submission of a message that is exactly a lead task as intake.lua enqueues it (see
    submission.encode_task), readable by the worker; None for anything else."""
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if (
        type(message) is not dict
        or message.get("task_name") != keys.TASK_NAME
        or type(message.get("task_id")) is not str
        or message.get("labels") != {}  # a label (ack_type, timeout...) is Taskiq's to apply
        or message.get("args") != []
    ):
        return None
    kwargs = message.get("kwargs")
    if type(kwargs) is not dict or len(kwargs) != 1 or type(kwargs.get("submission")) is not dict:
        return None
    try:
        return read_message(kwargs["submission"])
    except Unreadable:
        return None  # Taskiq's path runs the task, which buries it


def taskiq_receiver(broker: LeadStreamBroker, capacity: int) -> Receiver:
    """Taskiq's receiver, for the messages that are not plain leads (its `callback` only: the
    consumer does the reading and bounds what is in hand)."""
    return Receiver(
        broker,
        executor=ThreadPoolExecutor(max_workers=1),
        max_async_tasks=capacity,  # not used by `callback`; without it Taskiq warns at start
        # The one task takes a plain dict that Submission.from_message checks; Taskiq's
        # per-message pydantic pass over it (parse_params) would only copy it.
        validate_params=False,
        run_startup=False,
        ack_type=AcknowledgeType.MANUAL,
    )


class Consumer:
    """Reads the lead stream until stopped; `finish` waits for what is still in hand."""

    def __init__(
        self,
        broker: LeadStreamBroker,
        writer: GroupCommit[Submission],
        *,
        capacity: int,
        read_count: int,
    ) -> None:
        self._broker = broker
        self._receiver = taskiq_receiver(broker, capacity)
        self._writer = writer
        self._capacity = capacity
        # Read in slices smaller than the capacity, so the next batch is read while the last
        # one is being written.
        self._read_count = max(1, min(read_count, capacity))
        # Taskiq middlewares see every message: with any, every message takes Taskiq's path.
        self._fast = not broker.middlewares
        self._held = 0  # entries read and not yet settled
        self._room = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Read and dispatch until `stop` is set; a broker failure propagates (the caller
        reconnects), with what was read still being handled."""
        waking = asyncio.create_task(self._wake_on(stop))
        try:
            while not stop.is_set():
                if self._capacity - self._held < self._read_count:
                    self._room.clear()
                    await self._room.wait()  # set when entries settle, or on stop
                    continue
                entries = await self._broker.read(self._read_count)
                if entries:
                    self._held += len(entries)
                    self._spawn(self._handle(entries))
                    if len(entries) < self._read_count and not stop.is_set():
                        await asyncio.sleep(LINGER_S)
        finally:
            waking.cancel()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._room.set()

    async def finish(self, timeout: float) -> None:
        """Wait up to `timeout` s for the entries in hand; the rest stay pending (reclaimed)."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            log.warning("%d batches still in hand at shutdown; their entries stay pending", len(late))
            await asyncio.wait(late)

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _settled(self, count: int) -> None:
        self._held -= count
        self._room.set()

    async def _handle(self, entries: Sequence[Entry]) -> None:
        leads: list[Submission] = []
        lead_ids: list[bytes | str] = []
        for entry_id, data in entries:
            item = plain_lead(data) if self._fast else None
            if item is None:  # still held: its own task settles it
                self._spawn(self._through_taskiq(entry_id, data))
            else:
                leads.append(item)
                lead_ids.append(entry_id)
        if not leads:
            return
        try:
            outcomes = await self._writer.submit_many(leads)
            # A lead that failed for good (logged by the writer) is not acked: released below,
            # it stays pending and the next sweep hands it out again.
            written = [entry for entry, error in zip(lead_ids, outcomes, strict=True) if error is None]
            if written:
                await self._broker.ack(written)
        except StoreError as exc:
            log.warning("%d written leads not acked (%s); they will be redelivered", len(leads), exc)
        except Exception:
            log.exception("a batch of %d leads failed; its entries stay pending", len(leads))
        finally:
            self._broker.release(lead_ids)  # what was acked has left already
            self._settled(len(leads))

    async def _through_taskiq(self, entry_id: bytes | str, data: bytes) -> None:
        try:
            await self._receiver.callback(AckableMessage(data=data, ack=self._ack_one(entry_id)))
        finally:
            self._broker.release([entry_id])  # unless acked, it stays pending for the next sweep
            self._settled(1)

    def _ack_one(self, entry_id: bytes | str) -> Any:
        async def ack() -> None:
            await self._broker.ack([entry_id])

        return ack
