"""The query string of `GET /api/v1/leads`, read as hostile input, and the opaque cursor.

Every parameter is checked before anything reaches PostgreSQL: an unknown or repeated parameter,
an unreadable date, a forged cursor or a limit out of range is InvalidQuery (400), a campaign
that does not exist UnknownCampaign (422); nothing a client sends can make a 500.

A cursor is a position in the order leads committed: the creating transaction's id (xid8) and
the lead's id, packed and base64url-encoded. It names no filter: it is meant for the filters it
was handed out with (docs/read-api.md).
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from leadcap.campaign import export
from leadcap.errors import InvalidQuery, UsageError
from leadcap.lead import STATUSES

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
PARAMETERS = ("since", "until", "status", "campaign", "cursor", "limit")
_MAX_VALUE = 64  # longer than any valid value of any parameter
_SLUG = re.compile(r"[a-z0-9-]{1,40}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_CURSOR = struct.Struct(">BQ16s")  # version, commit xid, lead id
_CURSOR_VERSION = 1
_XID8_MAX = 2**63 - 1  # PostgreSQL's xid8 holds 64 bits; no real transaction id comes near this
START = (0, uuid.UUID(int=0))  # before every lead
LAST_ID = uuid.UUID(int=2**128 - 1)  # after every lead of one transaction


@dataclass(frozen=True, slots=True)
class Query:
    where: export.Filters
    after: tuple[int, uuid.UUID]  # the position to read after: (commit xid, lead id)
    limit: int


def encode_cursor(xid: int, lead_id: uuid.UUID) -> str:
    packed = _CURSOR.pack(_CURSOR_VERSION, xid, lead_id.bytes)
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def decode_cursor(text: str) -> tuple[int, uuid.UUID]:
    """The position a cursor names; InvalidQuery for anything encode_cursor did not make."""
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        version, xid, raw = _CURSOR.unpack(packed)
    except (binascii.Error, ValueError, struct.error):
        raise InvalidQuery("cursor", "is not a cursor this API handed out") from None
    if version != _CURSOR_VERSION or xid > _XID8_MAX or encode_cursor(xid, uuid.UUID(bytes=raw)) != text:
        raise InvalidQuery("cursor", "is not a cursor this API handed out")
    return xid, uuid.UUID(bytes=raw)


def _single(args: Mapping[str, Sequence[str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, given in args.items():
        if name not in PARAMETERS:
            shown = _UNSAFE.sub("?", name[:32])  # a client's name goes into a sentence shown to people
            raise InvalidQuery(shown, f"is not one of {', '.join(PARAMETERS)}")
        if len(given) != 1:
            raise InvalidQuery(name, "is given more than once")
        if len(given[0]) > _MAX_VALUE:
            raise InvalidQuery(name, f"is longer than {_MAX_VALUE} characters")
        values[name] = given[0]
    return values


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidQuery("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def parse(args: Mapping[str, Sequence[str]], *, tz: tzinfo) -> Query:
    """The query a request's parameters ask for (dates in `tz`, as the export reads them)."""
    values = _single(args)
    campaign = values.get("campaign")  # absent: every campaign's leads
    if campaign is not None and not _SLUG.fullmatch(campaign):
        raise InvalidQuery("campaign", "must be a campaign's slug ([a-z0-9-], at most 40)")
    status = values.get("status")
    if status is not None and status not in STATUSES:
        raise InvalidQuery("status", f"must be one of {', '.join(STATUSES)}")
    try:
        since = values.get("since")
        until = values.get("until")
        where = export.Filters(
            since=export.parse_when(since, "since", tz=tz) if since is not None else None,
            until=export.parse_when(until, "until", tz=tz, end_of_day=True) if until is not None else None,
            status=status,
            campaign=campaign,
        )
    except UsageError as exc:
        problem = "must be today, yesterday, a date (2026-11-28) or an ISO time"
        raise InvalidQuery(exc.option, problem) from None
    cursor = values.get("cursor")
    return Query(where, decode_cursor(cursor) if cursor is not None else START, _limit(values.get("limit")))
