"""Structured request logs: a bounded in-process buffer of entries, flushed to MongoDB in buckets.

Requests only append to a deque; a background task does the I/O: every half second, up to 500
entries become one bucket document (leadcap/stores/mongo.py). When MongoDB is down or slow the
deque fills, and then the oldest entries are dropped and counted: a request never waits.

The log is append-only, and every entry says its `kind`. A `request` entry records one request;
an accepted POST's also carries its `submission_id` and `task_state: "queued"`. A `task` entry
records the worker's verdict on one submission (`done`, `failed` or `dead_letter`) at its `time`.
An operator reads a submission's story as its entries sorted by `time` (then `kind`, for two in
the same millisecond): the request, then the worker's verdict. The web and the worker never touch
each other's entries, so they can flush in either order.

Why buckets: on the embedded MongoDB-wire server (SecantusDB) a document per entry cost ~470 µs
of server CPU per request and ~340 per verdict (bench/experiments/requestlog_cost.py); the
server's work is per document and per index key, far less per byte.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ipaddress
import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from leadcap.errors import StoreError
from leadcap.intake.clientip import IPAddress
from leadcap.stores.mongo import Bucket, Mongo

log = logging.getLogger(__name__)
Document = dict[str, Any]


@functools.lru_cache(maxsize=4096)
def ip_view(address: IPAddress | None, mode: str) -> str | None:
    """The client address as the request log keeps it: whole, cut to its network, or hashed.
    Cached: a client makes many requests, and building the network costs ~10x a cache hit."""
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
        # A bucket whose write failed: retried as it is (same `_id`), before anything newer.
        self.pending: Bucket | None = None
        self.dropped = 0
        self.written = 0
        self._task: asyncio.Task[None] | None = None

    def record(self, doc: Document) -> None:
        """Queue one request's entry (never blocks). The dict is taken over, not copied."""
        doc.setdefault("kind", "request")
        self._add(doc)

    def task_state(self, submission_ids: Iterable[str], state: str) -> None:
        """Queue the worker's verdict (done/failed/dead_letter): one `task` entry per submission."""
        now = datetime.now(UTC)
        add = self._add
        for submission_id in submission_ids:
            add({"kind": "task", "time": now, "submission_id": submission_id, "task_state": state})

    def waiting(self) -> int:
        """Entries not yet written: the failed bucket's and the buffer's."""
        return len(self.buffer) + (len(self.pending.entries) if self.pending else 0)

    def _add(self, doc: Document) -> None:
        if self.capacity <= 0:
            self._drop(1)
            return
        if self.waiting() >= self.capacity:
            # The oldest goes: the failed bucket's first entry if there is one. Its `_id` stays,
            # so if the lost answer had in fact landed, the retry still lands nothing twice.
            if self.pending:
                del self.pending.entries[0]
                if not self.pending.entries:
                    self.pending = None
            else:
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
            log.warning("request logs left unwritten at shutdown: %d", self.waiting())

    async def flush(self) -> None:
        """Write everything waiting, a bucket at a time; on failure keep the bucket (as much of
        it as the buffer's bound leaves room for) to retry first, and raise."""
        while self.pending or self.buffer:
            bucket = self.pending
            if bucket is None:
                buffer = self.buffer
                bucket = Bucket([buffer.popleft() for _ in range(min(self.batch, len(buffer)))])
            self.pending = None
            try:
                await self.mongo.write(bucket)
            except StoreError:
                room = self.capacity - len(self.buffer)
                keep = bucket.entries[-room:] if room > 0 else []
                self._drop(len(bucket.entries) - len(keep))
                if keep:
                    bucket.entries = keep
                    self.pending = bucket
                raise
            self.written += len(bucket.entries)

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
