"""A fake Telegram / Bale Bot API on a loopback port (aiohttp, in the test's event loop): it
answers `POST /bot<token>/sendMessage` as the real APIs do and keeps every message it took, with
the time it arrived. `behaviour` decides each answer (the nth request, 0-based), so a test can
make it rate-limit (429 with `retry_after`), refuse (403) or fail; `stop()` and `start()` on the
same port take it down and bring it back."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# (HTTP status, JSON answer) for the nth request
Behaviour = Callable[[int], tuple[int, dict[str, Any]]]


def ok(_: int) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": {"message_id": 1}}


def refused(n: int) -> tuple[int, dict[str, Any]]:
    return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}


def limited_first(retry_after: int) -> Behaviour:
    def behave(n: int) -> tuple[int, dict[str, Any]]:
        if n == 0:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
        return ok(n)

    return behave


@dataclass
class Sent:
    token: str
    chat_id: str
    text: str
    at: float  # time.monotonic() when it arrived


@dataclass
class BotApi:
    behaviour: Behaviour = ok
    port: int = 0
    requests: list[Sent] = field(default_factory=list)  # every sendMessage, answered as it was
    messages: list[Sent] = field(default_factory=list)  # those answered ok
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        sent = Sent(request.match_info["token"], str(body["chat_id"]), body["text"], time.monotonic())
        status, answer = self.behaviour(len(self.requests))
        self.requests.append(sent)
        if status == 200:
            self.messages.append(sent)
        return web.json_response(answer, status=status)

    async def start(self) -> BotApi:
        app = web.Application()
        app.router.add_post("/bot{token}/sendMessage", self._send)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@contextlib.asynccontextmanager
async def bot_api(behaviour: Behaviour = ok) -> AsyncIterator[BotApi]:
    api = await BotApi(behaviour).start()
    try:
        yield api
    finally:
        await api.stop()


@contextlib.contextmanager
def bot_api_in_thread(behaviour: Behaviour = ok) -> Iterator[BotApi]:
    """The fake API in a thread of its own (its own event loop), for code under test that runs
    its own loop (a CLI command in this process) or for another process to reach."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    api = BotApi(behaviour)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(api.start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(api.stop())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10), "the fake Bot API did not start"
    try:
        yield api
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
