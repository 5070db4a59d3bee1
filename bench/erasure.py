"""The erasure rule's cost on the write path (run with `python bench/erasure.py`).

    python bench/erasure.py [--database-url URL] [--rounds 9] [--batches 20]

Every submission the worker writes is checked against the erasure marks (lead_erased() in
record_submissions.sql, migration 0012). Against a real PostgreSQL (a fresh
`leadcap_bench_erasure_*` database, dropped at the end), the worker's statement in batches of
256 fresh leads, with the rule and with the same statement without it, in alternating rounds
(each first in half of them, so both see the same machine and table), first with no marks,
then with 10,000 marks. Prints the median leads/s of each, and writes
bench/results/erasure-<stamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
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
from leadcap.stores.postgres.leads import columns  # noqa: E402
from leadcap.stores.postgres.migrate import migrate  # noqa: E402
from leadcap.stores.postgres.sql import query  # noqa: E402
from tests.servers import create_database, drop_database  # noqa: E402

RULE = "    WHERE NOT lead_erased(phone, submitted_at)\n"
BATCH = 256
_numbers = iter(range(10**9))


def batch() -> list[Submission]:
    return [
        Submission(id=uuid7(), phone=f"+98912{next(_numbers) % 10**7:07d}", region="IR", source="bench")
        for _ in range(BATCH)
    ]


async def leads_per_s(pool: asyncpg.Pool, sql: str, batches: int) -> float:
    work = [columns(batch()) for _ in range(batches)]
    started = time.perf_counter()
    async with pool.acquire() as conn:
        for args in work:
            await conn.execute(sql, *args)
    return batches * BATCH / (time.perf_counter() - started)


async def run(args: argparse.Namespace) -> dict[str, object]:
    url = await create_database(args.database_url)
    try:
        await migrate(url)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        with_rule = query("record_submissions")
        assert RULE in with_rule
        without = with_rule.replace(RULE, "")
        result: dict[str, object] = {"when": datetime.now(UTC).isoformat(), "batch": BATCH}
        for marks in (0, 10_000):
            await pool.execute(
                "INSERT INTO lead_erasures (phone_hash, erased_before)"
                " SELECT sha256(convert_to('+98935' || lpad(g::text, 7, '0'), 'UTF8')), now()"
                " FROM generate_series(1, $1) g",
                marks,
            )
            await pool.execute("ANALYZE lead_erasures")
            runs: dict[str, list[float]] = {"with_rule": [], "without_rule": []}
            await leads_per_s(pool, with_rule, 2)  # warm both plans
            await leads_per_s(pool, without, 2)
            for i in range(args.rounds):  # each goes first in half the rounds: no order bias
                order = [("with_rule", with_rule), ("without_rule", without)]
                for key, sql in order if i % 2 == 0 else reversed(order):
                    runs[key].append(await leads_per_s(pool, sql, args.batches))
            medians = {k: round(statistics.median(v)) for k, v in runs.items()}
            medians["cost_pct"] = round((medians["without_rule"] / medians["with_rule"] - 1) * 100, 1)
            result[f"marks_{marks}"] = medians
        await pool.close()
        return result
    finally:
        await drop_database(args.database_url, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--batches", type=int, default=20)
    report("erasure", asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
