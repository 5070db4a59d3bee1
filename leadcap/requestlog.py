"""Structured request logs: a bounded in-process buffer of writes, flushed to MongoDB in batches.

Requests only append to a deque; a background task does the I/O (unordered bulk writes). When
MongoDB is down or slow the deque fills, and then the oldest entries are dropped and counted:
a request never waits. The document of an accepted submission is keyed by its submission id and
written as an upsert, and the worker sets its task state the same way, so the two writers can
arrive in either order and still meet in one document.
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

from pymongo import InsertOne, UpdateOne

from leadcap.clientip import IPAddress
from leadcap.errors import StoreError
from leadcap.stores.mongo import Mongo

log = logging.getLogger(__name__)
IP_MODES = ("full", "truncated", "hashed")
Write = InsertOne[Any] | UpdateOne


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
        self.buffer: deque[Write] = deque()
        self.dropped = 0
        self.written = 0
        self._task: asyncio.Task[None] | None = None

    def record(self, doc: dict[str, Any]) -> None:
        """Queue one request's document (never blocks)."""
        submission_id = doc.get("submission_id")
        if submission_id is None:
            self._add(InsertOne(doc))
            return
        fields = {k: v for k, v in doc.items() if k != "task_state"}
        self._add(
            UpdateOne(
                {"submission_id": submission_id},
                {"$set": fields, "$setOnInsert": {"task_state": doc.get("task_state", "queued")}},
                upsert=True,
            )
        )

    def task_state(self, submission_ids: Iterable[str], state: str) -> None:
        """Queue the worker's verdict (done/failed) for each submission's request document."""
        now = datetime.now(UTC)
        for submission_id in submission_ids:
            self._add(
                UpdateOne(
                    {"submission_id": submission_id},
                    {"$set": {"task_state": state, "processed_at": now}},
                    upsert=True,
                )
            )

    def _add(self, write: Write) -> None:
        if self.capacity <= 0:
            self._drop(1)
            return
        if len(self.buffer) >= self.capacity:
            self.buffer.popleft()
            self._drop(1)
        self.buffer.append(write)

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
            writes = [self.buffer.popleft() for _ in range(min(self.batch, len(self.buffer)))]
            try:
                await self.mongo.write(writes)
            except StoreError:
                room = self.capacity - len(self.buffer)
                keep = writes[-room:] if room > 0 else []
                self._drop(len(writes) - len(keep))
                self.buffer.extendleft(reversed(keep))
                raise
            self.written += len(writes)

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
