"""The orchestrator's probes, on a real `leadcap serve` and on the app in process: /api/health/live
answers while the app serves, /api/health/ready exactly while a POST would get its 202, both in
time when stores hang, and neither adds store checks of its own."""

from __future__ import annotations

import asyncio
import time

import httpx
import redis.asyncio as aioredis

from leadcap.ops import embedded
from tests import factories, inprocess, servers
from tests.servers import Server, client
from tests.web import test_faults

black_hole = test_faults.black_hole  # a hung store: test_faults.py's fixture
LIVE, READY = "/api/health/live", "/api/health/ready"


async def probe_and_post(http: httpx.AsyncClient) -> tuple[int, int, int]:
    live = await http.get(LIVE)
    ready = await http.get(READY)
    post = await http.post("/api/leads/", json={"phone": factories.mobile()})
    assert live.json() == {"status": "ok"}
    assert ready.json()["status"] == ("ok" if ready.status_code == 200 else "down")
    return live.status_code, ready.status_code, post.status_code


async def test_ready_exactly_while_a_post_gets_its_202(server: Server, env: dict[str, str], ip: str) -> None:
    nowhere = f"127.0.0.1:{embedded.free_port()}"
    async with client(server.url, ip) as http:
        assert await probe_and_post(http) == (200, 200, 202)
    no_redis = {**env, "LEADCAP_REDIS_URL": f"redis://{nowhere}/0"}
    async with inprocess.running(no_redis) as app, app.client(ip) as http:
        # /api/health/ says 503 down here, yet leads are kept: the direct path to PostgreSQL
        assert (await http.get("/api/health/")).status_code == 503
        assert await probe_and_post(http) == (200, 200, 202)
    nothing = {**no_redis, "LEADCAP_DATABASE_URL": f"postgresql://postgres@{nowhere}/x"}
    async with inprocess.running(nothing) as app, app.client(ip) as http:
        assert await probe_and_post(http) == (200, 503, 503)


async def test_probes_answer_in_time_when_the_stores_hang(env: dict[str, str], black_hole: str) -> None:
    hung = {
        **env,
        "LEADCAP_REDIS_URL": f"redis://{black_hole}/0",
        "LEADCAP_DATABASE_URL": f"postgresql://postgres@{black_hole}/x",
        "LEADCAP_MONGO_URL": f"mongodb://{black_hole}/x",
    }
    async with inprocess.running(hung) as app:
        async with app.client() as http:

            async def timed(path: str, every_s: float) -> list[tuple[float, httpx.Response]]:
                """Probe `path` for 3 s (past the process's one-second report cache, so some
                probes meet a check under way), each answer with how long it took."""
                answers = []
                until = time.monotonic() + 3
                while time.monotonic() < until:
                    started = time.monotonic()
                    response = await http.get(path)
                    answers.append((time.monotonic() - started, response))
                    await asyncio.sleep(every_s)  # pacing, not waiting for anything
                return answers

            lives, readies = await asyncio.gather(timed(LIVE, 0.1), timed(READY, 0.0))
        assert all(r.status_code == 200 and took < 0.5 for took, r in lives), [t for t, _ in lives]
        assert all(r.status_code == 503 and took < 2.0 for took, r in readies), [t for t, _ in readies]
        assert readies[-1][1].json()["checks"]["redis"] == {"status": "down", "error": "timeout"}
        assert black_hole.rsplit(":", 1)[1] not in readies[-1][1].text


async def test_probes_add_no_store_checks_of_their_own(server: Server, stores: servers.Stores) -> None:
    """Each health check reads the workers' heartbeats once (ZCOUNT): a burst of readiness probes
    shares the process's one check a second, and liveness probes make none."""
    admin = aioredis.Redis.from_url(stores.redis)

    async def heartbeat_reads() -> int:
        stats = await admin.info("commandstats")
        return int(stats.get("cmdstat_zcount", {}).get("calls", 0))

    try:
        async with client(server.url) as http:
            await admin.config_resetstat()
            lives = await asyncio.gather(*(http.get(LIVE) for _ in range(30)))
            after_live = await heartbeat_reads()
            started = time.monotonic()
            readies = await asyncio.gather(*(http.get(READY) for _ in range(30)))
            took = time.monotonic() - started
            after_ready = await heartbeat_reads()
    finally:
        await admin.aclose()
    assert all(r.status_code == 200 for r in lives + readies)
    assert after_live == 0
    assert after_ready <= int(took) + 2  # one check per second of the burst, at most
    assert all(r.json()["checks"]["redis"]["status"] == "ok" for r in readies)  # read from the report
