"""The app built by `create_app()` inside the test process, driven over ASGI (httpx's transport
and Sanic's lifespan): no port, no child process, on the suite's real stores. For tests that need
no process of their own (signals, restarts and the edge keep `servers.start_server`)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from sanic import Sanic

from leadcap import logs
from leadcap import settings as settings_module
from leadcap.settings import Settings
from web.app import create_app

BASE_URL = "http://127.0.0.1"


@dataclass
class App:
    sanic: Sanic[Any, Any]
    settings: Settings
    log: io.StringIO

    def output(self) -> str:
        """What the app logged while it ran, as `leadcap serve` writes it (JSON lines)."""
        return self.log.getvalue()

    def client(self, ip: str = "127.0.0.1", **kwargs: Any) -> httpx.AsyncClient:
        """A client whose requests come from `ip`, as `servers.client` gives over a socket."""
        transport = httpx.ASGITransport(app=self.sanic, client=(ip, 40000))
        return httpx.AsyncClient(base_url=BASE_URL, transport=transport, timeout=10, **kwargs)


@contextlib.asynccontextmanager
async def running(env: Mapping[str, str]) -> AsyncIterator[App]:
    """`create_app()` on the settings of `env` (as `leadcap serve` would read them), its services
    open for the length of the block."""
    Sanic.test_mode = True  # many apps named "leadcap" in one process
    settings = settings_module.load(env, env_file=None)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    app = create_app(settings)
    # create_app sends every log to stderr as JSON, for a process of its own: here the app's logs
    # go to pytest's handlers again (caplog, the report), and to a buffer in serve's format.
    log = io.StringIO()
    captured = logging.StreamHandler(log)
    captured.setFormatter(logs.JsonFormatter())
    # The test's own client logs each URL it asks for (httpx, at INFO): not the app's to answer for.
    captured.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    root.handlers[:] = [*handlers, captured]
    try:
        async with _lifespan(app):
            yield App(app, settings, log)
    finally:
        root.removeHandler(captured)
        root.setLevel(level)


@contextlib.asynccontextmanager
async def _lifespan(app: Sanic[Any, Any]) -> AsyncIterator[None]:
    """Sanic's ASGI lifespan: before_server_start on entry, after_server_stop on exit."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        task.cancel()
        raise RuntimeError(f"the app did not start: {started}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task
