"""PostgreSQL for the campaigns an install runs beside its default one (migration 0013): the rows
`leadcap campaigns …` writes and every web process reads. Driver errors become StoreError; a
slug or host already taken becomes UsageError, a slug that names no campaign NotFound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from leadcap.errors import NotFound, UsageError
from leadcap.stores.postgres.connection import translated


@dataclass(frozen=True, slots=True)
class CampaignRow:
    slug: str
    host: str | None
    document: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None

    @property
    def live(self) -> bool:
        return self.archived_at is None


def _row(record: asyncpg.Record) -> CampaignRow:
    return CampaignRow(
        slug=record["slug"],
        host=record["host"],
        document=orjson.loads(record["document"]),
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        archived_at=record["archived_at"],
    )


class CampaignFileStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, slug: str, document: dict[str, Any], host: str | None) -> CampaignRow:
        async with translated("adding a campaign"):
            try:
                record = await self._pool.fetchrow(
                    "INSERT INTO campaigns (slug, host, document) VALUES ($1, $2, $3::text::jsonb)"
                    " RETURNING slug, host, document::text AS document, created_at, updated_at, archived_at",
                    slug,
                    host,
                    orjson.dumps(document).decode(),
                )
            except asyncpg.UniqueViolationError as exc:  # inside: translated would make it a StoreError
                raise _taken(exc, slug, host) from None
        assert record is not None  # an INSERT … RETURNING returns its row
        return _row(record)

    async def update(self, slug: str, document: dict[str, Any] | None, host: str | None) -> CampaignRow:
        """Replace what is given (a file, a host); the rest is kept."""
        async with translated("updating a campaign"):
            try:
                record = await self._pool.fetchrow(
                    "UPDATE campaigns SET document = COALESCE($2::text::jsonb, document),"
                    " host = COALESCE($3, host), updated_at = now()"
                    " WHERE slug = $1 AND archived_at IS NULL"
                    " RETURNING slug, host, document::text AS document, created_at, updated_at, archived_at",
                    slug,
                    None if document is None else orjson.dumps(document).decode(),
                    host,
                )
            except asyncpg.UniqueViolationError as exc:
                raise _taken(exc, slug, host) from None
        if record is None:
            raise NotFound(f"no live campaign {slug!r} (see `leadcap campaigns list`)")
        return _row(record)

    async def touch(self, slug: str) -> CampaignRow:
        """Mark a live campaign changed, so every web process renders its page again."""
        return await self.update(slug, None, None)

    async def archive(self, slug: str) -> CampaignRow:
        """Archive a campaign (safe to run twice): its page and its form stop; its leads stay."""
        async with translated("archiving a campaign"):
            record = await self._pool.fetchrow(
                "UPDATE campaigns SET archived_at = COALESCE(archived_at, now()), updated_at = now()"
                " WHERE slug = $1"
                " RETURNING slug, host, document::text AS document, created_at, updated_at, archived_at",
                slug,
            )
        if record is None:
            raise NotFound(f"no campaign {slug!r} (see `leadcap campaigns list`)")
        return _row(record)

    async def listing(self, *, live_only: bool = False) -> list[CampaignRow]:
        async with translated("listing campaigns"):
            records = await self._pool.fetch(
                "SELECT slug, host, document::text AS document, created_at, updated_at, archived_at"
                " FROM campaigns"
                " WHERE archived_at IS NULL OR NOT $1 ORDER BY slug",
                live_only,
            )
        return [_row(r) for r in records]

    async def known(self, slug: str) -> bool:
        """Whether `slug` names a campaign whose leads may exist: `default`, or any campaign added,
        archived included (its leads stay, so they can still be read, erased and notified)."""
        if slug == "default":
            return True
        async with translated("reading a campaign"):
            found: bool = await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM campaigns WHERE slug = $1)", slug
            )
        return found

    async def live(self, slug: str) -> CampaignRow | None:
        """The live campaign `slug`, or None (unknown or archived)."""
        async with translated("reading a campaign"):
            record = await self._pool.fetchrow(
                "SELECT slug, host, document::text AS document, created_at, updated_at, archived_at"
                " FROM campaigns WHERE slug = $1 AND archived_at IS NULL",
                slug,
            )
        return None if record is None else _row(record)


def _taken(exc: asyncpg.UniqueViolationError, slug: str, host: str | None) -> UsageError:
    if "host" in (exc.constraint_name or ""):
        return UsageError("--host", f"{host!r} already serves another live campaign")
    return UsageError("SLUG", f"{slug!r} is taken (an archived campaign keeps its slug)")
