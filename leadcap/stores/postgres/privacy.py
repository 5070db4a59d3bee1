"""PostgreSQL for erasure and retention (leadcap/privacy/ keeps the rules): erasure marks, the
traces a number left, the erase itself, and the daily job's claim. Driver errors become StoreError.

ERASED_ROWS is the one list of what holds a number: every table whose rows carry it (or a payload
with it), and how to find those rows. A new table that keeps a number is one more line there.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from leadcap.stores.postgres.connection import translated

# (table, which rows) for the erased leads, in delete order (referring rows first). Each
# condition reads `erased`: its lead_ids (uuid[]), phones (E.164 text[]), campaign (a slug, or
# NULL for every campaign of the numbers) and older_than (retention's cutoff; NULL for an erase).
ERASED_ROWS: tuple[tuple[str, str], ...] = (
    # Every stored payload, delivered or not: with its event gone no replay can send it again.
    # Notification channels ride the same outbox (their rows are webhook_deliveries too).
    (
        "webhook_deliveries",
        "t.event_id IN (SELECT e.id FROM webhook_events e WHERE e.lead_id = ANY (erased.lead_ids))",
    ),
    ("webhook_events", "t.lead_id = ANY (erased.lead_ids)"),
    # A dead letter is a submission PostgreSQL refused: never a submissions row, so it is found
    # by the number inside the message as queued ("phone":"+98…", quotes included so that one
    # number is never the prefix of another). The table is small: a scan per erase.
    (
        "dead_letters",
        "EXISTS (SELECT 1 FROM unnest(erased.phones) p"
        " WHERE position(convert_to('\"' || p || '\"', 'UTF8') IN t.message) > 0)"
        # One campaign's: the message (orjson of Submission.to_message, `campaign` its last key,
        # absent for the default campaign's) ends with `"campaign":"<slug>"}`; a utm campaign is
        # nested and ends with `}}`. escape-encoding reads any bytes, even a poison message's.
        " AND (erased.campaign IS NULL OR CASE WHEN erased.campaign = 'default'"
        " THEN encode(t.message, 'escape') !~ '\"campaign\":\"[a-z0-9-]{1,40}\"}$'"
        " ELSE encode(t.message, 'escape') ~ ('\"campaign\":\"' || erased.campaign || '\"}$') END)"
        # Retention takes only what is as old as the leads it erases: a submission refused after
        # the number's lead aged is young, and stays until it ages too.
        " AND (erased.older_than IS NULL OR t.first_failed_at < erased.older_than)",
    ),
    # The erased leads' own submissions: by (phone, campaign) of each erased lead, so retention
    # erasing one campaign's old lead leaves the same number's young lead of another whole.
    (
        "submissions",
        "(t.phone, t.campaign) IN"
        " (SELECT l.phone, l.campaign FROM leads l WHERE l.id = ANY (erased.lead_ids))",
    ),
    ("leads", "t.id = ANY (erased.lead_ids)"),
)
_ERASED = (
    "(SELECT $1::uuid[] AS lead_ids, $2::text[] AS phones, $3::text AS campaign,"
    " $4::timestamptz AS older_than) AS erased"
)
# Built once from the constants above, so no statement is ever formatted at a call.
_DELETES = tuple(
    (table, f"DELETE FROM {table} AS t USING {_ERASED} WHERE {which}")  # noqa: S608 - constants
    for table, which in ERASED_ROWS
)

# Leads to erase, locked. Explicit erase: the numbers given ($2 NULL), waiting for a worker that
# writes one. Retention: only leads still older than $2, skipping a lead a worker holds now (it
# is getting a new submission, so it is not old any more; the next run looks at it again).
_LOCK_GIVEN = (
    "SELECT id, phone, campaign, status FROM leads WHERE phone = ANY ($1::text[])"
    " AND ($2::text IS NULL OR campaign = $2) ORDER BY phone, campaign FOR UPDATE"
)
_LOCK_OLD = (
    "SELECT id, phone, campaign, status FROM leads WHERE phone = ANY ($1::text[]) AND last_submitted_at < $2"
    " ORDER BY phone, campaign FOR UPDATE SKIP LOCKED"
)
_AUDIT = (
    "INSERT INTO lead_status_changes (lead_id, old_status, new_status, changed_by)"
    " SELECT id, status, 'erased', $3 FROM unnest($1::uuid[], $2::text[]) AS t(id, status)"
)
# lead.erased: the lead's id, its campaign ($2, parallel to the ids) and when, never the number; a
# pending delivery for every endpoint subscribed to it, in the erase's own transaction.
_ERASED_EVENT = """
WITH events AS (
    INSERT INTO webhook_events (id, type, lead_id, occurred_at, data)
    SELECT gen_random_uuid(), 'lead.erased', t.id, now(),
           jsonb_build_object('id', t.id, 'campaign', t.campaign, 'erased_at',
                              to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))
    FROM unnest($1::uuid[], $2::text[]) AS t(id, campaign)
    RETURNING id, type, data ->> 'campaign' AS campaign
)
INSERT INTO webhook_deliveries (event_id, endpoint_id)
SELECT e.id, ep.id FROM events e JOIN webhook_endpoints ep
    ON ep.enabled AND e.type = ANY (ep.events) AND (ep.campaign IS NULL OR ep.campaign = e.campaign)
