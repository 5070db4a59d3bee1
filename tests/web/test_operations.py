"""Request logs in MongoDB, metrics, and structured logs, through the real server and worker."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import asyncpg

from leadcap.ops import embedded
from leadcap.stores.mongo import Mongo
from tests import factories, servers
from tests.servers import Process, Server, Stores, client, on_db, wait_for, wait_for_lead


async def log_docs(mongo_url: str, **match: Any) -> list[dict[str, Any]]:
    """The request-log entries matching `match`, in time order, read as an operator would."""
    mongo = Mongo.open(mongo_url, timeout_ms=2000)
    try:
        return await mongo.entries(**match)
    finally:
        await mongo.close()


async def test_a_posts_log_documents_tell_its_story(
    server: Server, worker: Process, mongo_url: str, ip: str
) -> None:
    """The request's own document (queued), then, once the worker commits, its verdict (done)."""
    number = factories.mobile()
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", json={"phone": number}, headers={"User-Agent": "pytest-ua"})
    submission_id = response.json()["id"]

    async def both() -> list[dict[str, Any]]:
        docs = await log_docs(mongo_url, submission_id=submission_id)
        return docs if {d.get("kind") for d in docs} == {"request", "task"} else []

    docs = await wait_for(both, 20)
    assert docs, await log_docs(mongo_url, submission_id=submission_id)
    (request,) = [d for d in docs if d["kind"] == "request"]
    (task,) = [d for d in docs if d["kind"] == "task"]
    assert request["request_id"] == response.headers["X-Request-ID"]
    assert (request["method"], request["path"], request["status"]) == ("POST", "/api/leads/", 202)
    assert request["user_agent"] == "pytest-ua" and request["latency_ms"] >= 0
    assert request["client_ip"] == ip.rsplit(".", 1)[0] + ".0/24"  # truncated by default
    assert request["task_state"] == "queued" and request["time"] <= task["time"]
    assert set(task) == {"kind", "time", "submission_id", "task_state"}
    assert task["task_state"] == "done"
    digits = factories.e164(number)[1:]
    assert digits not in json.dumps(docs, default=str)  # never the phone number


async def test_errors_and_duplicates_are_logged_too(server: Server, mongo_url: str, ip: str) -> None:
    number = factories.mobile()
    async with client(server.url, ip) as http:
        first = await http.post("/api/leads/", json={"phone": number})
        dup = await http.post("/api/leads/", json={"phone": number})
        bad = await http.post("/api/leads/", json={"phone": "nope"})

    async def both() -> list[dict[str, Any]]:
        docs = [
            *await log_docs(mongo_url, request_id=dup.headers["X-Request-ID"]),
            *await log_docs(mongo_url, request_id=bad.headers["X-Request-ID"]),
        ]
        return docs if len(docs) == 2 else []

    dup_doc, bad_doc = await wait_for(both, 10)  # type: ignore[misc]
    assert dup_doc["duplicate_of"] == first.json()["id"] and "submission_id" not in dup_doc
    assert bad_doc["status"] == 422 and "submission_id" not in bad_doc


async def test_metrics(server: Server, worker: Process, pg: asyncpg.Pool, ip: str) -> None:
    number = factories.mobile()
    async with client(server.url, ip) as http:
        await http.post("/api/leads/", json={"phone": number})
        await http.post("/api/leads/", json={"phone": "nope"})
        hidden = await http.get("/metrics")
    assert hidden.status_code == 404  # only LEADCAP_METRICS_ALLOW (127.0.0.1/32 in the suite)
    await wait_for_lead(pg, factories.e164(number))  # this test's own lead, not an earlier test's

    async def processed() -> str:
        async with client(server.url, "127.0.0.1") as local:
            text = (await local.get("/metrics")).text
        return text if re.search(r"^leadcap_worker_processed_total [1-9]\d*$", text, re.M) else ""

    text = str(await wait_for(processed, 10))
    assert re.search(r'leadcap_http_requests_total\{method="POST",route="capture",status="202"\} \d', text)
    assert re.search(r'leadcap_leads_total\{outcome="accepted",reason=""\} \d', text)
    assert re.search(r'leadcap_leads_total\{outcome="rejected",reason="invalid_phone"\} \d', text)
    assert re.search(r"leadcap_http_request_duration_seconds_bucket\{le=\"0.005\",route=\"capture\"\}", text)
    assert re.search(r"^leadcap_queue_depth \d+$", text, re.M)
    assert re.search(r"^leadcap_worker_processed_total [1-9]\d*$", text, re.M)
    assert re.search(r"^leadcap_dead_letters_total \d+$", text, re.M)
    assert "leadcap_request_logs_dropped_total" in text
    assert re.search(r'^leadcap_webhook_deliveries_total\{outcome="delivered"\} \d+$', text, re.M)
    assert re.search(r"^leadcap_webhook_outbox_depth \d+$", text, re.M)
    assert re.search(r"^leadcap_webhook_oldest_due_seconds [\d.]+$", text, re.M)


