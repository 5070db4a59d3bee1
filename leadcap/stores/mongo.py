"""MongoDB through PyMongo's async API: request logs only, append-only (see leadcap/ops/requestlog.py).
Driver errors become StoreError.

The collection holds buckets: one document per flush of one process, holding that flush's
entries (requests, worker verdicts, webhook attempts) in an `entries` array, with `time` (the
earliest entry's, for the TTL index and time queries), `until` (the latest entry's) and
`submission_ids` (the submissions its entries name, a multikey index). The log store then does
its per-document work once per few hundred entries instead of once per entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from leadcap.errors import StoreError
from leadcap.stores import round_trip_ms

COLLECTION = "request_logs"
_NAMING = ("submission_id", "duplicate_of")  # the entry fields that name a submission
Entry = dict[str, Any]


@dataclass
class Bucket:
    """Entries written as one document. Its `_id` is fixed here, once, so that a write whose
    answer was lost can be retried with the same bucket and land only once."""

    entries: list[Entry]
    id: ObjectId = field(default_factory=ObjectId)


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    try:
        yield
    except (PyMongoError, OSError) as exc:
        raise StoreError("mongo", f"{action} failed: {type(exc).__name__}: {exc}") from exc


class Mongo:
    """The request-log collection, with timeouts short enough never to stall a caller for long."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        # Private: callers ask for what they need through the methods below.
        self._client = client
        self._logs = client[database][COLLECTION]

    @classmethod
    def open(cls, url: str, *, timeout_ms: int = 1500) -> Mongo:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=5 * timeout_ms,
            appname="leadcap",
            tz_aware=True,
        )
        database = client.get_default_database(default="leadcap").name
        return cls(client, database)

    async def close(self) -> None:
        await self._client.close()

    async def ping(self) -> float:
        async with translated("ping"):
            return await round_trip_ms(self._client.admin.command("ping"))

    async def ensure_indexes(self, *, ttl_days: int) -> None:
        """A TTL index on `time` (old buckets expire) and a multikey index on `submission_ids`,
        which finds the buckets holding a submission's request and its worker verdict."""
        async with translated("creating indexes"):
            await self._logs.create_index(
                [("time", ASCENDING)], expireAfterSeconds=ttl_days * 86400, name="time_ttl"
            )
            await self._logs.create_index([("submission_ids", ASCENDING)], name="submission_ids")

    async def write(self, bucket: Bucket) -> None:
        """Append one bucket. Writing again a bucket that is already there is a success (its
        `_id` comes back as a duplicate key), so a bucket whose answer was lost is retried whole."""
        entries = bucket.entries
        # Every entry leadcap makes has a `time`; one without must not stop the log for good.
        times = [t for entry in entries if (t := entry.get("time")) is not None] or [datetime.now(UTC)]
        doc = {
            "_id": bucket.id,
            "time": min(times),
            "until": max(times),
            # A duplicate's entry names the submission it repeats: indexed too, so that erasing
            # a lead finds it (leadcap/privacy/erasure.py).
            "submission_ids": [i for e in entries for k in _NAMING if (i := e.get(k)) is not None],
            "entries": entries,
        }
        async with translated("writing request logs"):
            with suppress(DuplicateKeyError):
                await self._logs.insert_one(doc)

    async def entries(self, **match: Any) -> list[Entry]:
        """The entries whose fields equal `match`, in time order (then `kind`: a request and its
        verdict can share a millisecond). By `submission_id` through its index; otherwise a scan.
        The pipeline is the one docs/operations.md gives operators."""
        if "submission_id" in match:
            buckets: dict[str, Any] = {"submission_ids": match["submission_id"]}
        else:
            buckets = {"entries": {"$elemMatch": match}}
        pipeline: list[dict[str, Any]] = [
            {"$match": buckets},
            {"$unwind": "$entries"},
            {"$replaceWith": "$entries"},
            {"$match": match},
            {"$sort": {"time": 1, "kind": 1}},
        ]
        async with translated("reading request logs"):
            return [entry async for entry in await self._logs.aggregate(pipeline)]

    async def pull(self, submission_ids: list[str]) -> int:
        """Remove the entries that name any of `submission_ids` (a request, a duplicate of it, a
        worker's verdict) from their buckets, and the buckets that leaves empty; return how many
        entries went. Buckets are found through the `submission_ids` index; other entries stay."""
        if not submission_ids:
            return 0
        found = {"submission_ids": {"$in": submission_ids}}
        named = {"$or": [{k: {"$in": submission_ids}} for k in _NAMING]}
        counting: list[dict[str, Any]] = [
            {"$match": found},
            {"$unwind": "$entries"},
            {"$replaceWith": "$entries"},
            {"$match": named},
            {"$count": "n"},
        ]
        async with translated("erasing request logs"):
            counted = [doc async for doc in await self._logs.aggregate(counting)]
            buckets = [doc["_id"] async for doc in self._logs.find(found, {"_id": 1})]
            if not buckets:
                return 0
            for name in _NAMING:  # one $pull per field: MongoDB-wire servers differ on $or in $pull
                await self._logs.update_many(
                    {"_id": {"$in": buckets}}, {"$pull": {"entries": {name: {"$in": submission_ids}}}}
                )
            await self._logs.update_many(
                {"_id": {"$in": buckets}}, {"$pull": {"submission_ids": {"$in": submission_ids}}}
            )
            await self._logs.delete_many({"_id": {"$in": buckets}, "entries": {"$size": 0}})
        return int(counted[0]["n"]) if counted else 0

    def client_for_tests(self) -> AsyncMongoClient[dict[str, Any]]:
        """The raw client, for tests that set up or inspect data directly. Not for the application."""
        return self._client

    def logs_for_tests(self) -> AsyncCollection[dict[str, Any]]:
        """The raw request-log collection, for tests. Not for the application."""
        return self._logs
