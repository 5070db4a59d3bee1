"""A page of `GET /api/v1/leads`: leads in the order they committed, as the export writes them.

Why commit order, and why it skips nothing while leads arrive: workers commit batches out of id
order, so "after the last id seen" would step over a lead whose batch commits a moment later.
Each lead carries the id of the transaction that created it (leads.commit_xid, migration 0011),
and a page reads only below `pg_snapshot_xmin(pg_current_snapshot())`: every transaction under
that horizon has finished, every one still running or yet to begin has an id at or above it. A
lead can therefore only ever commit *ahead* of any position handed out, never behind it.

The last page (nothing more visible now) hands out the horizon itself as the next position:
everything under it has been read, so tomorrow's sync starts there and rescans nothing.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from leadcap.campaign import export
from leadcap.errors import InvalidQuery, UnknownCampaign
from leadcap.readapi.query import LAST_ID, Query, encode_cursor
from leadcap.stores.postgres import Postgres


async def read(postgres: Postgres, query: Query, *, tz: tzinfo) -> dict[str, Any]:
    """The page `query` asks for: `leads` (the export's columns, times in `tz`), `next_cursor`
    (always: the position to ask from next, now or tomorrow) and `has_more` (whether more leads
    are visible right now). InvalidQuery for a cursor beyond what this database has committed,
    UnknownCampaign for a slug no campaign was ever added under (an archived one's leads stay)."""
    slug = query.where.campaign
    if slug is not None and not await postgres.campaigns.known(slug):
        raise UnknownCampaign(f"no campaign is called {slug!r}")
    horizon, rows = await postgres.readapi.leads_page(query.after, query.where.args(), query.limit + 1)
    if query.after[0] >= horizon:
        # Positions handed out are always under the horizon, which only grows: this one was made
        # elsewhere (another database, or one restored from a dump whose counter started anew).
        raise InvalidQuery("cursor", "is not from this database's history; start again without one")
    has_more = len(rows) > query.limit
    page = rows[: query.limit]
    if has_more:
        last = page[-1]
        cursor = encode_cursor(int(last["commit_xid"]), last["id"])
    else:
        cursor = encode_cursor(horizon - 1, LAST_ID)  # everything under the horizon is read
    return {
        "leads": [export.row(r, tz=tz) for r in page],
        "next_cursor": cursor,
        "has_more": has_more,
    }
