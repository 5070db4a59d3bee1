"""A whole leadcap platform whose every process a test may kill: embedded PostgreSQL, Valkey
(with its append-only file) and SecantusDB on fixed ports, a `leadcap serve` and workers."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    # Woken at every 202, for Load.until_accepted.
    changed: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)

    async def took(self, submission_id: str, phone: str) -> None:
        self.accepted[submission_id] = phone
        async with self.changed:
            self.changed.notify_all()


class Load:
    """A burst running in the background, for a test to act when it has seen enough of it (a
    kill after so many 202s), never after a guessed time."""

    def __init__(self, burst: Burst, running: Awaitable[Burst]) -> None:
        self.burst = burst
        self.task = asyncio.ensure_future(running)
        self.task.add_done_callback(lambda _: asyncio.ensure_future(self._wake()))

    async def _wake(self) -> None:
        async with self.burst.changed:
            self.burst.changed.notify_all()

    def accepted(self, phones: Callable[[str], bool] = lambda _: True) -> int:
        """How many 202s the load has seen so far (for the phones `phones` picks)."""
        return sum(1 for phone in list(self.burst.accepted.values()) if phones(phone))

    async def until_accepted(
        self, count: int, *, phones: Callable[[str], bool] = lambda _: True, timeout: float = 60
    ) -> int:
        """Until the load has seen `count` 202s in all (for the phones `phones` picks); fails the
        test if it has not within `timeout` seconds, or if the load ends first. Returns the count."""

        def reached() -> bool:
            return self.accepted(phones) >= count or self.task.done()

        try:
            async with self.burst.changed:
                await asyncio.wait_for(self.burst.changed.wait_for(reached), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the load saw {self.accepted(phones)} of the {count} 202s awaited in {timeout:.0f} s "
                f"(statuses so far {self.burst.statuses}, transport errors {self.burst.errors})"
            ) from None
        seen = self.accepted(phones)
        assert seen >= count, (
            f"the load ended with {seen} of the {count} 202s awaited "
            f"(statuses {self.burst.statuses}, transport errors {self.burst.errors})"
        )
        return seen

    def __await__(self) -> Generator[Any, None, Burst]:
        return self.task.__await__()


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

    def load(self, count: int, *, concurrency: int = 32, pace_s: float = 0.0) -> Load:
        """`burst` started in the background: await it for its Burst, or `until_accepted` first."""
        result = Burst()
        return Load(result, self.burst(count, concurrency=concurrency, pace_s=pace_s, into=result))

    async def burst(
        self, count: int, *, concurrency: int = 32, pace_s: float = 0.0, into: Burst | None = None
    ) -> Burst:
        """POST `count` distinct valid numbers, `concurrency` at a time, from 16 client addresses."""
        assert self.server
        result = into or Burst()
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
                        await result.took(response.json()["id"], response.json()["phone"])
                    if pace_s:  # rate control between a client's requests, not synchronisation
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

    async def entries_added(self, name: str = "redis") -> int:
        """How many entries a Redis server's lead stream has ever taken (XINFO STREAM's
        entries-added: workers delete what they acknowledge, so the length says nothing)."""
        redis = Redis.open(self.stores[name].url)
        try:
            return int((await redis.client_for_tests().xinfo_stream(keys.LEAD_STREAM))["entries-added"])
        finally:
            await redis.close()
