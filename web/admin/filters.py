"""The leads filter of /admin/ as a person types it: status, source, campaign and a range of days.

Days are typed year first with `/`, `-` or `.` between the parts (or as eight digits), in ASCII,
Persian or Arabic-Indic digits. The year says the calendar: below 1700 it is a Solar Hijri year
(۱۴۰۵/۰۹/۰۸, as the Persian page asks), from 1700 a Gregorian one (2026-11-29, as the English
page's date field sends). The two never overlap for a lead (Solar Hijri 1700 is Gregorian 2321),
so a link keeps its meaning whichever language opens it, and a bookmarked ISO date still works in
Persian. Each range is of whole days in the admin's zone, `until` included.

A value that cannot be one is a problem of its field (shown beside it in the form, answered 400),
never an exception: the leads page is re-rendered with what was typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

import jdatetime

from leadcap import slugs
from leadcap.campaign import leadbook

FIELDS = ("status", "source", "campaign", "slug", "since", "until")  # slug: the campaign's own
DAYS = ("since", "until")
MAX_TYPED = 64  # longer than any day or filter value a person types
FIRST_GREGORIAN_YEAR = 1700
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_DAY = re.compile(r"(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|(\d{2})(\d{2}))", re.ASCII)


class BadDay(ValueError):
    """Typed text that is not a day of either calendar."""


def parse_day(text: str) -> date:
    """The Gregorian day that `text` names (see the module's docstring for the forms); BadDay
    otherwise. Invisible direction marks that copying from Persian text brings along are ignored."""
    if len(text) > MAX_TYPED:
        raise BadDay(text)
    cleaned = "".join(c for c in text if unicodedata.category(c) != "Cf").strip().translate(_DIGITS)
    found = _DAY.fullmatch(cleaned)
    if found is None:
        raise BadDay(text)
    year = int(found[1])
    month, day = (int(found[2]), int(found[3])) if found[2] else (int(found[4]), int(found[5]))
    try:
        if year < FIRST_GREGORIAN_YEAR:
            gregorian: date = jdatetime.date(year, month, day).togregorian()
            return gregorian
        return date(year, month, day)
    except (ValueError, OverflowError):
        raise BadDay(text) from None


def start_of(day: date, tz: tzinfo, *, end: bool = False) -> datetime:
    """The first instant of `day` in `tz`, or (`end`) of the day after it; BadDay past 9999."""
    try:
        return datetime.combine(day + timedelta(days=1 if end else 0), time(), tz)
    except OverflowError:
        raise BadDay(day.isoformat()) from None


@dataclass(frozen=True, slots=True)
class Filter:
    """What the form shows and the table reads. `typed`: each field as sent (capped), for the
    form; `days`: the days understood; `problems`: field → words.py key of what is wrong."""

    typed: dict[str, str]
    where: leadbook.Filters
    days: dict[str, date] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def link(self) -> dict[str, str]:
        """The filter for a link (next page, CSV, back): days as ISO dates, which every
        language reads the same."""
        kept = {k: v for k, v in self.typed.items() if k not in DAYS and v}
        return {**kept, **{k: d.isoformat() for k, d in self.days.items()}}


def _control(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def read(query: Mapping[str, str], tz: tzinfo) -> Filter:
    """The filter a query string asks for, with a problem for each field that cannot be used."""
    typed = {k: query[k] for k in FIELDS if query.get(k)}
    problems: dict[str, str] = {}
    status = typed.get("status")
    if status is not None and status not in leadbook.STATUSES:
        problems["status"] = "bad_status"
    for name in ("source", "campaign"):
        if _control(typed.get(name, "")):
            problems[name] = "bad_text"
    if typed.get("slug") and not slugs.well_formed(typed["slug"]):
        problems["slug"] = "bad_text"
    days: dict[str, date] = {}
    bounds: dict[str, datetime] = {}
    for name in DAYS:
        if name not in typed:
            continue
        try:
            days[name] = parse_day(typed[name])
            bounds[name] = start_of(days[name], tz, end=name == "until")
        except BadDay:
            problems[name] = "bad_day"
    if "since" in days and "until" in days and days["since"] > days["until"]:
        problems["until"] = "day_order"
    where = leadbook.Filters(
        status=None if "status" in problems else status,
        source=typed.get("source"),
        campaign=typed.get("campaign"),
        slug=None if "slug" in problems else typed.get("slug") or None,
        since=bounds.get("since"),
        until=bounds.get("until"),
    )
    return Filter(typed, where, days, problems)
