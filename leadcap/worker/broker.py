"""The Taskiq stream broker for the lead queue, with the delivery guarantees a 202 needs.

taskiq-redis's RedisStreamBroker is the base, changed in three places:

* reclaim: upstream runs XAUTOCLAIM only after XREADGROUP returned new messages, with a
  10-minute idle default and a lock that a killed worker can hold forever. Here every worker
  sweeps on a timer, busy or idle, with no lock (XAUTOCLAIM is atomic on its own), so a killed
  worker's messages are redelivered within `reclaim_idle_s` + one sweep interval.
* ack: XACK and XDEL together, in one script (for many messages at once), so processed entries leave the
  stream and its memory stays bounded, while an unprocessed entry is never trimmed (no MAXLEN).
* the group starts at id 0, so messages enqueued before any worker ever ran are not skipped.

Behind Sentinel (a `redis+sentinel://` URL) its pool asks the sentinels where the primary is;
a failover breaks the read and ack connections once, and both reconnect to the new primary.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from taskiq import AckableMessage
from taskiq.formatters.json_formatter import JSONFormatter
from taskiq_redis import RedisStreamBroker

from leadcap import keys, sentinel
from leadcap.groupcommit import GroupCommit
from leadcap.stores.redis.connection import close_sentinels, sentinel_pool, translated

log = logging.getLogger(__name__)
# KEYS[1] the stream, ARGV[1] the group, ARGV[2..] the entry ids (at most 1024: Lua's stack)
# Behind Sentinel a read of the stream may block `block_ms`; past that plus this, the primary is
# taken for gone (a host that vanished sends no reset) and the next read asks the sentinels.
SENTINEL_READ_MARGIN_S = 5.0
ACK_AND_DELETE = """
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
"""


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class LeadStreamBroker(RedisStreamBroker):
    """A stream broker that reclaims on a timer and deletes what it acknowledges."""

    def __init__(
        self,
        url: str,
        *,
        reclaim_idle_s: float,
        read_count: int = 256,
        block_ms: int = 1000,
        max_connections: int = 64,
    ) -> None:
        behind_sentinel = sentinel.is_sentinel(url)
        super().__init__(
            # taskiq-redis reads only redis:// URLs: behind Sentinel its (lazy) pool is replaced below
            "redis://" if behind_sentinel else url,
            queue_name=keys.LEAD_STREAM,
            consumer_group_name=keys.CONSUMER_GROUP,
            consumer_name=consumer_name(),
            consumer_id="0",
            mkstream=True,
            xread_block=block_ms,
            xread_count=read_count,
            idle_timeout=int(reclaim_idle_s * 1000),
            unacknowledged_batch_size=read_count,
            max_connection_pool_size=max_connections,
        )
        if behind_sentinel:
            self.connection_pool = sentinel_pool(  # type: ignore[assignment]
                url,
                timeout=1.0,
                max_connections=max_connections,
                socket_timeout=block_ms / 1000 + SENTINEL_READ_MARGIN_S,
            )
        # Read messages with pydantic's JSON parser straight into a TaskiqMessage (the default
        # ProxyFormatter runs the stdlib json module, then validates the dict: ~2x the CPU).
        self.formatter = JSONFormatter()
        # Entries this process holds and has not acked yet. A backlog can keep one waiting in
        # the receiver longer than the idle timeout; the sweep must not hand it out twice.
        self.in_flight: set[bytes | str] = set()
        # Sweep often enough that a dead consumer's message waits at most ~idle + idle/4.
        self.sweep_every_s = max(0.5, reclaim_idle_s / 4)
        self.read_count = read_count
        self._next_sweep = 0.0  # the first read sweeps
        self._sweep_from: bytes | str | None = None  # where the sweep under way goes on

        # Acks are group-committed like the writes: one XACK + XDEL round trip for many messages.
        self._acks: GroupCommit[bytes | str] = GroupCommit(self._ack_many, max_batch=1024)
        # One connection held for reading and one for acking (each is used by one caller at a
        # time): taking a connection from redis-py's pool per command costs more CPU than the
        # command. XACK + XDEL go as one script, atomic as the MULTI pipeline they replace.
        self._reader = Redis(connection_pool=self.connection_pool, single_connection_client=True)
        self._acker = Redis(connection_pool=self.connection_pool, single_connection_client=True)
        self._ack_script = self._acker.register_script(ACK_AND_DELETE)

    async def _ack_many(self, ids: Sequence[bytes | str]) -> None:
        async with translated("acknowledging"):
            await self._ack_script(keys=[self.queue_name], args=[self.consumer_group_name, *ids])
        self.in_flight.difference_update(ids)

    async def shutdown(self) -> None:
        await self._reader.aclose()
        await self._acker.aclose()
        await super().shutdown()
        await close_sentinels(self.connection_pool)

    async def ack(self, ids: Sequence[bytes | str]) -> None:
        """Acknowledge (and delete) entries this process holds; raise StoreError if it cannot."""
        for error in await self._acks.submit_many(ids):
            if error is not None:
                raise error

    def release(self, ids: Sequence[bytes | str]) -> None:
        """Give up entries without acknowledging them: they stay pending, and the next sweep
        past the idle timeout (this worker's or another's) hands them out again."""
        self.in_flight.difference_update(ids)

    def _ack_generator(self, id: bytes | str, queue_name: str) -> Callable[[], Awaitable[None]]:  # noqa: A002
        async def ack() -> None:
            await self._acks.submit(id)

        return ack

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Yield new messages, and on a timer the ones a dead consumer left pending (Taskiq's
        receiver reads this way; the lead worker reads whole batches with `read`)."""
        while True:
            for entry_id, data in await self.read(self.read_count):
                yield AckableMessage(data=data, ack=self._ack_generator(entry_id, self.queue_name))

    async def read(self, count: int) -> list[tuple[bytes | str, bytes]]:
        """At most `count` (entry id, message) pairs, now in this process's hands: a page of
        a dead consumer's pending entries while a sweep is due or under way, else new entries
        (waiting up to `block_ms` for one). May be empty."""
        if self._sweep_from is None and time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.sweep_every_s
            self._sweep_from = "0-0"
        if self._sweep_from is not None:
            return await self._reclaim_page(self._reader, count)
        return await self._read_new(self._reader, count)

    async def _read_new(self, conn: Redis, count: int) -> list[tuple[bytes | str, bytes]]:
        fetched: Any = await conn.xreadgroup(
            self.consumer_group_name,
            self.consumer_name,
            {self.queue_name: ">"},
            block=self.block,
            count=count,
        )
        taken: list[tuple[bytes | str, bytes]] = []
        for _stream, entries in fetched or []:
            for entry_id, fields in entries:
                taken.append((entry_id, fields[b"data"]))
        self.in_flight.update(entry_id for entry_id, _ in taken)
        return taken

    async def _reclaim_page(self, conn: Redis, count: int) -> list[tuple[bytes | str, bytes]]:
        reply: list[Any] = await conn.xautoclaim(
            self.queue_name,
            self.consumer_group_name,
            self.consumer_name,
            min_idle_time=self.idle_timeout,
            start_id=self._sweep_from or "0-0",
            count=count,
        )
        start, entries = reply[0], reply[1]
        self._sweep_from = None if start in (b"0-0", "0-0") else start
        if entries:
            log.warning("reclaimed %d pending lead messages", len(entries))
        # A deleted entry comes back empty: nothing left to do. One of our own that merely
        # waits in this process is already on its way.
        taken = [
            (entry_id, fields[b"data"])
            for entry_id, fields in entries
            if fields and entry_id not in self.in_flight
        ]
        self.in_flight.update(entry_id for entry_id, _ in taken)
        return taken
