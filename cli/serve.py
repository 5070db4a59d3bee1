"""`leadcap serve`: Sanic (one or more processes), plus embedded stores and a worker when needed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from functools import partial

from rich.console import Console
from sanic import Sanic
from sanic.worker.loader import AppLoader

from leadcap.intake import visitor
from leadcap.ops import embedded
from leadcap.settings import Settings, mask_url
from leadcap.stores.postgres.migrate import migrate
from web.app import create_app

console = Console(stderr=True)


def run_sanic(settings: Settings) -> None:
    """Serve the app until SIGINT/SIGTERM; each worker process calls the factory itself."""
    loader = AppLoader(factory=partial(create_app, settings))
    app = loader.load()
    single = settings.web_workers == 1
    app.prepare(
        host=settings.host,
        port=settings.port,
        workers=settings.web_workers,
        single_process=single,
        access_log=False,
        motd=False,
    )
    if single:
        Sanic.serve_single(primary=app)
    else:
        Sanic.serve(primary=app, app_loader=loader)


def start_worker() -> subprocess.Popen[bytes]:
    """A `leadcap worker` child; it finds the embedded stores through the data folder."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"],
        env=os.environ.copy(),
        start_new_session=True,  # Ctrl-C reaches serve, which stops the worker before the stores
        preexec_fn=embedded.die_with_parent(signal.SIGTERM),  # noqa: PLW1509
    )


def serve(settings: Settings) -> None:
    # A production web tier without LEADCAP_VISITOR_KEY stops here; elsewhere the key is generated
    # now, once, before the Sanic processes that share it start.
    visitor.load_key(settings)
    with ExitStack() as stack:
        if embedded.missing(settings):
            settings, stores = stack.enter_context(
                embedded.running(
                    settings, lambda folder: console.print(f"starting embedded stores under {folder} …")
                )
            )
            asyncio.run(migrate(settings.database_url or ""))
            worker = start_worker()
            stack.callback(_stop, worker)
            for name, url in stores.urls.items():
                console.print(f"  {name:9} {mask_url(url)}")  # embedded stores have passwords
            console.print(f"  worker    pid {worker.pid}")
        console.print(f"leadcap listening on http://{settings.host}:{settings.port}")
        run_sanic(settings)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            process.kill()
