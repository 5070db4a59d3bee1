"""Stores failing under the app (in process, or a real server beside a worker): Redis down,
PostgreSQL down, both down, a store that hangs."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from leadcap import __version__
from leadcap.ops import embedded
from leadcap.stores.postgres.migrate import migrate
from tests import factories, inprocess, servers
from tests.servers import Process, Server, Stores, client, on_db, wait_for, wait_for_lead

DEAD = "127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a hung store."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def server_with(env: dict[str, str], log: Path, **overrides: str) -> Server:
    return servers.start_server({**env, **overrides}, log)


async def test_redis_down_takes_the_direct_path(env: dict[str, str], pg: asyncpg.Pool, ip: str) -> None:
    async with inprocess.running({**env, "LEADCAP_REDIS_URL": f"redis://{DEAD}/0"}) as app:
        number = factories.mobile()
        async with app.client(ip) as http:
            response = await http.post("/api/leads/", json={"phone": number})
            again = await http.post("/api/leads/", json={"phone": number})
            page = await http.get("/")
            health = await http.get("/api/health/")
        assert response.status_code == 202 and response.headers["RateLimit-Remaining"] == "9"
        # Already durable when the 202 left: no worker needed.
        lead = await pg.fetchrow("SELECT * FROM leads WHERE phone = $1", factories.e164(number))
        assert lead is not None and str(lead["id"]) == response.json()["id"]
        assert again.json() == {**response.json(), "duplicate": True}
        assert page.status_code == 200  # the landing page is served from memory
        assert health.status_code == 503 and health.json()["checks"]["redis"]["status"] == "down"


async def test_redis_and_postgres_down_is_503(env: dict[str, str], ip: str) -> None:
    nothing = {
        "LEADCAP_REDIS_URL": f"redis://{DEAD}/0",
        "LEADCAP_DATABASE_URL": f"postgresql://postgres@{DEAD}/x",
    }
    async with inprocess.running({**env, **nothing}) as app, app.client(ip) as http:
        response = await http.post("/api/leads/", json={"phone": factories.mobile()})
        invalid = await http.post("/api/leads/", json={"phone": "nope"})
    assert response.status_code == 503
    assert response.json() == {
        "error": {"code": "unavailable", "message": response.json()["error"]["message"]}
    }
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["RateLimit-Limit"] == "10"
    assert invalid.status_code == 422  # validation still answers


async def test_postgres_down_queue_holds_and_worker_retries(
    stores: Stores, env: dict[str, str], tmp_path: Path, run_dir: Path, ip: str
) -> None:
    """PostgreSQL stops: POSTs still get 202 from the queue; when it returns, every row lands."""
    port = embedded.free_port()
    pg_child = embedded.start_postgres(tmp_path, port=port)
    url = pg_child.url
    await migrate(url)
    own = {**env, "LEADCAP_DATABASE_URL": url, "LEADCAP_REDIS_URL": on_db(stores.redis, 5)}
    server = server_with(own, run_dir / "pg-down-serve.log")
    worker = Process(("worker",), own, run_dir / "pg-down-worker.log").start()
    try:
        pg_child.stop()
        numbers = [factories.mobile() for _ in range(20)]
        async with client(server.url, ip) as http:
            answers = [await http.post("/api/leads/", json={"phone": n}) for n in numbers[:10]]
        async with client(server.url, ip.replace("127.10.", "127.12.")) as http:
            answers += [await http.post("/api/leads/", json={"phone": n}) for n in numbers[10:]]
        assert [a.status_code for a in answers] == [202] * 20

        async def retrying() -> bool:  # the worker met PostgreSQL down and backs off
            return "retry" in worker.output()

        assert await wait_for(retrying, timeout=30), worker.output()
        pg_child = embedded.start_postgres(tmp_path, port=port)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        try:
            for number in numbers:
                lead = await wait_for_lead(pool, factories.e164(number), timeout=30)
                assert lead["submissions"] == 1
        finally:
            await pool.close()
    finally:
        worker.stop()
        server.process.stop()
        pg_child.stop()


@pytest.mark.parametrize("store", ["redis", "database", "mongo"])
async def test_health_answers_within_2s_when_a_store_hangs(
    env: dict[str, str], black_hole: str, store: str
) -> None:
    scheme = {"redis": "redis://{}/0", "database": "postgresql://postgres@{}/x", "mongo": "mongodb://{}/x"}[
        store
    ]
    hung = {f"LEADCAP_{store.upper()}_URL": scheme.format(black_hole)}
    async with inprocess.running({**env, **hung}) as app, app.client() as http:
        started = time.monotonic()
        response = await http.get("/api/health/")
        took = time.monotonic() - started
    assert took < 2.0
    name = "postgres" if store == "database" else store
    check = response.json()["checks"][name]
    assert check == {"status": "down", "error": "timeout"}  # a category: no host, no port
    assert black_hole.rsplit(":", 1)[1] not in response.text
    expected = 200 if store == "mongo" else 503
    assert response.status_code == expected
    assert response.json()["status"] == ("degraded" if store == "mongo" else "down")


async def test_health_ok_and_degraded(server: Server, worker: Process, env: dict[str, str]) -> None:
    async def healthy() -> bool:
        async with client(server.url) as http:
            return (await http.get("/api/health/")).json()["status"] == "ok"

    assert await wait_for(healthy, 15)
    async with client(server.url) as http:
        body = (await http.get("/api/health/")).json()
    assert body["version"] == __version__
    assert body["checks"]["workers"]["count"] >= 1 and body["checks"]["workers"]["last_seen_s"] is not None
    for name in ("postgres", "redis", "mongo"):
        assert body["checks"][name]["status"] == "ok" and body["checks"][name]["latency_ms"] >= 0

    async with (
        inprocess.running({**env, "LEADCAP_MONGO_URL": f"mongodb://{DEAD}/x"}) as app,
        app.client() as http,
    ):
        response = await http.get("/api/health/")
    assert response.status_code == 200 and response.json()["status"] == "degraded"
