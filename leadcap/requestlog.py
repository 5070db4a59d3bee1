"""Structured request logs: a bounded in-process buffer of documents, flushed to MongoDB in batches.

Requests only append to a deque; a background task does the I/O (unordered bulk inserts). When
MongoDB is down or slow the deque fills, and then the oldest entries are dropped and counted:
a request never waits.

The log is append-only: every write is a plain insert, and every document says its `kind`.
A `request` document records one request; an accepted POST's also carries its `submission_id`
and `task_state: "queued"`. A `task` document records the worker's verdict on one submission
(`done` or `failed`, and `processed_at`). An operator reads a submission's story as its
documents sorted by `time` (then `kind`, for two in the same millisecond): the request, then
the worker's verdict. The web and the worker never touch each other's documents, so they can
flush in either order, and the log store does several times less work: on the embedded
MongoDB-wire server (SecantusDB) an upsert per request plus one per verdict cost ~1,255 µs of
server CPU per lead, an `update_many` per batch for the verdicts 777 µs, and two plain inserts
~300 µs.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from leadcap.clientip import IPAddress
from leadcap.errors import StoreError
from leadcap.stores.mongo import Mongo

log = logging.getLogger(__name__)
Document = dict[str, Any]


def ip_view(address: IPAddress | None, mode: str) -> str | None:
    """The client address as the request log keeps it: whole, cut to its network, or hashed."""
    if address is None:
        return None
    if mode == "full":
        return str(address)
    if mode == "hashed":
        return hashlib.sha256(address.packed).hexdigest()[:16]
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network((address, prefix), strict=False))


class RequestLog:
    def __init__(
        self,
        mongo: Mongo,
        *,
        capacity: int,
        batch: int = 500,
        every_s: float = 0.5,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.mongo = mongo
        self.capacity = capacity
        self.batch = batch
        self.every_s = every_s
        self.on_drop = on_drop
        self.buffer: deque[Document] = deque()
        self.dropped = 0
        self.written = 0
        self._task: asyncio.Task[None] | None = None

    def record(self, doc: Document) -> None:
        """Queue one request's document (never blocks). The document is taken over, not copied."""
        doc.setdefault("kind", "request")
        self._add(doc)

    def task_state(self, submission_ids: Iterable[str], state: str) -> None:
        """Queue the worker's verdict (done/failed) as one `task` document per submission."""
        now = datetime.now(UTC)
        for submission_id in submission_ids:
            self._add(
                {
                    "kind": "task",
                    "time": now,  # the TTL index expires documents by `time`
                    "submission_id": submission_id,
                    "task_state": state,
                    "processed_at": now,
                }
            )

    def _add(self, doc: Document) -> None:
        if self.capacity <= 0:
            self._drop(1)
            return
        if len(self.buffer) >= self.capacity:
            self.buffer.popleft()
            self._drop(1)
        self.buffer.append(doc)

    def _drop(self, count: int) -> None:
        self.dropped += count
        if self.on_drop:
            self.on_drop(count)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self, *, timeout: float = 2.0) -> None:
        if self._task:
            self._task.cancel()
        try:
            await asyncio.wait_for(self.flush(), timeout)
        except (TimeoutError, StoreError):
            log.warning("request logs left unwritten at shutdown: %d", len(self.buffer))

    async def flush(self) -> None:
        """Write everything buffered; on failure, put the batch back (front) and raise."""
        while self.buffer:
            docs = [self.buffer.popleft() for _ in range(min(self.batch, len(self.buffer)))]
            try:
                await self.mongo.write(docs)
            except StoreError:
                room = self.capacity - len(self.buffer)
                keep = docs[-room:] if room > 0 else []
                self._drop(len(docs) - len(keep))
                self.buffer.extendleft(reversed(keep))
                raise
            self.written += len(docs)

    async def _run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.every_s if not failing else 2.0)
            try:
                await self.flush()
                if failing:
                    log.info("request logs are flowing again")
                failing = False
            except StoreError as exc:
                if not failing:
                    log.warning("request logs are buffering: %s", exc.reason)
                failing = True
