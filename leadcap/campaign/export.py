"""Exporting leads: stable columns, formula-safe cells, streamed from a server-side cursor.

Dates and times are read and written in one zone (`LEADCAP_TIMEZONE`, or `--tz`): `today` is
that zone's day, and each timestamp is ISO 8601 with that zone's offset. The Solar Hijri
columns are opt-in (`--calendar jalali`) so the default columns never change.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal, TextIO, get_args
from zoneinfo import ZoneInfo

import jdatetime
import orjson

from leadcap import slugs
from leadcap.errors import ConfigError, UsageError
from leadcap.lead import STATUSES, UTM_KEYS
from leadcap.settings import check_timezone
from leadcap.stores.postgres import Postgres

COLUMNS = (
    "id",
    "phone",
    "region",
    "carrier",
    "status",
    "submissions",
    "first_submitted_at",
    "last_submitted_at",
    "source",
    *(f"utm_{key}" for key in UTM_KEYS),
    "verified_at",  # when the lead's SMS code came back (LEADCAP_VERIFY=sms), else empty
    "campaign",  # the campaign's slug (`default`: LEADCAP_CAMPAIGN_FILE's); last, so no column moved
    "consent_version",  # the consent text its latest consenting submission agreed to, else empty
    "consent_at",  # that submission's time
    "variant",  # the campaign variant its first submission's visitor was shown (migration 0015), else empty
)
# Added after COLUMNS by `--calendar jalali`: the local date of each timestamp, YYYY-MM-DD.
JALALI_COLUMNS = ("first_submitted_jalali", "last_submitted_jalali")
FREE_TEXT = frozenset({"source", *(f"utm_{key}" for key in UTM_KEYS)})
# Each list of choices is declared once, as a type the CLI offers (and --help lists) as is.
Format = Literal["csv", "jsonl"]
Calendar = Literal["gregorian", "jalali"]
FORMATS: tuple[str, ...] = get_args(Format)
CALENDARS: tuple[str, ...] = get_args(Calendar)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Before a CSV's header when asked (`--bom`, /admin/'s CSV): without it Excel reads UTF-8 as the
# machine's legacy code page and shows Persian text as mojibake.
BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    campaign: str | None = None  # a slug

    def args(self) -> tuple[Any, ...]:
        return (self.since, self.until, self.status, self.campaign)


def zone(name: str, option: str = "--tz") -> ZoneInfo:
    """The zone a `--tz` value names; UsageError otherwise."""
    try:
        return ZoneInfo(check_timezone(name, option))
    except ConfigError as exc:
        raise UsageError(option, exc.message.removeprefix(option + " ")) from None


def parse_when(
    text: str, option: str, *, tz: tzinfo = UTC, end_of_day: bool = False, today: date | None = None
) -> datetime:
    """`today`, `yesterday`, a date (`2026-11-28`) or an ISO time, as an aware datetime. Days and
    times without an offset are in `tz`. A day given as the end of a range includes that whole day."""
    today = today or datetime.now(tz).date()
    named = {"today": today, "yesterday": today - timedelta(days=1)}
    try:
        if text in named or len(text) == 10:
            day = named.get(text) or date.fromisoformat(text)
            day += timedelta(days=1) if end_of_day else timedelta(0)
            moment = datetime(day.year, day.month, day.day, tzinfo=tz)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = moment.replace(tzinfo=tz) if moment.tzinfo is None else moment
        moment.astimezone(UTC)  # the store reads it in UTC: year 1 or 9999 may not fit there
    except (ValueError, OverflowError):
        raise UsageError(
            option, f"must be today, yesterday, a date (2026-11-28) or an ISO time, got {text!r}"
        ) from None
    return moment


def filters(
    since: str | None,
    until: str | None,
    status: str | None,
    *,
    tz: tzinfo = UTC,
    campaign: str | None = None,
) -> Filters:
    """The rows an export selects; UsageError naming the option on a bad value."""
    if status is not None and status not in STATUSES:
        raise UsageError("--status", f"must be one of {', '.join(STATUSES)}, got {status!r}")
    if campaign is not None and not slugs.well_formed(campaign):
        raise UsageError("--campaign", f"must be a campaign's slug ([a-z0-9-]{{1,40}}), got {campaign!r}")
    return Filters(
        since=parse_when(since, "--since", tz=tz) if since else None,
        until=parse_when(until, "--until", tz=tz, end_of_day=True) if until else None,
        status=status,
        campaign=campaign,
    )


def check_format(fmt: str, *, bom: bool = False) -> None:
    if fmt not in FORMATS:
        raise UsageError("--format", f"must be csv or jsonl, got {fmt!r}")
    if bom and fmt != "csv":
        raise UsageError("--bom", f"is for csv only: a {fmt} reader does not expect a byte-order mark")


def columns(calendar: str = "gregorian") -> tuple[str, ...]:
    return COLUMNS + JALALI_COLUMNS if calendar == "jalali" else COLUMNS


def safe_cell(value: str) -> str:
    """Prefix `'` to a cell a spreadsheet would read as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def jalali_date(moment: datetime, tz: tzinfo) -> str:
    """The Solar Hijri date of `moment` in `tz`, as YYYY-MM-DD (1405-09-08)."""
    day = jdatetime.date.fromgregorian(date=moment.astimezone(tz).date())
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


