"""The Redis store's command write (DirectWriteConnection): when Redis stops reading, a write is
bounded by the timeout, and a write cut short never leaves its tail in front of the next command.

Redis is made to stop reading by a proxy in front of the real one that stops forwarding."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from leadcap.errors import StoreError
from leadcap.stores.redis import Redis
from tests.servers import Stores, on_db

BIG = b"x" * (32 << 20)  # far more than the socket buffers on both sides hold


class StallingProxy:
    """Forwards TCP to Redis; while stalled it reads nothing more from its clients."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        redis_r, redis_w = await asyncio.open_connection(*self.upstream)
        for pump in (self._pump(client_r, redis_w, stall=True), self._pump(redis_r, client_w, stall=False)):
            task = asyncio.create_task(pump)
            self.tasks.add(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, stall: bool) -> None:
        with contextlib.suppress(OSError):
            while True:
                if stall:
                    await self.flowing.wait()
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        writer.close()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.server is not None:
            self.server.close()


@pytest.fixture
async def proxied(stores: Stores) -> AsyncIterator[tuple[StallingProxy, str]]:
    url = urlsplit(on_db(stores.redis, 7))
    assert url.hostname and url.port
    proxy = StallingProxy(url.hostname, url.port)
    port = await proxy.start()
    netloc = url.netloc.rsplit(":", 1)[0] + f":{port}"
    yield proxy, urlunsplit(url._replace(netloc=netloc))
    await proxy.close()


async def test_a_write_redis_does_not_take_fails_within_the_timeout(
    proxied: tuple[StallingProxy, str],
) -> None:
    proxy, url = proxied
    store = Redis.open(url, max_connections=1, timeout=0.5)
    try:
        client = store.client_for_tests()
        await client.set("leadcap-test:k", "v")  # connected, handshake done
        proxy.flowing.clear()
        with pytest.raises(StoreError, match="Timeout"):
            async with asyncio.timeout(10):  # a hang fails here, not in CI's global timeout
                await store.intake.run(["a", "b", "c"], [BIG])
    finally:
        proxy.flowing.set()
        await store.close()


async def test_a_write_cut_short_leaves_nothing_for_the_next_command(
    proxied: tuple[StallingProxy, str],
) -> None:
    proxy, url = proxied
    store = Redis.open(url, max_connections=1, timeout=5)  # one connection: the next command reuses it
    try:
        client = store.client_for_tests()
        await client.set("leadcap-test:k", "before")
        proxy.flowing.clear()
        big = asyncio.create_task(client.set("leadcap-test:big", BIG))
        await asyncio.sleep(0.3)  # the write is now waiting for Redis to read
        assert not big.done()
        big.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await big
        proxy.flowing.set()
        await client.set("leadcap-test:k", "after")
        # Had the connection gone back to the pool with the rest of the big command still queued,
        # this would read the reply meant for the SET above.
        assert await client.get("leadcap-test:k") == b"after"
        await client.delete("leadcap-test:k", "leadcap-test:big")
    finally:
        proxy.flowing.set()
        await store.close()
