"""The candidate shapes for request logs, side by side on one embedded SecantusDB: the server's
CPU per request entry when the same entries (requestlog_cost.py's) arrive in batches of 500.

    PYTHONPATH=$PWD python bench/experiments/requestlog_shapes.py --requests 10000

- documents:  one document per entry, TTL index on `time`, index on `submission_id` (the old shape)
- lean:       one document per entry with one-letter field names, the same two indexes
- timeseries: a time-series collection (timeField `time`, metaField `kind`), the same index
- bucket:     one document per batch: `entries`, `time`/`until`, multikey `submission_ids` (leadcap's)
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from bson import ObjectId
from pymongo import AsyncMongoClient, InsertOne
from requestlog_cost import request_entry, server_cpu

from leadcap.ops import embedded

SHORT = {
    "time": "t",
    "request_id": "r",
    "method": "m",
    "path": "p",
    "status": "s",
    "latency_ms": "l",
    "client_ip": "ip",
    "user_agent": "ua",
    "submission_id": "sid",
    "duplicate_of": "dup",
    "task_state": "ts",
    "kind": "k",
}


def as_documents(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"_id": ObjectId(), **e} for e in batch]


def as_lean(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"_id": ObjectId(), **{SHORT[k]: v for k, v in e.items()}} for e in batch]


def as_bucket(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    times = [e["time"] for e in batch]
    ids = [e["submission_id"] for e in batch if "submission_id" in e]
    bucket = {"time": min(times), "until": max(times), "submission_ids": ids, "entries": batch}
    return [{"_id": ObjectId(), **bucket}]


async def main(args: argparse.Namespace) -> None:
    entries = [request_entry(n)[0] | {"kind": "request"} for n in range(args.requests)]
    batches = [entries[i : i + 500] for i in range(0, len(entries), 500)]
    with tempfile.TemporaryDirectory(prefix="rlshapes-") as folder:
        child = embedded.start_mongo(Path(folder))
        try:
            proc = psutil.Process(child.process.pid)
            client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(child.url, tz_aware=True)
            db = client["leadcap"]
            shapes = {
                "documents": (as_documents, [("time", "time_ttl"), ("submission_id", "submission_id")]),
                "lean": (as_lean, [("t", "time_ttl"), ("sid", "submission_id")]),
                "timeseries": (as_documents, [("submission_id", "submission_id")]),
                "bucket": (as_bucket, [("time", "time_ttl"), ("submission_ids", "submission_ids")]),
            }
            for name, (shape, indexes) in shapes.items():
                if name == "timeseries":
                    await db.create_collection(
                        name, timeseries={"timeField": "time", "metaField": "kind"}, expireAfterSeconds=86400
                    )
                for field, index in indexes:
                    ttl = {"expireAfterSeconds": 86400} if index == "time_ttl" else {}
                    await db[name].create_index(field, name=index, **ttl)
                await db[name].insert_many(shape(batches[0]))  # warm up
                server0, client0 = server_cpu(proc), time.process_time()
                for batch in batches:
                    await db[name].bulk_write([InsertOne(d) for d in shape(batch)], ordered=False)
                server, mine = server_cpu(proc) - server0, time.process_time() - client0
                n = len(entries)
                print(f"{name:11} server {server / n * 1e6:7.1f} us/request", end="")
                print(f"   client {mine / n * 1e6:5.1f} us")
            await client.close()
        finally:
            child.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    asyncio.run(main(parser.parse_args()))
