"""Structured request logs: a bounded in-process buffer, flushed to MongoDB in batches.

Requests only append to a deque; a background task does the I/O. When MongoDB is down or slow
the deque fills, and then the oldest entries are dropped and counted: a request never waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from leadcap.errors import StoreError
from leadcap.stores.mongo import Mongo

log = logging.getLogger(__name__)


class RequestLog:
    def __init__(self, mongo: Mongo, *, capacity: int, batch: int = 500, every_s: float = 0.5) -> None:
        self.mongo = mongo
        self.capacity = capacity
        self.batch = batch
        self.every_s = every_s
        self.buffer: deque[dict[str, Any]] = deque()
        self.dropped = 0
        self.written = 0
        self._task: asyncio.Task[None] | None = None

    def add(self, doc: dict[str, Any]) -> None:
        """Queue one log document; drop the oldest one if the buffer is full."""
        if self.capacity <= 0:
            self.dropped += 1
            return
        if len(self.buffer) >= self.capacity:
            self.buffer.popleft()
            self.dropped += 1
        self.buffer.append(doc)

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
                await self.mongo.insert_logs(docs)
            except StoreError:
                room = self.capacity - len(self.buffer)
                keep = docs[-room:] if room > 0 else []
                self.dropped += len(docs) - len(keep)
                self.buffer.extendleft(reversed(keep))
                raise
            self.written += len(docs)

    async def _run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.every_s if not failing else 2.0)
            try:
                await self.flush()
                failing = False
            except StoreError as exc:
                if not failing:
                    log.warning("request logs are buffering: %s", exc)
                failing = True
