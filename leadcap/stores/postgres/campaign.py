"""PostgreSQL for the campaign view: the rollups and intake counts behind `stats`, the leads
table of /admin/ (pages, status changes, its CSV) and the /admin/ users. Driver errors become
StoreError.

What to count, how to page and who may sign in are decided in leadcap/campaign/stats.py, outcomes.py,
leadbook.py and admin_users.py; these functions only run their queries.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from leadcap.stores.postgres import Postgres, translated
from leadcap.stores.postgres.sql import query

# --- stats: campaign_rollups and intake_counts ------------------------------------------------


async def rollups_by_key(
    postgres: Postgres, since: datetime, until: datetime, by: str
) -> list[dict[str, Any]]:
    """Submissions, new and verified leads of [since, until) per source or campaign (`by`)."""
    async with translated("reading the campaign rollups"):
        records = await postgres._pool.fetch(query("stats_by_key"), since, until, by)
    return [dict(r.items()) for r in records]


async def rollups_by_period(
    postgres: Postgres, since: datetime, until: datetime, by: str, timezone: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rollups and the intake's answers of [since, until) per local day or hour (`by`)."""
    async with translated("reading the campaign rollups"):
        rollups = await postgres._pool.fetch(query("stats_by_period"), since, until, by, timezone)
        outcomes = await postgres._pool.fetch(query("intake_by_period"), since, until, by, timezone)
    return [dict(r.items()) for r in rollups], [dict(r.items()) for r in outcomes]


async def add_intake_counts(
    postgres: Postgres,
    buckets: Sequence[datetime],
    outcomes: Sequence[str],
    codes: Sequence[str],
    counts: Sequence[int],
) -> None:
    """Add counts to `intake_counts`, one row per (bucket, outcome, code), in one statement."""
    async with translated("counting intake outcomes"):
        await postgres._pool.execute(
            query("add_intake_counts"), list(buckets), list(outcomes), list(codes), list(counts)
        )


# --- the leads table of /admin/ --------------------------------------------------------------


def _leads_sql(columns: str, conditions: Sequence[str], tail: str) -> str:
    return (
        f"SELECT {columns} FROM leads"  # noqa: S608 - fixed fragments; values are $n parameters
        + (" WHERE " + " AND ".join(conditions) if conditions else "")
        + tail
    )


async def leads_newest_first(
    postgres: Postgres, columns: str, conditions: Sequence[str], args: Sequence[Any], limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` leads matching `conditions` (fixed fragments with `$n` placeholders for
    `args`), newest first."""
    sql = _leads_sql(
        columns, conditions, f" ORDER BY first_submitted_at DESC, id DESC LIMIT ${len(args) + 1}"
    )
    async with translated("reading leads"):
        records = await postgres._pool.fetch(sql, *args, limit)
    return [dict(r.items()) for r in records]


async def leads_cursor(
    postgres: Postgres, columns: str, conditions: Sequence[str], args: Sequence[Any], *, prefetch: int
) -> AsyncIterator[dict[str, Any]]:
    """Every lead matching `conditions`, newest first, from a server-side cursor in a read-only
    transaction: memory stays flat at any size."""
    sql = _leads_sql(columns, conditions, " ORDER BY first_submitted_at DESC, id DESC")
    async with (
        translated("exporting leads"),
        postgres._pool.acquire() as conn,
        conn.transaction(readonly=True),
    ):
        async for record in conn.cursor(sql, *args, prefetch=prefetch):
            yield dict(record.items())


async def change_status(postgres: Postgres, lead_id: uuid.UUID, status: str, *, by: str) -> str | None:
    """Set a lead's status and add its audit row, in one transaction; the old status, or None
    (and no change) if there is no such lead."""
    async with translated("changing a lead's status"), postgres._pool.acquire() as conn, conn.transaction():
        old = await conn.fetchval("SELECT status FROM leads WHERE id = $1 FOR UPDATE", lead_id)
        if old is None:
            return None
        await conn.execute("UPDATE leads SET status = $2, updated_at = now() WHERE id = $1", lead_id, status)
        await conn.execute(
            "INSERT INTO lead_status_changes (lead_id, old_status, new_status, changed_by) "
            "VALUES ($1, $2, $3, $4)",
            lead_id,
            old,
            status,
            by,
        )
    return str(old)


# --- /admin/ users ---------------------------------------------------------------------------


async def save_admin_user(postgres: Postgres, name: str, password_hash: str) -> bool:
    """Create the user or replace their password hash; True if it was created."""
    async with translated("adding an admin user"):
        created = await postgres._pool.fetchval(
            "INSERT INTO admin_users (name, password_hash) VALUES ($1, $2) "
            "ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash "
            "RETURNING (xmax = 0)",
            name,
            password_hash,
        )
    return bool(created)


async def remove_admin_user(postgres: Postgres, name: str) -> bool:
    async with translated("removing an admin user"):
        status = await postgres._pool.execute("DELETE FROM admin_users WHERE name = $1", name)
    return bool(status.endswith(" 1"))


async def admin_users(postgres: Postgres) -> list[tuple[str, datetime]]:
    """Every user's name and creation time, by name."""
    async with translated("listing admin users"):
        rows = await postgres._pool.fetch("SELECT name, created_at FROM admin_users ORDER BY name")
    return [(r["name"], r["created_at"]) for r in rows]


async def admin_user_exists(postgres: Postgres, name: str | None = None) -> bool:
    """Whether any user (or the one named) exists."""
    async with translated("looking up admin users"):
        if name is None:
            return bool(await postgres._pool.fetchval("SELECT EXISTS (SELECT 1 FROM admin_users)"))
        return bool(
            await postgres._pool.fetchval("SELECT EXISTS (SELECT 1 FROM admin_users WHERE name = $1)", name)
        )


async def admin_password_hash(postgres: Postgres, name: str) -> str | None:
    async with translated("looking up an admin user"):
        stored = await postgres._pool.fetchval("SELECT password_hash FROM admin_users WHERE name = $1", name)
    return None if stored is None else str(stored)