async def test_mongo_down_mid_run(
    stores: Stores, env: dict[str, str], tmp_path: Path, run_dir: Path, pg: asyncpg.Pool
) -> None:
    """MongoDB stops: POSTs still get 202 and leads reach PostgreSQL; the request logs that do not
    fit the buffer are dropped and counted in /metrics; when MongoDB returns, logging resumes."""
    port = embedded.free_port()
    mongo = embedded.start_mongo(tmp_path, port=port)
    own = {
        **env,
        "LEADCAP_MONGO_URL": mongo.url,
        "LEADCAP_REDIS_URL": on_db(stores.redis, 8),
        "LEADCAP_REQUEST_LOG_BUFFER": "5",
    }
    server = servers.start_server(own, run_dir / "mongo-down-serve.log")
    worker = Process(("worker",), own, run_dir / "mongo-down-worker.log").start()
    try:
        mongo.stop()
        numbers = [factories.mobile() for _ in range(8)]
        async with client(server.url, "127.30.0.1") as http:
            answers = [await http.post("/api/leads/", json={"phone": n}) for n in numbers]
        assert [a.status_code for a in answers] == [202] * 8
        for n in numbers:
            await wait_for_lead(pg, factories.e164(n))

        async def dropped() -> int:
            async with client(server.url, "127.0.0.1") as local:
                text = (await local.get("/metrics")).text
            match = re.search(r"^leadcap_request_logs_dropped_total (\d+)", text, re.M)
            return int(float(match.group(1))) if match else 0

        async def three_dropped() -> bool:
            # 8 requests, 5 places: the 3 oldest go, some only once an in-flight write times out
            return await dropped() >= 3

        assert await wait_for(three_dropped, 15), await dropped()

        mongo = embedded.start_mongo(tmp_path, port=port)
        async with client(server.url, "127.30.0.2") as http:
            later = await http.post("/api/leads/", json={"phone": factories.mobile()})

        async def logged() -> list[dict[str, Any]]:
            return await log_docs(mongo.url, request_id=later.headers["X-Request-ID"])

        assert await wait_for(logged, 20), "logging did not resume after MongoDB came back"
        kept = await log_docs(mongo.url, path="/api/leads/")
        # The 5 newest survived the outage; the later request makes 6, unless it arrived while those
        # 5 still filled the buffer, in which case it pushed out the oldest of them.
        assert 5 <= len(kept) <= 6
    finally:
        worker.stop()
        server.process.stop()
        mongo.stop()


async def test_logs_are_json_with_request_ids_and_no_phone_numbers(
    server: Server, worker: Process, run_dir: Path, pg: asyncpg.Pool, ip: str
) -> None:
    """After traffic of its own (a lead the worker writes, its duplicate, refused numbers), so that
    it checks the same logs whichever tests ran before it."""
    number = factories.mobile()
    async with client(server.url, ip) as http:
        for phone in (number, factories.persian(number), "02188888888", "+98912", "nope"):
            await http.post("/api/leads/", json={"phone": phone, "source": phone})
    await wait_for_lead(pg, factories.e164(number))
    lines = [line for path in run_dir.glob("*.log") for line in path.read_text().splitlines() if line.strip()]
    assert lines
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    assert entries and all({"time", "level", "logger", "message", "request_id"} <= set(e) for e in entries)
    # Not inside a longer token: a random hex request id holds "98" and ten digits now and then.
    full_numbers = re.compile(r"(?<![0-9A-Za-z])(?:\+?98\d{10}|09\d{9})(?![0-9])")
    offenders = [line for line in lines if full_numbers.search(line)]
    assert offenders == []
