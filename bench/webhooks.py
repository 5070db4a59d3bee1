"""Webhook delivery, measured (run by `nox -s bench`, or `python bench/webhooks.py`).

    python bench/webhooks.py [--database-url URL] [--events 20000] [--rate 500] [--seconds 20]

Against a real PostgreSQL (a fresh `leadcap_bench_webhooks_*` database, dropped at the end;
default the machine's 127.0.0.1:5432) and a local receiver in its own process (asyncio, answers
204 at once, counts requests), with one delivery loop in this process, as a worker runs it:

  1. throughput   --events leads recorded with one endpoint subscribed, then the loop drains
                  them: events/s from its start to the last delivery recorded
  2. lag          leads recorded at --rate per second for --seconds while the loop runs;
                  lag = delivered_at - the event's commit time, p50 and p99
  3. outbox cost  the worker's write path (Postgres.record, batches of 256) in leads/s with one
                  endpoint subscribed against none

Prints one JSON document (and writes it to bench/results/webhooks-<stamp>.json).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import asyncpg  # noqa: E402

from bench.harness import report  # noqa: E402
from leadcap.ids import uuid7  # noqa: E402
from leadcap.intake.submission import Submission  # noqa: E402
from leadcap.settings import Settings  # noqa: E402
from leadcap.stores.postgres import Postgres  # noqa: E402
from leadcap.stores.postgres.migrate import migrate  # noqa: E402
from leadcap.webhooks import signing  # noqa: E402
from leadcap.webhooks.delivery import Deliverer  # noqa: E402
from tests.servers import create_database, drop_database  # noqa: E402

RESPONSE = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


def receiver(port: int, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    """A minimal keep-alive HTTP/1.1 receiver: reads each request, answers 204."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(RESPONSE)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_numbers = itertools.count(1)


def leads(count: int) -> list[Submission]:
    """`count` submissions of distinct new IR mobiles."""
    return [
        Submission(id=uuid7(), phone=f"+98912{next(_numbers) % 10_000_000:07d}", region="IR")
        for _ in range(count)
    ]


async def record_all(postgres: Postgres, subs: list[Submission], batch: int = 256) -> float:
    started = time.perf_counter()
    for i in range(0, len(subs), batch):
        await postgres.leads.record(subs[i : i + batch])
    return time.perf_counter() - started


async def reset(pool: asyncpg.Pool) -> None:
    """Empty the outbox, the leads and their audit trail between phases (lead_status_changes
    outlives its lead since migration 0012, so it is named; CASCADE for anything else that
    refers to a lead: TRUNCATE refuses a referenced table)."""
    await pool.execute(
        "TRUNCATE webhook_deliveries, webhook_events, submissions, leads, lead_status_changes CASCADE"
    )


async def run(args: argparse.Namespace) -> dict[str, object]:
    url = await create_database(args.database_url)
    port = free_port()
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=receiver, args=(port, ready), daemon=True)
    child.start()
    ready.wait(10)
    try:
        await migrate(url)
        postgres = await Postgres.open(url, max_size=6)
        store = postgres.webhooks
        pool = postgres.pool_for_tests()
        settings = Settings(webhook_allow_private=True)

        # 3. outbox cost first (no delivery loop running): none subscribed, then one
        await pool.execute("TRUNCATE webhook_endpoints CASCADE")
        none_s = await record_all(postgres, leads(args.events))
        await reset(pool)
        await store.add_endpoint(f"http://127.0.0.1:{port}/hook", signing.new_secret(), ["lead.created"])
        one_s = await record_all(postgres, leads(args.events))
        cost = {
            "leads_per_s_no_endpoint": round(args.events / none_s),
            "leads_per_s_one_endpoint": round(args.events / one_s),
            "slowdown_pct": round((one_s / none_s - 1) * 100, 1),
        }

        # 1. throughput: drain the backlog just written
        stop = asyncio.Event()
        deliverer = Deliverer(store, settings)
        started, cpu_started = time.perf_counter(), time.process_time()
        loop = asyncio.create_task(deliverer.run(stop))
        while (
            await pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'")
            < args.events
        ):
            await asyncio.sleep(0.05)
        drain_s = time.perf_counter() - started
        throughput = {
            "events": args.events,
            "seconds": round(drain_s, 2),
            "events_per_s": round(args.events / drain_s),
            # CPU of this process per event (send, claim, outcome): unlike events/s it does not
            # depend on how busy the machine is; 1000 / it = events/s one free core could give
            "cpu_ms_per_event": round((time.process_time() - cpu_started) * 1000 / args.events, 2),
            "load_average": round(os.getloadavg()[0], 1),
        }

        # 2. lag at a steady rate, the loop running
        await reset(pool)
        tick = 0.1
        per_tick = max(1, round(args.rate * tick))
        total = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < args.seconds:
            await postgres.leads.record(leads(per_tick))
            total += per_tick
            await asyncio.sleep(max(0.0, t0 + (total / per_tick) * tick - time.perf_counter()))
        offered = total / (time.perf_counter() - t0)
        while (
            await pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'") < total
        ):
            await asyncio.sleep(0.05)
        row = await pool.fetchrow(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50,"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) AS p99, max(lag) AS max"
            " FROM (SELECT extract(epoch FROM d.delivered_at - e.occurred_at) AS lag"
            "       FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id) t"
        )
        lag = {"leads_per_s": round(offered), "events": total, "p50_s": round(float(row["p50"]), 3),
               "p99_s": round(float(row["p99"]), 3), "max_s": round(float(row["max"]), 3)}  # fmt: skip
        stop.set()
        await loop
        await postgres.close()
        return {"when": datetime.now(UTC).isoformat(), "throughput": throughput, "lag": lag,
                "outbox_cost": cost, "concurrency_per_endpoint": settings.webhook_concurrency}  # fmt: skip
    finally:
        child.terminate()
        await drop_database(args.database_url, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    report("webhooks", asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
