"""Counters kept in process and written to a store about once a second.

A request only touches memory; a background task makes one write per interval, however many
requests came, so counting costs the hot path no round trip. A failed write keeps its counts for
the next one (each counter bounds what it keeps), and closing makes one last write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from leadcap.errors import StoreError

log = logging.getLogger(__name__)
FLUSH_EVERY_S = 1.0


class PeriodicFlush:
    """Runs `flush` every `FLUSH_EVERY_S` from `start` until `close`; subclasses say what."""

    what = "counts"  # for the log line when a write fails

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    async def flush(self) -> int:
        """Write what is pending; return how much went. Raise StoreError, keeping it, on failure."""
        raise NotImplementedError

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(StoreError, TimeoutError):
            async with asyncio.timeout(2):
                await self.flush()

    async def flush_quietly(self) -> None:
        try:
            await self.flush()
        except StoreError as exc:
            log.warning("%s not written now: %s", self.what, exc.reason)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            await self.flush_quietly()
