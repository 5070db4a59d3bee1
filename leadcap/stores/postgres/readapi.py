"""PostgreSQL for the read API: its keys (kept as keyed hashes) with their use counts, and pages of
leads in the order they committed. Driver errors become StoreError.

Which key may read, what a cursor holds and how a lead is written out are decided in
leadcap/readapi/; these methods only run queries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from leadcap.stores.postgres.connection import translated
from leadcap.stores.postgres.sql import query

_KEY_COLUMNS = "id, name, hint, scopes, created_at, revoked_at, uses, last_used_at"
_LIST_KEYS = f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY id"  # noqa: S608 - constants
_KEY_BY_DIGEST = f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE digest = $1"  # noqa: S608 - constants


class ReadApiStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool  # the store's own pool, handed over by Postgres

    async def add_key(self, name: str, digest: bytes, hint: str, scopes: Sequence[str]) -> bool:
        """Keep a new key's digest under `name`; False when a live key already has that name."""
        async with translated("adding an API key"):
            added = await self._pool.fetchval(
                "INSERT INTO api_keys (name, digest, hint, scopes) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING id",
                name,
                digest,
                hint,
                list(scopes),
            )
        return added is not None

    async def keys(self) -> list[dict[str, Any]]:
        """Every key, live and revoked, oldest first (never a digest)."""
        async with translated("listing API keys"):
            records = await self._pool.fetch(_LIST_KEYS)
        return [dict(r.items()) for r in records]

    async def revoke_key(self, name: str) -> bool:
        """Revoke the live key called `name`; False when there is none."""
        async with translated("revoking an API key"):
            revoked = await self._pool.fetchval(
                "UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING id",
                name,
            )
        return revoked is not None

    async def key_by_digest(self, digest: bytes) -> dict[str, Any] | None:
        """The key whose digest this is (revoked or not), or None."""
        async with translated("checking an API key"):
            record = await self._pool.fetchrow(_KEY_BY_DIGEST, digest)
        return dict(record.items()) if record is not None else None

    async def add_uses(self, ids: Sequence[int], counts: Sequence[int], last: Sequence[datetime]) -> None:
        """Add counted uses to the keys, in one statement."""
        async with translated("counting API key uses"):
            await self._pool.execute(query("api_key_uses"), list(ids), list(counts), list(last))

    async def leads_page(
        self, after: tuple[int, uuid.UUID], filters: tuple[Any, ...], limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """The horizon and up to `limit` leads after the position `after`, in commit order."""
        async with translated("reading a page of leads"):
            records = await self._pool.fetch(
                query("api_leads_page"), str(after[0]), after[1], *filters, limit
            )
        horizon = int(records[0]["horizon"])
        return horizon, [dict(r.items()) for r in records if r["id"] is not None]
