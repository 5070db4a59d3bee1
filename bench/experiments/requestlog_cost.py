"""What the request log costs the log store: N synthetic requests (and the worker's verdicts on
the accepted ones) pumped through leadcap's own RequestLog into an embedded SecantusDB, and the
server's CPU per request read from its process. CPU time does not care how busy the machine is.

    PYTHONPATH=$PWD python bench/experiments/requestlog_cost.py --requests 20000
    PYTHONPATH=/other/tree python bench/experiments/requestlog_cost.py   # the same, another tree

The documents look like the web tier's: a POST with a submission id (two in three), a 422 or a
duplicate otherwise; each phase is flushed in the RequestLog's batches (500) as in production.
The client's CPU (building the entries, PyMongo's encoding) is reported too: it is the web
process's and the worker's share.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from leadcap.ops import embedded
from leadcap.ops.requestlog import RequestLog
from leadcap.stores.mongo import Mongo


def request_entry(n: int) -> tuple[dict[str, Any], str | None]:
    doc: dict[str, Any] = {
        "time": datetime.now(UTC),
        "request_id": os.urandom(16).hex(),
        "method": "POST",
        "path": "/api/leads/",
        "status": 202,
        "latency_ms": 1.234,
        "client_ip": "10.1.2.0/24",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    }
    submission = None
    if n % 3 == 2:
        doc["status"] = 422
    elif n % 30 == 1:
        doc["duplicate_of"] = str(uuid.uuid4())
        doc["task_state"] = "queued"
    else:
        submission = str(uuid.uuid4())
        doc["submission_id"] = submission
        doc["task_state"] = "queued"
    return doc, submission


def server_cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


async def phase(log: RequestLog, proc: psutil.Process, fill: Any, count: int) -> tuple[float, float]:
    """(server CPU s, client CPU s) to log `count` items given by `fill`, flushed as production does."""
    server0, client0 = server_cpu(proc), time.process_time()
    done = 0
    while done < count:
        step = min(log.batch, count - done)
        fill(done, step)
        await log.flush()
        done += step
    client = time.process_time() - client0
    await asyncio.sleep(0.2)  # anything the server does after answering (none expected)
    return server_cpu(proc) - server0, client


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="rlcost-") as folder:
        child = embedded.start_mongo(Path(folder))
        try:
            proc = psutil.Process(child.process.pid)
            mongo = Mongo.open(child.url, timeout_ms=30_000)
            await mongo.ensure_indexes(ttl_days=30)
            log = RequestLog(mongo, capacity=args.requests + 1000)
            submissions: list[str] = []

            def requests(start: int, step: int) -> None:
                for n in range(start, start + step):
                    doc, submission = request_entry(n)
                    if submission:
                        submissions.append(submission)
                    log.record(doc)

            def verdicts(start: int, step: int) -> None:
                # The worker reports each committed batch at once (256 in production).
                for at in range(start, start + step, 256):
                    log.task_state(submissions[at : min(at + 256, start + step)], "done")

            # warm up the server (connections, first pages) outside the figures
            await phase(log, proc, requests, 1000)
            submissions.clear()
            rs, rc = await phase(log, proc, requests, args.requests)
            vs, vc = await phase(log, proc, verdicts, len(submissions))
            stats = await mongo.client_for_tests()["leadcap"].command("collStats", "request_logs")
            size = stats.get("size")
            await mongo.close()
        finally:
            child.stop()
    n, v = args.requests, len(submissions)
    print(f"requests {n}, verdicts {v}, collection size {size} bytes")
    print(f"server CPU per request {rs / n * 1e6:8.1f} us   client {rc / n * 1e6:6.1f} us")
    print(f"server CPU per verdict {vs / v * 1e6:8.1f} us   client {vc / v * 1e6:6.1f} us")
    print(f"server CPU per lead (request + verdict) {(rs / n + vs / v) * 1e6:8.1f} us")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    asyncio.run(main(parser.parse_args()))
