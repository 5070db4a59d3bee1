"""PostgreSQL for the intake's writes: submissions and their leads, recorded by the worker (and by
the web tier while Redis is away), marked verified by the verifier. Driver errors become StoreError.

A submission's columns are built in one place (`columns`), for both statements that take them
(sql/record_submissions.sql and sql/mark_verified.sql: the same fourteen parallel arrays; the
first takes the consent's three after them, then the variant; the second the variant).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from leadcap import slugs
from leadcap.lead import UTM_KEYS, Consent
from leadcap.stores.postgres.connection import translated
from leadcap.stores.postgres.sql import arrays, query
from leadcap.stores.postgres.webhooks import add_lead_event


class Row(Protocol):
    """What the lead tables keep of a submission (leadcap.intake.submission.Submission is one)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def phone(self) -> str: ...  # E.164
    @property
    def region(self) -> str: ...
    @property
    def carrier(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def utm(self) -> Mapping[str, str]: ...
    @property
    def submitted_at(self) -> datetime: ...
    @property
    def verify(self) -> bool: ...  # LEADCAP_VERIFY=sms: the lead it creates starts `unverified`
    @property
    def visited(self) -> bool: ...  # came with a counted visit: the campaign view's conversion
    @property
    def consent(self) -> Consent | None: ...  # the consent text it agreed to (migration 0014)
    @property
    def campaign(self) -> str: ...  # the campaign's slug (`default` for LEADCAP_CAMPAIGN_FILE's)
    @property
    def variant(self) -> str | None: ...  # the campaign variant its visitor was shown (migration 0015)


def columns(batch: Sequence[Row]) -> list[list[Any]]:
    """The submissions as the parallel arrays $1..$14 of record_submissions.sql and mark_verified.sql."""
    return [
        *arrays(batch, "id", "phone", "region", "carrier", "source"),
        *([s.utm.get(key) for s in batch] for key in UTM_KEYS),
        *arrays(batch, "submitted_at", "verify", "visited", "campaign"),
    ]


async def write_submissions(conn: asyncpg.Connection | PoolConnectionProxy, batch: Sequence[Row]) -> None:
    """Record submissions and their leads on `conn`, in one statement (atomic on its own, or
    part of the caller's transaction)."""
    consents = [s.consent for s in batch]
    await conn.execute(
        query("record_submissions"),
        *columns(batch),
        *([c and getattr(c, name) for c in consents] for name in ("version", "lang", "text")),
        [s.variant for s in batch],
    )


class LeadStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool  # the store's own pool, handed over by Postgres

    async def record(self, batch: Sequence[Row]) -> None:
        """Write submissions and their leads in one statement (its own transaction, so no BEGIN
        and COMMIT round trips); idempotent on submission id."""
        if not batch:
            return
        async with translated("recording submissions"), self._pool.acquire() as conn:
            await write_submissions(conn, batch)

    async def mark_verified(self, batch: Sequence[Row]) -> None:
        """The leads of `batch` are verified now, in one transaction: created so if the worker has
        not written them yet (their submissions then add to them as usual), else updated. Each
        lead verified for the first time gets its lead.verified webhook event in the same
        transaction, so no verified lead goes without its event."""
        # one row per (phone, campaign) per statement
        unique = list({(s.phone, s.campaign): s for s in reversed(batch)}.values())
        if not unique:
            return
        async with translated("verifying leads"), self._pool.acquire() as conn, conn.transaction():
            verified = await conn.fetch(query("mark_verified"), *columns(unique), [s.variant for s in unique])
            for row in verified:
                if row["newly_verified"]:
                    await add_lead_event(conn, "lead.verified", row["id"])

    async def recent_submission(
        self, phone: str, window_s: int, campaign: str = slugs.DEFAULT
    ) -> uuid.UUID | None:
        """The first submission of `phone` to `campaign` inside the dedupe window, if any."""
        async with translated("dedupe lookup"):
            value = await self._pool.fetchval(query("recent_submission"), phone, float(window_s), campaign)
        return value if isinstance(value, uuid.UUID) else None
