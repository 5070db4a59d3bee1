"""MongoDB through PyMongo's async API: request logs only, append-only (see leadcap/requestlog.py).
Driver errors become StoreError."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient, InsertOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, PyMongoError

from leadcap.errors import StoreError

COLLECTION = "request_logs"
DUPLICATE_KEY = 11000


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
            started = time.perf_counter()
            await self._client.admin.command("ping")
            return (time.perf_counter() - started) * 1000

    async def ensure_indexes(self, *, ttl_days: int) -> None:
        """A TTL index on `time` (old logs expire) and an index on `submission_id`, which gathers
        a submission's `request` and `task` documents."""
        async with translated("creating indexes"):
            await self._logs.create_index(
                [("time", ASCENDING)], expireAfterSeconds=ttl_days * 86400, name="time_ttl"
            )
            await self._logs.create_index([("submission_id", ASCENDING)], name="submission_id")

    async def write(self, docs: Sequence[dict[str, Any]]) -> None:
        """Append documents to the request logs, unordered: one bad insert spoils none.

        Inserting again a document that is already there is a success. A batch whose answer was
        lost (a timeout, a dropped connection) is retried whole, and its documents keep the `_id`
        given here the first time (set in each document itself), so whatever did land comes back
        as a duplicate key.
        """
        for doc in docs:
            doc.setdefault("_id", ObjectId())
        async with translated("writing request logs"):
            try:
                await self._logs.bulk_write([InsertOne(doc) for doc in docs], ordered=False)
            except BulkWriteError as exc:
                details = exc.details
                duplicates = all(e.get("code") == DUPLICATE_KEY for e in details.get("writeErrors", []))
                if not duplicates or details.get("writeConcernErrors"):
                    raise

    def client_for_tests(self) -> AsyncMongoClient[dict[str, Any]]:
        """The raw client, for tests that set up or inspect data directly. Not for the application."""
        return self._client

    def logs_for_tests(self) -> AsyncCollection[dict[str, Any]]:
        """The raw request-log collection, for tests. Not for the application."""
        return self._logs