"""
_MARK = """
INSERT INTO lead_erasures AS m (phone_hash, erased_before)
SELECT sha256(convert_to(p, 'UTF8')), b FROM unnest($1::text[], $2::timestamptz[]) AS t(p, b)
ORDER BY 1
ON CONFLICT (phone_hash) DO UPDATE SET
    erased_before = GREATEST(m.erased_before, EXCLUDED.erased_before), erased_at = now()
"""


@dataclass
class Removed:
    """What one erase transaction removed: rows per table, and the leads it erased."""

    rows: dict[str, int] = field(default_factory=dict)
    lead_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Stale:
    phone: str
    last_submitted_at: datetime


class PrivacyStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool  # the store's own pool, handed over by Postgres

    async def now(self) -> datetime:
        """PostgreSQL's clock: an explicit erase's cutoff is read there, as the marks are."""
        async with translated("reading the time"):
            value: datetime = await self._pool.fetchval("SELECT now()")
        return value

    async def phone_of(self, lead_id: uuid.UUID) -> str | None:
        async with translated("reading a lead"):
            phone: str | None = await self._pool.fetchval("SELECT phone FROM leads WHERE id = $1", lead_id)
        return phone

    async def mark(self, phones: Sequence[str], before: Sequence[datetime]) -> None:
        """Erasure marks: no submission of phones[i] (a number, or `<slug> <number>` for one
        campaign's lead) accepted at or before before[i] is written from now on
        (record_submissions.sql, mark_verified.sql)."""
        async with translated("marking an erasure"):
            await self._pool.execute(_MARK, list(phones), list(before))

    async def traces(
        self, phones: Sequence[str], *, campaign: str | None = None
    ) -> list[tuple[uuid.UUID, str]]:
        """(id, phone) of the numbers' submissions (to `campaign` only, when given): the keys of
        their Redis verifications and request-log entries."""
        async with translated("finding a number's traces"):
            rows = await self._pool.fetch(
                "SELECT id, phone FROM submissions WHERE phone = ANY ($1::text[])"
                " AND ($2::text IS NULL OR campaign = $2)",
                list(phones),
                campaign,
            )
        return [(r["id"], r["phone"]) for r in rows]

    async def erase(
        self, phones: Sequence[str], *, by: str, campaign: str | None, older_than: datetime | None = None
    ) -> Removed:
        """Delete every row ERASED_ROWS names for `phones`, record who erased each lead in the
        audit trail and announce it (lead.erased), in one transaction. With `older_than`
        (retention) only leads whose last submission is still older are erased, and a lead a
        worker is writing right now is left for the next run."""
        removed = Removed()
        async with translated("erasing"), self._pool.acquire() as conn, conn.transaction():
            if older_than is None:
                leads = await conn.fetch(_LOCK_GIVEN, list(phones), campaign)
            else:
                leads = await conn.fetch(_LOCK_OLD, list(phones), older_than)
                phones = [r["phone"] for r in leads]
            lead_ids = [r["id"] for r in leads]
            for table, delete in _DELETES:
                status = await conn.execute(delete, lead_ids, list(phones), campaign, older_than)
                removed.rows[table] = int(status.rsplit(" ", 1)[-1])
            if lead_ids:
                await conn.execute(_AUDIT, lead_ids, [r["status"] for r in leads], by)
                await conn.execute(_ERASED_EVENT, lead_ids, [r["campaign"] for r in leads])
            removed.lead_ids = lead_ids
        return removed

    async def stale(self, older_than: datetime, *, after: Stale | None, limit: int) -> list[Stale]:
        """Up to `limit` numbers whose lead's last submission is older than `older_than`, oldest
        first, after `after` (keyset: each batch reads an index range, never the whole table)."""
        async with translated("finding old leads"):
            if after is None:
                rows = await self._pool.fetch(
                    "SELECT phone, last_submitted_at FROM leads WHERE last_submitted_at < $1"
                    " ORDER BY last_submitted_at, phone LIMIT $2",
                    older_than,
                    limit,
                )
            else:
                rows = await self._pool.fetch(
                    "SELECT phone, last_submitted_at FROM leads WHERE last_submitted_at < $1"
                    " AND (last_submitted_at, phone) > ($2, $3)"
                    " ORDER BY last_submitted_at, phone LIMIT $4",
                    older_than,
                    after.last_submitted_at,
                    after.phone,
                    limit,
                )
        return [Stale(r["phone"], r["last_submitted_at"]) for r in rows]

    async def claim_run(self, job: str, every_s: float, *, lease_s: float) -> bool:
        """Take today's run of `job`: True for exactly one caller per `every_s` seconds, however
        many workers ask at once (the row is the lock; held only for this statement). A run
        that never finished (its worker died, a store failed) may be taken again after `lease_s`."""
        async with translated("claiming a maintenance run"), self._pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO maintenance_runs (job) VALUES ($1) ON CONFLICT (job) DO NOTHING", job
            )
            claimed = await conn.fetchval(
                "UPDATE maintenance_runs SET started_at = now(), finished_at = NULL"
                " WHERE job = $1 AND (started_at IS NULL OR started_at <= now() - make_interval(secs => $2)"
                " OR (finished_at IS NULL AND started_at <= now() - make_interval(secs => $3)))"
                " RETURNING true",
                job,
                float(every_s),
                float(lease_s),
            )
        return bool(claimed)

    async def finish_run(self, job: str, summary: dict[str, Any]) -> None:
        async with translated("recording a maintenance run"):
            await self._pool.execute(
                "UPDATE maintenance_runs SET finished_at = now(), summary = $2::jsonb WHERE job = $1",
                job,
                orjson.dumps(summary).decode(),
            )

    async def last_run(self, job: str) -> dict[str, Any] | None:
        async with translated("reading a maintenance run"):
            row = await self._pool.fetchrow(
                "SELECT started_at, finished_at, summary FROM maintenance_runs WHERE job = $1", job
            )
        if row is None:
            return None
        summary = row["summary"]
        return {
            "started_at": row["started_at"],
            "finished_at": row["finished_at"],
            "summary": orjson.loads(summary) if isinstance(summary, str) else summary,
        }

    async def forget_marks(self, older_than: datetime) -> int:
        """Delete erasure marks no submission still in flight can need (see lead_erasures)."""
        async with translated("pruning erasure marks"):
            status = await self._pool.execute(
                "DELETE FROM lead_erasures WHERE erased_before < $1", older_than
            )
        return int(status.rsplit(" ", 1)[-1])
