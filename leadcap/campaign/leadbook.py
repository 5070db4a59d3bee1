"""The leads table of /admin/: filtered pages newest first (keyset), status changes with their
audit row, and the CSV of a filter through the export's own row rule (formula-safe cells).

Keyset pagination: a page ends with a cursor (the last row's first_submitted_at and id), and the
next page starts strictly after it, so page N costs what page 1 costs (an index range scan on
one of migration 0005's `(…, first_submitted_at DESC, id DESC)` indexes), whatever N is.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from leadcap import lead
from leadcap.campaign import export
from leadcap.errors import InvalidBody, NotFound
from leadcap.stores.postgres import Postgres

PAGE_SIZE = 50
STATUSES = lead.STATUSES  # /admin/'s status filter offers each
SETTABLE = ("contacted", "qualified", "rejected")  # what a person in /admin/ may set
LIST_COLUMNS = ", ".join(export.COLUMNS)  # the export's columns: export.row reads each


@dataclass(frozen=True, slots=True)
class Filters:
    status: str | None = None
    source: str | None = None
    campaign: str | None = None  # utm_campaign
    slug: str | None = None  # the campaign's own (migration 0013)
    since: datetime | None = None
    until: datetime | None = None

    def where(self, first: int = 1) -> tuple[list[str], list[Any]]:
        """SQL conditions (fixed fragments, `$n` placeholders only) and their arguments."""
        conditions: list[str] = []
        args: list[Any] = []
        for fragment, value in (
            ("status = ${}", self.status),
            ("source = ${}", self.source),
            ("utm_campaign = ${}", self.campaign),
            ("campaign = ${}", self.slug),
            ("first_submitted_at >= ${}", self.since),
            ("first_submitted_at < ${}", self.until),
        ):
            if value is not None:
                args.append(value)
                conditions.append(fragment.format(first + len(args) - 1))
        return conditions, args


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None


def cursor_of(at: datetime, lead_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{lead_id}".encode()).decode().rstrip("=")


def parse_cursor(text: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor names; InvalidBody for anything this module did not make."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        at, _, lead_id = raw.partition("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(lead_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidBody("The page cursor is not valid.") from None


async def page(
    postgres: Postgres, filters: Filters, *, after: str | None = None, size: int = PAGE_SIZE
) -> Page:
    """One page of leads matching `filters`, newest first, starting after `after`."""
    conditions, args = filters.where()
    if after:
        at, lead_id = parse_cursor(after)
        args += [at, lead_id]
        conditions.append(f"(first_submitted_at, id) < (${len(args) - 1}, ${len(args)})")
    records = await postgres.campaign.leads_newest_first(LIST_COLUMNS, conditions, args, size + 1)
    rows = records[:size]
    more = len(records) > size
    return Page(rows, cursor_of(rows[-1]["first_submitted_at"], rows[-1]["id"]) if more else None)


async def change_status(postgres: Postgres, lead_id: str, status: str, *, by: str) -> str:
    """Set a lead's status and record who did it and when, in one transaction; the old status."""
    if status not in SETTABLE:
        raise InvalidBody(f"The status must be one of {', '.join(SETTABLE)}.")
    try:
        key = uuid.UUID(lead_id)
    except ValueError:
        raise NotFound("There is no such lead.") from None
    old = await postgres.campaign.change_status(key, status, by=by)
    if old is None:
        raise NotFound("There is no such lead.")
    return old


async def rows_for_export(
    postgres: Postgres,
    filters: Filters,
    *,
    tz: tzinfo = UTC,
    calendar: str = "gregorian",
) -> AsyncGenerator[dict[str, Any], None]:
    """Every lead matching `filters`, newest first, as export rows (export.row: the same columns,
    times in `tz`, calendar columns and formula rule as `leadcap export-leads`), from a
    server-side cursor. Close it (contextlib.aclosing) if it may be left before its end: closing
    it closes the cursor, its transaction and gives its connection back."""
    conditions, args = filters.where()
    async with aclosing(postgres.campaign.leads_cursor(LIST_COLUMNS, conditions, args)) as records:
        async for record in records:
            yield export.row(record, tz=tz, calendar=calendar)
