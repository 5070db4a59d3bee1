"""Group commit: many concurrent callers share one write, each told only after it committed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from leadcap import retry
from leadcap.errors import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Collects items from concurrent `submit` calls and writes them in batches.

    A batch is written as soon as the previous write finishes, so under load batches grow by
    themselves and at rest a single item goes out at once. With `linger_s`, a batch that is
    not the first of a run (items arrived while the previous write was in flight, so there is
    load) waits up to that long to fill towards `max_batch` first: fewer, larger writes, and
    per-batch costs (a transaction, an ack round trip, the bookkeeping) shared by more items.

    A failed write (StoreError) is retried with jittered, capped backoff (leadcap.retry) until it
    succeeds: the callers keep waiting, and their messages stay unacknowledged, which is exactly
    what keeps a lead safe while PostgreSQL is down.

    An item refused for good even when written alone goes to `on_refused` (the worker's dead
    letters): once that returns, its caller is told it is done, so the message is acked and
    blocks nothing. Without `on_refused`, or when it fails, the caller gets the error instead.
    """

    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[None]],
        *,
        max_batch: int,
        on_written: Callable[[Sequence[T]], Awaitable[None]] | None = None,
        on_failed: Callable[[T], Awaitable[None]] | None = None,
        on_refused: Callable[[T, StoreError], Awaitable[None]] | None = None,
        linger_s: float = 0.0,
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._linger_s = linger_s
        self._full: asyncio.Future[None] | None = None  # set once a lingering batch is full
        self._on_written = on_written
        self._on_failed = on_failed
        self._on_refused = on_refused
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0
        self.written = 0
        self.refused = 0

    async def submit(self, item: T) -> None:
        """Return once `item` is durably written; raise StoreError if it can never be."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._add([(item, future)])
        # A cancelled caller cancels its future, which the flusher then skips (it only ever sets
        # futures that are not done); the item itself is still written with its batch.
        await future

    async def submit_many(self, items: Sequence[T]) -> list[StoreError | None]:
        """`submit` for several items from one caller, with one wait instead of a task each:
        return once every item is settled, with None for each written (or set aside by
        `on_refused`) and the StoreError of each that can never be, in the order given."""
        if not items:
            return []
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = [loop.create_future() for _ in items]
        self._add(list(zip(items, futures, strict=True)))
        await asyncio.wait(futures)
        return [_error_of(future) for future in futures]

    def _add(self, entries: list[tuple[T, asyncio.Future[None]]]) -> None:
        self._pending.extend(entries)
        if self._full is not None and len(self._pending) >= self._max_batch and not self._full.done():
            self._full.set_result(None)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        first = True
        while self._pending:
            if not first and self._linger_s and len(self._pending) < self._max_batch:
                await self._linger()
            first = False
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                await self._write_with_retry([item for item, _ in batch])
            except StoreError as exc:  # permanent: find the item(s) at fault, let the rest through
                log.error("batch of %d rejected (%s); writing one by one", len(batch), exc.reason)
                await self._write_one_by_one(batch)
                continue
            await self._done(batch)

    async def _linger(self) -> None:
        """Wait until `max_batch` items are pending or `linger_s` has passed."""
        self._full = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(self._linger_s):
                await self._full
        except TimeoutError:
            pass
        finally:
            self._full = None

    async def _write_with_retry(self, items: list[T]) -> None:
        """Write, retrying transient failures with backoff forever; raise a permanent failure."""
        await self._retrying(lambda: self._write(items), f"write of {len(items)}")

    @staticmethod
    async def _retrying(call: Callable[[], Awaitable[None]], what: str) -> None:
        """Run `call`, retrying transient StoreErrors with backoff forever; raise a permanent one."""
        attempt = 0
        while True:
            try:
                await call()
                return
            except StoreError as exc:
                if not exc.transient:
                    raise
                attempt += 1
                delay = retry.delay(attempt)
                log.warning("%s failed (%s); retry %d in %.1fs", what, exc, attempt, delay)
                await asyncio.sleep(delay)

    async def _write_one_by_one(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        for item, future in batch:
            try:
                await self._write_with_retry([item])
            except StoreError as exc:
                if await self._refuse(item, exc):
                    if not future.done():
                        future.set_result(None)
                    continue
                # Its caller fails and does not ack: the message stays pending, nothing is lost.
                if not future.done():
                    future.set_exception(exc)
                if self._on_failed:
                    await self._report(self._on_failed(item))
                continue
            await self._done([(item, future)])

    async def _refuse(self, item: T, exc: StoreError) -> bool:
        """Hand a refused item to `on_refused`; True once it has taken it for good."""
        handler = self._on_refused
        if handler is None:
            return False
        try:
            await self._retrying(lambda: handler(item, exc), "dead-lettering")
        except Exception:  # the item stays unacknowledged, so nothing is lost
            log.error("a refused item could not be set aside; it stays pending", exc_info=True)
            return False
        self.refused += 1
        return True

    async def _done(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        self.batches += 1
        self.written += len(batch)
        for _, future in batch:
            if not future.done():
                future.set_result(None)
        if self._on_written:
            await self._report(self._on_written([item for item, _ in batch]))

    @staticmethod
    async def _report(call: Awaitable[None]) -> None:
        """Run a bookkeeping callback; its failure must never hold up the writes."""
        try:
            await call
        except Exception:
            log.warning("group commit callback failed", exc_info=True)


def _error_of(future: asyncio.Future[None]) -> StoreError | None:
    """The StoreError a settled future holds, if any (the flusher sets nothing else)."""
    error = future.exception()
    if error is None or isinstance(error, StoreError):
        return error
    raise error