# How each column's value is written, decided once rather than per cell (a page of the read API
# writes 500 rows per request): a time in the zone, an id as text, free text formula-safe.
_TIME, _ID, _TEXT, _AS_IS = range(4)
_KINDS = tuple(
    (c, _TIME if c.endswith("_at") else _ID if c == "id" else _TEXT if c in FREE_TEXT else _AS_IS)
    for c in COLUMNS
)


def row(record: Mapping[str, Any], *, tz: tzinfo = UTC, calendar: str = "gregorian") -> dict[str, Any]:
    """One lead as export values: ISO 8601 times in `tz`, strings, formula-safe free text."""
    out: dict[str, Any] = {}
    for column, kind in _KINDS:
        value = record[column]
        if value is not None and kind != _AS_IS:
            if kind == _TIME:
                value = value.astimezone(tz).isoformat().replace("+00:00", "Z")
            elif kind == _ID:
                value = str(value)
            elif value.startswith(_FORMULA_START):
                value = "'" + value
        out[column] = value
    if calendar == "jalali":
        for column, source in zip(JALALI_COLUMNS, ("first_submitted_at", "last_submitted_at"), strict=True):
            moment = record[source]
            out[column] = jalali_date(moment, tz) if isinstance(moment, datetime) else None
    return out


async def count(postgres: Postgres, where: Filters) -> int:
    return await postgres.campaign.count_leads(where.args())


async def stream(
    postgres: Postgres,
    where: Filters,
    *,
    tz: tzinfo = UTC,
    calendar: str = "gregorian",
    prefetch: int = 2000,
) -> AsyncGenerator[dict[str, Any], None]:
    """Every matching lead, read through a server-side cursor: memory stays flat at any size."""
    async for record in postgres.campaign.export_cursor(where.args(), prefetch=prefetch):
        yield row(record, tz=tz, calendar=calendar)


class Writer:
    """CSV (with a header, after a byte-order mark if `bom`) or JSON Lines onto a text stream."""

    def __init__(
        self, fmt: str, out: TextIO, *, fieldnames: tuple[str, ...] = COLUMNS, bom: bool = False
    ) -> None:
        check_format(fmt, bom=bom)
        self.fmt = fmt
        self.out = out
        if bom:
            out.write(BOM)
        self._csv = csv.DictWriter(out, fieldnames=fieldnames, lineterminator="\n") if fmt == "csv" else None
        if self._csv:
            self._csv.writeheader()

    def write(self, values: dict[str, Any]) -> None:
        if self._csv:
            self._csv.writerow(values)
        else:
            self.out.write(orjson.dumps(values).decode() + "\n")
