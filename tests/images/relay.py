"""TCP relays from an address of the session's Docker network to the suite's stores, which
listen on this machine's loopback only. Containers on an `internal` network (compose's backend)
have no route out, but they do reach the network's gateway, the host side of the bridge: a relay
listens there, one port per store, and nothing else of the host's loopback is exposed. The relays
bind that address before Compose creates the network (IP_FREEBIND), so the containers' URLs
name their ports from the start."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit, urlunsplit

IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)  # Linux: bind an address no interface has yet


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class Relays:
    """Relays on `host`, run by an event loop of their own in a thread."""

    def __init__(self, host: str) -> None:
        self.host = host
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self._thread = threading.Thread(target=self._loop.run_forever, name="relays", daemon=True)
        self._thread.start()

    def _run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def add(self, target_host: str, target_port: int) -> int:
        """Listen on a free port of `host`, forwarding each connection to the target; the port."""

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                up_reader, up_writer = await asyncio.open_connection(target_host, target_port)
            except OSError:
                writer.close()
                return
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        listener.bind((self.host, 0))

        async def start() -> int:
            server = await asyncio.start_server(handle, sock=listener)
            self._servers.append(server)
            return int(server.sockets[0].getsockname()[1])

        port: int = self._run(start())
        return port

    def url(self, url: str) -> str:
        """`url` (a store on this machine) as the containers reach it: through a new relay."""
        parts = urlsplit(url)
        assert parts.hostname and parts.port, url
        port = self.add(parts.hostname, parts.port)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{self.host}:{port}" if userinfo else f"{self.host}:{port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def close(self) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            self._run(stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
