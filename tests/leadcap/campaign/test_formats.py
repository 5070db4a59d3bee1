"""The campaign view's formatting rules, one by one: Persian digits and separators, Solar Hijri
dates and times in the admin's zone, phone numbers as a visitor writes them, and the day a
filter field's text names (hostile text included)."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcap.campaign import formats
from web.admin import filters

TEHRAN = ZoneInfo("Asia/Tehran")
# 20:45 UTC on 20 March 2026 is 00:15 on 21 March in Tehran (+03:30): Nowruz, 1 Farvardin 1405.
# In UTC it is still the last day of 1404, so a date written in the wrong zone changes year.
NOWRUZ = datetime(2026, 3, 20, 20, 45, tzinfo=UTC)


def test_numbers_use_persian_digits_and_separators() -> None:
    assert formats.number(1234567, "fa") == "۱٬۲۳۴٬۵۶۷"
    assert formats.number(1234567, "en") == "1,234,567"
    assert formats.number(0, "fa") == "۰"
    assert formats.number(None, "fa") == "—"
    assert formats.percent(0.125, "fa") == "۱۲٫۵٪"
    assert formats.percent(0.125, "en") == "12.5%"
    assert formats.percent(1.0, "fa") == "۱۰۰٫۰٪"
    assert formats.digits("14:05", "fa") == "۱۴:۰۵"


def test_dates_are_solar_hijri_in_persian() -> None:
    assert formats.day(date(2026, 11, 29), "fa") == "۱۴۰۵/۰۹/۰۸"
    assert formats.day(date(2026, 11, 29), "en") == "2026-11-29"
    assert formats.day(date(2025, 3, 20), "fa") == "۱۴۰۳/۱۲/۳۰"  # 1403 is a leap year: 30 Esfand
    assert formats.short_day(date(2026, 11, 29), "fa") == "۰۹/۰۸"
    assert formats.short_day(date(2026, 11, 29), "en") == "11-29"
    assert formats.long_day(date(2026, 11, 29), "fa") == "یک\u200cشنبه ۸ آذر ۱۴۰۵"
    assert formats.long_day(date(2026, 11, 29), "en") == "Sunday 29 November 2026"


def test_times_are_in_the_zone() -> None:
    assert formats.moment(NOWRUZ, TEHRAN, "fa") == "۱۴۰۵/۰۱/۰۱ ۰۰:۱۵"
    assert formats.moment(NOWRUZ, TEHRAN, "en") == "2026-03-21 00:15"
    assert formats.moment(NOWRUZ, UTC, "fa") == "۱۴۰۴/۱۲/۲۹ ۲۰:۴۵"


def test_report_labels_in_the_languages_calendar() -> None:
    assert formats.period("2026-11-29", "day", "fa") == "۱۴۰۵/۰۹/۰۸"
    assert formats.period("2026-11-29 14:00", "hour", "fa") == "۱۴۰۵/۰۹/۰۸ ۱۴:۰۰"
    assert formats.period("2026-11-29 14:00", "hour", "en") == "2026-11-29 14:00"


def test_phones_as_a_visitor_writes_them() -> None:
    assert formats.phone("+989123456789", "fa", "IR") == "۰۹۱۲ ۳۴۵ ۶۷۸۹"
    assert formats.phone("+989123456789", "en", "IR") == "+98 912 345 6789"
    # A number of another country than the default region keeps its country code.
    assert formats.phone("+447400123456", "fa", "IR") == "+۴۴ ۷۴۰۰ ۱۲۳۴۵۶"
    assert formats.phone("not a number", "fa", "IR") == "not a number"


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("۱۴۰۵/۰۹/۰۸", date(2026, 11, 29)),
        ("1405/09/08", date(2026, 11, 29)),
        ("١٤٠٥-٩-٨", date(2026, 11, 29)),  # Arabic-Indic digits, no zero padding
        ("1405.9.8", date(2026, 11, 29)),
        ("14050908", date(2026, 11, 29)),
        ("\u200e۱۴۰۵/۰۹/۰۸\u200f ", date(2026, 11, 29)),  # direction marks copied along
        ("۱۴۰۵/۰۱/۰۱", date(2026, 3, 21)),
        ("1403/12/30", date(2025, 3, 20)),  # leap year
        ("2026-11-29", date(2026, 11, 29)),  # a Gregorian year is read as Gregorian
        ("۲۰۲۶-۱۱-۲۹", date(2026, 11, 29)),
    ],
)
def test_filter_days_in_either_calendar_and_digit_set(typed: str, day: date) -> None:
    assert filters.parse_day(typed) == day


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "1404/12/30",  # 1404 is not a leap year
        "1405/13/01",
        "1405/00/10",
        "2026-02-30",
        "0000-01-01",
        "1405/09",
        "1405/09/08/01",
        "yesterday",
        "1405/09/08\x00",
        "１４０５/０９/０８",  # fullwidth digits are not taken for digits
        "1" * 10_000,
        "1405 / 09 / 08",
        "1e3/1/1",
        "-1405/09/08",
        "1405/09/08 12:00",
    ],
)
def test_hostile_filter_days_are_refused(typed: str) -> None:
    with pytest.raises(filters.BadDay):
        filters.parse_day(typed)


@given(st.text(max_size=80))
def test_any_text_is_a_day_or_a_bad_day(typed: str) -> None:
    with contextlib.suppress(filters.BadDay):
        filters.parse_day(typed)


def test_a_filter_reads_each_field_and_says_what_is_wrong() -> None:
    chosen = filters.read({"since": "۱۴۰۵/۰۱/۰۱", "until": "1405/01/01", "status": "new"}, TEHRAN)
    assert chosen.problems == {}
    assert chosen.where.since == datetime(2026, 3, 21, tzinfo=TEHRAN)
    assert chosen.where.until == datetime(2026, 3, 22, tzinfo=TEHRAN)  # the whole day included
    assert chosen.link() == {"status": "new", "since": "2026-03-21", "until": "2026-03-21"}

    wrong = filters.read(
        {"since": "1405/09/10", "until": "1405/09/08", "status": "sold", "source": "a\x00b"}, TEHRAN
    )
    assert wrong.problems == {"until": "day_order", "status": "bad_status", "source": "bad_text"}
    for far in ("9999-12-31", "1405/02/32"):
        assert filters.read({"until": far}, TEHRAN).problems == {"until": "bad_day"}
