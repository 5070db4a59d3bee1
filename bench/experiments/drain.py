"""Worker CPU per lead drained, without the web tier: queue N lead messages straight into the
stream (the bytes intake.lua enqueues), start K `leadcap worker` processes of each tree, and
measure their CPU from start to an empty stream with every row in PostgreSQL.

    python bench/experiments/drain.py --roots /tmp/base . --rounds 3 --leads 30000

Trees are interleaved round by round, so a busy machine weighs on both alike. Request logs are
dropped in the worker (LEADCAP_REQUEST_LOG_BUFFER=0) unless --mongo-url is given: the figure is
then the worker's own work. Needs the machine's PostgreSQL (:5432) and a Redis db of your own
(--redis; it is flushed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import psutil
import redis

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from leadcap import keys  # noqa: E402
from leadcap.ids import uuid7  # noqa: E402
from leadcap.intake.submission import Submission, encode_task  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
COUNT = "SELECT count(*) FROM submissions"


def sql(url: str, statement: str) -> object:
    import asyncio

    async def go() -> object:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(statement)
        finally:
            await conn.close()

    return asyncio.run(go())


def messages(count: int, start: int) -> list[bytes]:
    out = []
    for i in range(count):
        item = Submission(
            id=uuid7(),
            phone=f"+98912{(start + i) % 10_000_000:07d}",
            region="IR",
            source="bench",
            utm={"source": "google", "medium": "cpc", "campaign": "winter"},
        )
        out.append(encode_task(item.to_message()))
    return out


def drain_once(
    root: Path,
    env: dict[str, str],
    r: redis.Redis,
    db_url: str,
    leads: int,
    workers: int,
    profile: str | None,
) -> tuple[float, float]:
    r.flushdb()
    sql(db_url, "TRUNCATE submissions, leads CASCADE")
    pipe = r.pipeline(transaction=False)
    for n, data in enumerate(messages(leads, int(time.time()) * 7)):
        pipe.xadd(keys.LEAD_STREAM, {"data": data})
        if n % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(Path(f"/tmp/drain-worker-{i}.log").open("w")) for i in range(workers)]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "cli", "worker"],
                cwd=root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            for log in logs
        ]
        try:
            ps = [psutil.Process(p.pid) for p in procs]
            spy = None
            # count from the moment every worker has opened its pools (its first heartbeat)
            while int(r.zcard(keys.WORKERS) or 0) < workers:
                time.sleep(0.01)
            if profile:
                spy = subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "--format",
                        "raw",
                        "--rate",
                        "250",
                        "-o",
                        profile,
                        "--pid",
                        str(ps[0].pid),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            cpu0 = sum(sum(p.cpu_times()[:2]) for p in ps)
            t0 = time.monotonic()
            while int(r.xlen(keys.LEAD_STREAM) or 0) or int(str(sql(db_url, COUNT))) < leads:
                time.sleep(0.02)
            elapsed = time.monotonic() - t0
            cpu = sum(sum(p.cpu_times()[:2]) for p in ps) - cpu0
            if spy:
                spy.send_signal(signal.SIGINT)
                spy.wait()
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
    return cpu / leads * 1e6, leads / elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--roots", nargs="+", default=[str(ROOT)])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--leads", type=int, default=30000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    ap.add_argument("--mongo-url", default="")
    ap.add_argument(
        "--set", action="append", default=[], metavar="LEADCAP_X=VALUE", help="extra worker settings"
    )
    ap.add_argument("--profile", help="py-spy raw output prefix (one worker, last round)")
    args = ap.parse_args()
    name = f"leadcap_drain_{os.getpid()}"
    sql(ADMIN, f'CREATE DATABASE "{name}"')
    db_url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    results: dict[str, list[tuple[float, float]]] = {root: [] for root in args.roots}
    try:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCAP_")}
        base_env.pop("PYTHONPATH", None)
        base_env.update(
            {
                "LEADCAP_DATABASE_URL": db_url,
                "LEADCAP_REDIS_URL": args.redis,
                "LEADCAP_MONGO_URL": args.mongo_url or "mongodb://127.0.0.1:1/leadcap",
                "LEADCAP_LOG_LEVEL": "WARNING",
                "LEADCAP_DATA_DIR": f"/tmp/{name}",
            }
        )
        if not args.mongo_url:
            base_env["LEADCAP_REQUEST_LOG_BUFFER"] = "0"
        base_env.update(item.split("=", 1) for item in args.set)
        subprocess.run(
            [sys.executable, "-m", "cli", "migrate"],
            cwd=args.roots[0],
            env={**base_env, "PYTHONPATH": str(Path(args.roots[0]).resolve())},
            check=True,
            capture_output=True,
        )
        r = redis.Redis.from_url(args.redis)
        for rnd in range(args.rounds):
            for i, root in enumerate(args.roots):
                env = {**base_env, "PYTHONPATH": str(Path(root).resolve())}
                prof = f"{args.profile}-{i}.txt" if args.profile and rnd == args.rounds - 1 else None
                us, rate = drain_once(Path(root), env, r, db_url, args.leads, args.workers, prof)
                results[root].append((us, rate))
                print(f"round {rnd + 1} {root}: {us:.1f} µs CPU/lead, {rate:,.0f} leads/s", flush=True)
        r.flushdb()
    finally:
        sql(ADMIN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for root, rows in results.items():
        print(
            f"{root}: median {statistics.median(u for u, _ in rows):.1f} µs/lead, "
            f"{statistics.median(x for _, x in rows):,.0f} leads/s over {len(rows)} rounds"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
