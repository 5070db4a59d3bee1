"""MongoDB through PyMongo's async API: request logs only. Driver errors become StoreError."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import PyMongoError

from leadcap.errors import StoreError

COLLECTION = "request_logs"


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    try:
        yield
    except (PyMongoError, OSError) as exc:
        raise StoreError("mongo", f"{action} failed: {type(exc).__name__}: {exc}") from exc


class Mongo:
    """The request-log collection, with timeouts short enough never to stall a caller for long."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self.client = client
        self.logs = client[database][COLLECTION]

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
        await self.client.close()

    async def ping(self) -> float:
        async with translated("ping"):
            started = time.perf_counter()
            await self.client.admin.command("ping")
            return (time.perf_counter() - started) * 1000

    async def ensure_indexes(self, *, ttl_days: int) -> None:
        """A TTL index on `time` (old logs expire) and a lookup index on `submission_id`."""
        async with translated("creating indexes"):
            await self.logs.create_index(
                [("time", ASCENDING)], expireAfterSeconds=ttl_days * 86400, name="time_ttl"
            )
            await self.logs.create_index([("submission_id", ASCENDING)], name="submission_id")

    async def write(self, writes: Sequence[Any]) -> None:
        """Apply inserts and upserts to the request logs, unordered: one bad write spoils none."""
        async with translated("writing request logs"):
            await self.logs.bulk_write(list(writes), ordered=False)
