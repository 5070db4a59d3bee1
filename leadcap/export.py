"""Exporting leads: stable columns, formula-safe cells, streamed from a server-side cursor."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

import orjson

from leadcap.errors import ConfigError
from leadcap.sql import query
from leadcap.stores.postgres import Postgres, translated

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
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "verified_at",  # when the lead's SMS code came back (LEADCAP_VERIFY=sms), else empty
)
FREE_TEXT = frozenset({"source", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"})
FORMATS = ("csv", "jsonl")
STATUSES = ("new", "contacted", "qualified", "converted", "rejected", "unverified", "verified")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None

    def args(self) -> tuple[Any, ...]:
        return (self.since, self.until, self.status)


def parse_when(text: str, option: str, *, end_of_day: bool = False, today: date | None = None) -> datetime:
    """`today`, `yesterday`, a date (`2026-11-28`) or an ISO time, as an aware UTC datetime.
    A day given as the end of a range includes that whole day."""
    today = today or datetime.now(UTC).date()
    named = {"today": today, "yesterday": today - timedelta(days=1)}
    try:
        if text in named or len(text) == 10:
            day = named.get(text) or date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            option, f"must be today, yesterday, a date (2026-11-28) or an ISO time, got {text!r}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def filters(since: str | None, until: str | None, status: str | None) -> Filters:
    if status is not None and status not in STATUSES:
        raise ConfigError("--status", f"must be one of {', '.join(STATUSES)}, got {status!r}")
    return Filters(
        since=parse_when(since, "--since") if since else None,
        until=parse_when(until, "--until", end_of_day=True) if until else None,
        status=status,
    )


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ConfigError("--format", f"must be csv or jsonl, got {fmt!r}")


def safe_cell(value: str) -> str:
    """Prefix `'` to a cell a spreadsheet would read as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One lead as export values: ISO 8601 UTC times, strings, formula-safe free text."""
    out: dict[str, Any] = {}
    for column in COLUMNS:
        value = record[column]
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        elif value is not None and column in ("id",):
            value = str(value)
        if column in FREE_TEXT and isinstance(value, str):
            value = safe_cell(value)
        out[column] = value
    return out


async def count(postgres: Postgres, where: Filters) -> int:
    async with translated("counting leads"):
        return int(await postgres.pool.fetchval(query("count_leads"), *where.args()))


async def stream(
    postgres: Postgres, where: Filters, *, prefetch: int = 2000
) -> AsyncIterator[dict[str, Any]]:
    """Every matching lead, read through a server-side cursor: memory stays flat at any size."""
    async with (
        translated("exporting leads"),
        postgres.pool.acquire() as conn,
        conn.transaction(readonly=True),
    ):
        async for record in conn.cursor(query("export_leads"), *where.args(), prefetch=prefetch):
            yield row(dict(record.items()))


class Writer:
    """CSV (with a header) or JSON Lines onto a text stream."""

    def __init__(self, fmt: str, out: TextIO) -> None:
        check_format(fmt)
        self.fmt = fmt
        self.out = out
        self._csv = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n") if fmt == "csv" else None
        if self._csv:
            self._csv.writeheader()

    def write(self, values: dict[str, Any]) -> None:
        if self._csv:
            self._csv.writerow(values)
        else:
            self.out.write(orjson.dumps(values).decode() + "\n")


def render(fmt: str, rows: list[dict[str, Any]]) -> str:
    """All rows as one string (for tests and small exports)."""
    buffer = io.StringIO()
    writer = Writer(fmt, buffer)
    for values in rows:
        writer.write(values)
    return buffer.getvalue()
