"""A whole leadcap platform whose every process a test may kill: embedded PostgreSQL, Valkey
(with its append-only file) and SecantusDB on fixed ports, a `leadcap serve` and workers."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from leadcap import keys
from leadcap.ops import embedded
from leadcap.ops.embedded import Child
from leadcap.stores.postgres.migrate import migrate
from leadcap.stores.redis import Redis
from tests import factories, servers
from tests.servers import Process, Server


@dataclass
class Burst:
    """What a load run saw: the ids answered 202, and every status."""

    accepted: dict[str, str] = field(default_factory=dict)  # submission id → E.164
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0


@dataclass
class Platform:
    folder: Path
    ports: dict[str, int] = field(default_factory=dict)
    stores: dict[str, Child] = field(default_factory=dict)
    server: Server | None = None
    workers: list[Process] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def start_store(self, name: str) -> Child:
        port = self.ports.setdefault(name, embedded.free_port())
        starter = {
            "database": embedded.start_postgres,
            "redis": embedded.start_redis,
            "mongo": embedded.start_mongo,
        }
        # redis-1, redis-2, …: more Redis servers sharing the intake (LEADCAP_REDIS_URL lists them)
        kind = "redis" if name.startswith("redis") else name
        (self.folder / name).mkdir(parents=True, exist_ok=True)
        child = starter[kind](self.folder / name, port=port)  # type: ignore[operator]
        self.stores[name] = child
        return child

    async def start(
        self, *, workers: int = 2, web_workers: int = 2, shards: int = 1, **settings: str
    ) -> Platform:
        redis = ["redis", *(f"redis-{i}" for i in range(1, shards))]
        for name in ("database", *redis, "mongo"):
            self.start_store(name)
        await migrate(self.stores["database"].url)
        redis_url = ", ".join(self.stores[name].url for name in redis)
        self.env = {
            **servers.base_env(servers.Stores(self.stores["database"].url, redis_url,
                                              self.stores["mongo"].url), self.folder / "data"),
            "LEADCAP_RATE_LIMIT": "1000000/minute",
            "LEADCAP_RECLAIM_IDLE_SECONDS": "3",
            "LEADCAP_WEB_WORKERS": str(web_workers),
            "LEADCAP_LOG_LEVEL": "WARNING",
            **settings,
        }  # fmt: skip
        self.server = servers.start_server(self.env, self.folder / "serve.log")
        for _ in range(workers):
            self.add_worker()
        await self.wait_for_workers(workers)
        return self

    async def wait_for_workers(self, count: int, timeout: float = 30) -> None:
        """Until `count` workers publish heartbeats: a kill must land on a worker at work."""
        assert self.server
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.server.url, timeout=5) as http:
            while (await http.get("/api/health/")).json()["checks"]["workers"]["count"] < count:
                assert time.monotonic() < deadline, "workers did not start"
                await asyncio.sleep(0.2)

    def add_worker(self) -> Process:
        process = Process(("worker",), self.env, self.folder / f"worker-{len(self.workers)}.log").start()
        self.workers.append(process)
        return process

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop(timeout=10)
        if self.server:
            self.server.process.stop(timeout=10)
        for child in self.stores.values():
            child.stop()

    def kill_store(self, name: str) -> None:
        child = self.stores[name]
        assert child.process.poll() is None
        os.kill(child.process.pid, signal.SIGKILL)
        child.process.wait()

    async def burst(self, count: int, *, concurrency: int = 32, pace_s: float = 0.0) -> Burst:
        """POST `count` distinct valid numbers, `concurrency` at a time, from 16 client addresses."""
        assert self.server
        result = Burst()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(count):
            queue.put_nowait(i)

        async def client_loop(n: int) -> None:
            transport = httpx.AsyncHTTPTransport(local_address=f"127.50.0.{n % 16 + 1}", retries=0)
            async with httpx.AsyncClient(base_url=self.server.url, transport=transport, timeout=10) as http:  # type: ignore[union-attr]
                while not queue.empty():
                    queue.get_nowait()
                    number = factories.mobile()
                    try:
                        response = await http.post("/api/leads/", json={"phone": number})
                    except httpx.HTTPError:
                        result.errors += 1
                        continue
                    result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
                    if response.status_code == 202:
                        result.accepted[response.json()["id"]] = response.json()["phone"]
                    if pace_s:
                        await asyncio.sleep(pace_s)

        await asyncio.gather(*(client_loop(n) for n in range(concurrency)))
        return result

    async def visitor_burst(self, count: int, *, addresses: int, concurrency: int = 40) -> Burst:
        """`count` visitors, each a browser of its own (an empty cookie jar: GET /, which gives it
        a visitor cookie, then one POST of a distinct number), spread evenly over `addresses`
        client addresses, as phones behind carrier addresses are."""
        assert self.server
        result = Burst()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(count):
            queue.put_nowait(i)

        async def client_loop(n: int) -> None:
            address = f"127.60.0.{n % addresses + 1}"
            transport = httpx.AsyncHTTPTransport(local_address=address, retries=0)
            async with httpx.AsyncClient(base_url=self.server.url, transport=transport, timeout=20) as http:  # type: ignore[union-attr]
                while not queue.empty():
                    queue.get_nowait()
                    http.cookies.clear()  # the next visitor: a new phone, a new jar
                    try:
                        page = await http.get("/")
                        response = await http.post("/api/leads/", json={"phone": factories.mobile()})
                    except httpx.HTTPError:
                        result.errors += 1
                        continue
                    assert page.status_code == 200 and "leadcap_v" in http.cookies
                    result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
                    if response.status_code == 202:
                        result.accepted[response.json()["id"]] = response.json()["phone"]

        await asyncio.gather(*(client_loop(n) for n in range(concurrency)))
        return result

    async def wait_all_persisted(self, burst: Burst, timeout: float) -> tuple[float, int]:
        """Seconds until every accepted id is a row; raises if not within `timeout`.
        Also returns how many of them were counted more than once (must be 0)."""
        started = time.monotonic()
        ids = list(burst.accepted)
        conn = await asyncpg.connect(self.stores["database"].url)
        try:
            while True:
                found = await conn.fetchval(
                    "SELECT count(*) FROM submissions WHERE id = ANY($1::uuid[])", ids
                )
                if found == len(ids):
                    break
                if time.monotonic() - started > timeout:
                    raise AssertionError(
                        f"only {found} of {len(ids)} accepted submissions reached PostgreSQL"
                    )
                await asyncio.sleep(0.25)
            over = await conn.fetchval(
                "SELECT count(*) FROM leads WHERE phone = ANY($1::text[]) AND submissions <> 1",
                list(burst.accepted.values()),
            )
        finally:
            await conn.close()
        return time.monotonic() - started, int(over)

    def metric(self, name: str) -> float:
        """The sum of a metric's samples over every web process, from /metrics."""
        assert self.server
        text = httpx.get(self.server.url + "/metrics", timeout=5).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))

    async def stream_length(self, name: str = "redis") -> int:
        redis = Redis.open(self.stores[name].url)
        try:
            return int(await redis.client_for_tests().xlen(keys.LEAD_STREAM))
        finally:
            await redis.close()
