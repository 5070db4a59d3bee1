"""A real HTTP receiver for webhook tests, on a loopback port, in a thread of the test process.

Every request's signature is checked with the `standardwebhooks` package (not leadcap's own
signing code); a request that fails the check is answered 400 and kept in `bad`.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks import Webhook

# (status, seconds to wait before answering, extra headers) for the nth request (0-based)
Behaviour = Callable[[int], tuple[int, float, dict[str, str]]]


def ok(_: int) -> tuple[int, float, dict[str, str]]:
    return 200, 0.0, {}


def failing_third(seed: int = 14) -> Behaviour:
    rng = random.Random(seed)
    lock = threading.Lock()

    def behave(_: int) -> tuple[int, float, dict[str, str]]:
        with lock:
            fail = rng.random() < 1 / 3
        return (500 if fail else 204), 0.0, {}

    return behave


@dataclass
class Receiver:
    secret: str
    behaviour: Behaviour = ok
    port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)  # verified 2xx deliveries
    attempts: int = 0
    in_flight: int = 0
    max_in_flight: int = 0  # the most requests it held at once
    connections_opened: int = 0  # TCP connections it ever accepted (keep-alive reuse shows here)
    bad: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _connections: set[Any] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def ids(self) -> Counter[str]:
        with self._lock:
            return Counter(r["id"] for r in self.received)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver._connections.add(self.connection)
                    receiver.connections_opened += 1

            def finish(self) -> None:
                with receiver._lock:
                    receiver._connections.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    n = receiver.attempts
                    receiver.attempts += 1
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(body, headers)
                except Exception as exc:
                    with receiver._lock:
                        receiver.bad.append(repr(exc))
                    self._answer(400, {})
                    return
                status, wait, extra = receiver.behaviour(n)
                with receiver._lock:
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                try:
                    if wait:
                        time.sleep(wait)
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.received.append(
                            {"id": headers["webhook-id"], "at": time.time(), "body": orjson.loads(body)}
                        )
                self._answer(status, extra)

            def _answer(self, status: int, extra: dict[str, str]) -> None:
                with contextlib.suppress(OSError):
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("content-length", "0")
                    self.end_headers()

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: new connections are refused until `start` again (same port)."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:  # and the kept-alive connections go too, as with a process that died
            for connection in list(self._connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(2)


@contextlib.contextmanager
def receiving(secret: str, behaviour: Behaviour = ok) -> Iterator[Receiver]:
    receiver = Receiver(secret, behaviour).start()
    try:
        yield receiver
    finally:
        receiver.stop()
