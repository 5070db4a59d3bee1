"""PostgreSQL for the campaign view: the rollups and intake counts behind `stats`, the leads
table of /admin/ (pages, status changes, its CSV), the /admin/ users and the export's cursor.
Driver errors become StoreError.

What to count, how to page, who may sign in and what to export are decided in leadcap/campaign/
(stats.py, outcomes.py, leadbook.py, admin_users.py, export.py); these methods only run queries.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from leadcap.stores.postgres.connection import translated
from leadcap.stores.postgres.sql import query

EXPORT_FETCH = "FETCH FORWARD 2000 FROM admin_export"  # rows per round trip of the admin's CSV


def _leads_sql(columns: str, conditions: Sequence[str], tail: str) -> str:
    return (
        f"SELECT {columns} FROM leads"  # noqa: S608 - fixed fragments; values are $n parameters
        + (" WHERE " + " AND ".join(conditions) if conditions else "")
        + tail
    )


class CampaignStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool  # the store's own pool, handed over by Postgres

    # -- stats: campaign_rollups and intake_counts ------------------------------------------------

    async def rollups_by_key(self, since: datetime, until: datetime, by: str) -> list[dict[str, Any]]:
        """Submissions, new and verified leads of [since, until) per key of rollup dimension `by`
        (source, campaign: the UTM value, or slug)."""
        async with translated("reading the campaign rollups"):
            records = await self._pool.fetch(query("stats_by_key"), since, until, by)
        return [dict(r.items()) for r in records]

    async def rollups_by_variant(
        self, since: datetime, until: datetime, campaign: str
    ) -> list[dict[str, Any]]:
        """Submissions, new and verified leads of [since, until) per variant of `campaign` (a
        slug), by variant name."""
        async with translated("reading the campaign rollups"):
            records = await self._pool.fetch(query("stats_by_variant"), since, until, campaign)
        return [dict(r.items()) for r in records]

    async def rollups_by_period(
        self, since: datetime, until: datetime, by: str, timezone: str, campaign: str | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The rollups and the intake's answers of [since, until) per local day or hour (`by`);
        with `campaign`, that campaign's rollups and no answers (they are counted for the site)."""
        dim, key = ("total", "") if campaign is None else ("slug", campaign)
        async with translated("reading the campaign rollups"):
            rollups = await self._pool.fetch(query("stats_by_period"), since, until, by, timezone, dim, key)
            if campaign is not None:
                return [dict(r.items()) for r in rollups], []
            outcomes = await self._pool.fetch(query("intake_by_period"), since, until, by, timezone)
        return [dict(r.items()) for r in rollups], [dict(r.items()) for r in outcomes]

    async def add_intake_counts(
        self,
        buckets: Sequence[datetime],
        outcomes: Sequence[str],
        codes: Sequence[str],
        counts: Sequence[int],
    ) -> None:
        """Add counts to `intake_counts`, one row per (bucket, outcome, code), in one statement."""
        async with translated("counting intake outcomes"):
            await self._pool.execute(
                query("add_intake_counts"), list(buckets), list(outcomes), list(codes), list(counts)
            )

    # -- the leads table of /admin/ --------------------------------------------------------------

    async def leads_newest_first(
        self, columns: str, conditions: Sequence[str], args: Sequence[Any], limit: int
    ) -> list[dict[str, Any]]:
        """Up to `limit` leads matching `conditions` (fixed fragments with `$n` placeholders for
        `args`), newest first."""
        sql = _leads_sql(
            columns, conditions, f" ORDER BY first_submitted_at DESC, id DESC LIMIT ${len(args) + 1}"
        )
        async with translated("reading leads"):
            records = await self._pool.fetch(sql, *args, limit)
        return [dict(r.items()) for r in records]

    async def leads_cursor(
        self, columns: str, conditions: Sequence[str], args: Sequence[Any]
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every lead matching `conditions`, newest first, from a server-side cursor in a read-only
        transaction: memory stays flat at any size.

        A DECLAREd cursor, not asyncpg's (a protocol portal): PostgreSQL plans a DECLARE for its
        first rows (cursor_tuple_fraction), so a filtered CSV starts from the filter's
        (…, first_submitted_at, id) index at once; a portal is planned for the whole result, and
        with a filter that is a bitmap scan and a sort of every match before the first row
        (docs/performance.md, the CSV under /admin/ at 1,000,000 leads)."""
        sql = _leads_sql(columns, conditions, " ORDER BY first_submitted_at DESC, id DESC")
        async with (
            translated("exporting leads"),
            self._pool.acquire() as conn,
            conn.transaction(readonly=True),
        ):
            await conn.execute("DECLARE admin_export NO SCROLL CURSOR FOR " + sql, *args)
            while records := await conn.fetch(EXPORT_FETCH):
                for record in records:
                    yield dict(record.items())

    async def change_status(self, lead_id: uuid.UUID, status: str, *, by: str) -> str | None:
        """Set a lead's status and add its audit row, in one transaction; the old status, or None
        (and no change) if there is no such lead."""
        async with translated("changing a lead's status"), self._pool.acquire() as conn, conn.transaction():
            old = await conn.fetchval("SELECT status FROM leads WHERE id = $1 FOR UPDATE", lead_id)
            if old is None:
                return None
            await conn.execute(
                "UPDATE leads SET status = $2, updated_at = now() WHERE id = $1", lead_id, status
            )
            await conn.execute(
                "INSERT INTO lead_status_changes (lead_id, old_status, new_status, changed_by) "
                "VALUES ($1, $2, $3, $4)",
                lead_id,
                old,
                status,
                by,
            )
        return str(old)

    # -- /admin/ users ---------------------------------------------------------------------------

    async def save_admin_user(self, name: str, password_hash: str) -> bool:
        """Create the user or replace their password hash; True if it was created."""
        async with translated("adding an admin user"):
            created = await self._pool.fetchval(
                "INSERT INTO admin_users (name, password_hash) VALUES ($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash "
                "RETURNING (xmax = 0)",
                name,
                password_hash,
            )
        return bool(created)

    async def remove_admin_user(self, name: str) -> bool:
        async with translated("removing an admin user"):
            status = await self._pool.execute("DELETE FROM admin_users WHERE name = $1", name)
        return bool(status.endswith(" 1"))

    async def admin_users(
        self,
    ) -> list[tuple[str, datetime]]:
        """Every user's name and creation time, by name."""
        async with translated("listing admin users"):
            rows = await self._pool.fetch("SELECT name, created_at FROM admin_users ORDER BY name")
        return [(r["name"], r["created_at"]) for r in rows]

    async def admin_user_exists(self, name: str | None = None) -> bool:
        """Whether any user (or the one named) exists."""
        async with translated("looking up admin users"):
            if name is None:
                return bool(await self._pool.fetchval("SELECT EXISTS (SELECT 1 FROM admin_users)"))
            return bool(
                await self._pool.fetchval("SELECT EXISTS (SELECT 1 FROM admin_users WHERE name = $1)", name)
            )

    async def admin_password_hash(self, name: str) -> str | None:
        async with translated("looking up an admin user"):
            stored = await self._pool.fetchval("SELECT password_hash FROM admin_users WHERE name = $1", name)
        return None if stored is None else str(stored)

    # -- the export (leadcap/campaign/export.py) ------------------------------------------------

    async def count_leads(self, args: Sequence[Any]) -> int:
        """How many leads match the export filters' arguments (see export.Filters.args)."""
        async with translated("counting leads"):
            return int(await self._pool.fetchval(query("count_leads"), *args))

    async def export_cursor(self, args: Sequence[Any], *, prefetch: int) -> AsyncIterator[dict[str, Any]]:
        """The matching leads as dicts, read through a server-side cursor in a read-only
        transaction: memory stays flat at any size."""
        async with (
            translated("exporting leads"),
            self._pool.acquire() as conn,
            conn.transaction(readonly=True),
        ):
            async for record in conn.cursor(query("export_leads"), *args, prefetch=prefetch):
                yield dict(record.items())
