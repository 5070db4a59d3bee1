"""Session fixtures: real PostgreSQL, Redis-protocol and MongoDB-wire servers, a real
`leadcap serve` and a real `leadcap worker` running against them."""

from __future__ import annotations

import contextlib
import itertools
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis as sync_redis

from leadcap import keys
from leadcap.ops import embedded
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests import fakesms, servers
from tests.fakesms import FakeSms
from tests.servers import Process, Server, Stores

_ips = itertools.count(1)


@pytest.fixture(scope="session", autouse=True)
def no_postgres_left_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Under root, an embedded PostgreSQL whose data folder is in pytest's (0700) temporary folder
    keeps its cluster in a folder of its own: remove this session's, once every store stopped."""
    yield
    base = tmp_path_factory.getbasetemp().resolve()
    for note in embedded.PG_OWN_BASE.glob("*/data-folder"):
        with contextlib.suppress(OSError, ValueError):
            if Path(note.read_text().strip()).is_relative_to(base):
                shutil.rmtree(note.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    running = servers.start_stores(tmp_path_factory.mktemp("stores"))
    yield running
    servers.stop_stores(running)


@pytest.fixture(scope="session")
async def database_url(stores: Stores) -> str:
    return await servers.migrated_database(stores.database)


@pytest.fixture(scope="session")
def mongo_url(stores: Stores) -> str:
    return servers.with_database(stores.mongo, f"leadcap_test_{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("run")


@pytest.fixture(scope="session")
def env(stores: Stores, database_url: str, mongo_url: str, run_dir: Path) -> dict[str, str]:
    """The environment every `leadcap` process of the suite runs with."""
    return servers.base_env(
        stores,
        run_dir / "data",
        LEADCAP_DATABASE_URL=database_url,
        LEADCAP_MONGO_URL=mongo_url,
        LEADCAP_RATE_LIMIT="10/minute",
        LEADCAP_TRUSTED_PROXIES="127.0.0.250/32",
        LEADCAP_METRICS_ALLOW="127.0.0.1/32",
        LEADCAP_RECLAIM_IDLE_SECONDS="2",
        LEADCAP_UI_DIST=str(run_dir / "no-ui-build"),
    )


@pytest.fixture(scope="session")
def server(env: dict[str, str], run_dir: Path) -> Iterator[Server]:
    with servers.serving(env, run_dir / "serve.log") as running:
        yield running


@pytest.fixture(scope="session")
def worker(env: dict[str, str], run_dir: Path, stores: Stores) -> Iterator[Process]:
    """A running `leadcap worker`, returned once its first heartbeat is in Redis."""
    process = Process(("worker",), env, run_dir / "worker.log").start()
    beats = sync_redis.Redis.from_url(stores.redis)
    deadline = time.monotonic() + 60
    while not beats.zcount(keys.WORKERS, time.time() - keys.HEARTBEAT_TTL_S, "+inf"):
        assert process.popen and process.popen.poll() is None, process.output()
        assert time.monotonic() < deadline, "the worker never sent a heartbeat:\n" + process.output()
        time.sleep(0.1)
    beats.close()
    yield process
    process.stop()


@pytest.fixture(scope="session")
async def pg(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def postgres(database_url: str) -> AsyncIterator[Postgres]:
    """leadcap's PostgreSQL store on the suite's database (the webhook tests have one of their own)."""
    store = await Postgres.open(database_url, max_size=4)
    yield store
    await store.close()


@pytest.fixture
async def own_redis(request: pytest.FixtureRequest, stores: Stores) -> AsyncIterator[Redis]:
    """leadcap's Redis store on the test module's own database (its REDIS_DB), empty before and
    after: no other module flushes it."""
    async with servers.private_redis(stores.redis, request.module.REDIS_DB) as store:
        yield store


@pytest.fixture(scope="module")
async def module_db(stores: Stores) -> str:
    """A migrated database of the test module's own, so the figures it checks are only its own."""
    return await servers.migrated_database(stores.database)


@pytest.fixture(scope="module")
async def module_redis(request: pytest.FixtureRequest, stores: Stores) -> AsyncIterator[Redis]:
    """leadcap's Redis store on the test module's own database (its REDIS_DB), emptied once for the
    whole module (own_redis empties it for each test)."""
    async with servers.private_redis(stores.redis, request.module.REDIS_DB) as store:
        yield store


@pytest.fixture(scope="module")
def module_env(
    request: pytest.FixtureRequest, env: dict[str, str], module_db: str, module_redis: Redis, stores: Stores
) -> dict[str, str]:
    """The suite's environment on module_db and module_redis (emptied before the module's first
    use of it)."""
    return {
        **env,
        "LEADCAP_DATABASE_URL": module_db,
        "LEADCAP_REDIS_URL": servers.on_db(stores.redis, request.module.REDIS_DB),
    }


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSms]:
    """A fake SMS provider on loopback (Kavenegar's and SMS.ir's APIs), one per test module."""
    with fakesms.running() as running:
        yield running


@pytest.fixture(scope="session")
async def redis(stores: Stores) -> AsyncIterator[Redis]:
    store = Redis.open(stores.redis)
    yield store
    await store.close()


@pytest.fixture(scope="session")
def shard_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two Valkey servers of their own, started like the suite's (embedded), for the sharded
    intake's tests: LEADCAP_REDIS_URL lists both."""
    children = [embedded.start_redis(tmp_path_factory.mktemp(f"shard{i}")) for i in range(2)]
    try:
        yield [child.url for child in children]
    finally:
        for child in children:
            child.stop()


@pytest.fixture
def ip() -> str:
    """A loopback address no other test uses, so each test has its own rate-limit bucket."""
    n = next(_ips)
    return f"127.10.{n // 250}.{n % 250 + 1}"
