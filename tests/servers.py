"""Real servers for the suite: embedded child processes, or the LEADCAP_TEST_* URLs when set."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from leadcap.ops import embedded
from leadcap.ops.embedded import Child
from leadcap.stores.postgres.migrate import migrate
from leadcap.stores.redis import Redis

ROOT = Path(__file__).resolve().parent.parent
ENV_NAMES = {
    "database": "LEADCAP_TEST_DATABASE_URL",
    "redis": "LEADCAP_TEST_REDIS_URL",
    "mongo": "LEADCAP_TEST_MONGO_URL",
}


@dataclass
class Stores:
    """URLs of the three stores, and the children this run started (to stop them, or kill them)."""

    database: str
    redis: str
    mongo: str
    children: dict[str, Child] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {
            "LEADCAP_DATABASE_URL": self.database,
            "LEADCAP_REDIS_URL": self.redis,
            "LEADCAP_MONGO_URL": self.mongo,
        }


def start_stores(folder: Path) -> Stores:
    """Use each LEADCAP_TEST_*_URL that is set; start the others embedded under `folder`."""
    urls: dict[str, str] = {}
    children: dict[str, Child] = {}
    for name, variable in ENV_NAMES.items():
        if os.environ.get(variable):
            urls[name] = os.environ[variable]
        else:
            child = embedded.STARTERS[name](folder)
            children[name] = child
            urls[name] = child.url
    return Stores(children=children, **urls)


def stop_stores(stores: Stores) -> None:
    for child in stores.children.values():
        child.stop()


async def create_database(admin_url: str) -> str:
    """A fresh, empty database on the server at `admin_url`; return its URL."""
    name = f"leadcap_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path="/" + name))


async def drop_database(admin_url: str, url: str) -> None:
    """Drop the database of `url` (one create_database made), whoever is still connected to it."""
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path[1:]}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrated_database(admin_url: str) -> str:
    """A fresh database on the server at `admin_url` with leadcap's schema; return its URL."""
    url = await create_database(admin_url)
    await migrate(url)
    return url


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def on_db(redis_url: str, db: int) -> str:
    """The Redis URL with database number `db`: each test module that writes keeps its own."""
    return with_database(redis_url, str(db))


@contextlib.asynccontextmanager
async def private_redis(redis_url: str, db: int) -> AsyncIterator[Redis]:
    """leadcap's Redis store on database `db`, empty before and after."""
    store = Redis.open(on_db(redis_url, db))
    await store.client_for_tests().flushdb()
    try:
        yield store
    finally:
        await store.client_for_tests().flushdb()
        await store.close()


def leadcap(
    *args: str, env: dict[str, str], timeout: float = 60, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `leadcap` command line (with `stdin` as its input, if given)."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        input=stdin,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        check=False,
    )


def base_env(stores: Stores, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCAP_")}
    env.update(stores.env())
    env.update({"LEADCAP_DATA_DIR": str(data_dir), "LEADCAP_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def stop_process(popen: subprocess.Popen[bytes], sig: int = 15, timeout: float = 45) -> int:
    """Signal a child and wait for it; kill it if it will not go in time. Return its status."""
    if popen.poll() is None:
        popen.send_signal(sig)
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
    return popen.returncode


@dataclass
class Process:
    """A `leadcap` command running in the background, its output in a log file."""

    args: tuple[str, ...]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "cli", *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        return self

    def stop(self, sig: int = 15, timeout: float = 45) -> int:
        assert self.popen is not None
        return stop_process(self.popen, sig, timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Server:
    url: str
    process: Process
    env: dict[str, str]


@contextlib.contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[Server]:
    """A `leadcap serve` (start_server) for the length of a block, stopped after it."""
    running = start_server(env, log)
    try:
        yield running
    finally:
        running.process.stop()


def start_server(env: dict[str, str], log: Path) -> Server:
    port = embedded.free_port()
    env = {**env, "LEADCAP_PORT": str(port), "LEADCAP_HOST": "127.0.0.1"}
    process = Process(("serve",), env, log).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.popen and process.popen.poll() is None, process.output()
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url + "/api/health/", timeout=2)
            return Server(url, process, env)
        time.sleep(0.1)
    process.stop()
    raise RuntimeError("server did not start:\n" + process.output())


def client(base_url: str, ip: str = "127.0.0.1", **kwargs: object) -> httpx.AsyncClient:
    """An HTTP client whose connections come from `ip` (any 127.x address is this machine)."""
    transport = httpx.AsyncHTTPTransport(local_address=ip)
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=10, **kwargs)  # type: ignore[arg-type]


async def wait_for(predicate: object, timeout: float = 15, every: float = 0.05) -> object:
    """Poll a predicate (async or not) until it returns something truthy; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()  # type: ignore[operator]
        if inspect.isawaitable(value):
            value = await value
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(every)


async def until_gone(redis: Redis, key: str, timeout: float = 10) -> None:
    """Wait until Redis has dropped `key` (its TTL ran out): a code's life, a cooldown."""

    async def gone() -> bool:
        return not await redis.client_for_tests().exists(key)

    assert await wait_for(gone, timeout), f"{key} outlived {timeout}s"


def wait_until(condition: Callable[[], object], what: str, timeout: float = 15, every: float = 0.02) -> None:
    """`wait_for` for a test that is not async: poll `condition` until it holds, or fail with `what`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(every)


async def wait_for_lead(pg: asyncpg.Pool, phone: str, timeout: float = 20) -> asyncpg.Record:
    """The lead row of an E.164 phone, once a worker has written it to PostgreSQL."""

    async def lead() -> asyncpg.Record | None:
        return await pg.fetchrow("SELECT * FROM leads WHERE phone = $1", phone)

    row = await wait_for(lead, timeout)
    assert row is not None, f"{phone} never reached PostgreSQL"
    return row  # type: ignore[return-value]


@contextlib.contextmanager
def background(process: Process) -> Iterator[Process]:
    process.start()
    try:
        yield process
    finally:
        process.stop()


@contextlib.asynccontextmanager
async def in_process(env: dict[str, str]) -> AsyncIterator[str]:
    """The app `create_app()` builds from `env`'s LEADCAP_* variables, served in this event loop on
    a free loopback port, its listeners run as `leadcap serve` runs them; yields its base URL."""
    import socket

    from sanic import Sanic

    from leadcap import settings
    from web.app import create_app

    Sanic.test_mode = True  # several apps called leadcap in one process, one per module
    app = create_app(settings.load(env, env_file=None))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    port = sock.getsockname()[1]
    # Listening already (create_server awaits the asyncio server); nothing is sent before the
    # listeners below have run.
    server = await app.create_server(sock=sock, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        closing = server.close()
        if closing is not None:
            await closing
        await server.after_stop()
        sock.close()
