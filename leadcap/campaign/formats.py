"""How /admin/ and the notifications write numbers, dates, times and phone numbers, in each language.

Persian (`fa`): Persian digits in every number, with the Persian separators (٬ between thousands,
٫ before decimals, ٪ after a percentage); dates in the Solar Hijri calendar, year first
(۱۴۰۵/۰۹/۰۸); phone numbers as a visitor in the default region writes them (۰۹۱۲ ۳۴۵ ۶۷۸۹).
English (`en`): ASCII digits, ISO dates (2026-11-29), phone numbers in international format.
Every time is shown in the zone it is given (LEADCAP_TIMEZONE), in both languages.

Plain functions of their arguments: the views call them, the tests check them one by one.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, tzinfo

import jdatetime
import phonenumbers

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# Persian's own separators (CLDR's for fa): the ASCII ones read as Latin punctuation in Persian text.
_PERSIAN_SEPARATORS = str.maketrans({",": "\u066c", ".": "\u066b"})
PERCENT_FA = "\u066a"
NONE = "—"
# A leads page formats 50 phones and times (~30 µs each, mostly libphonenumber and jdatetime);
# an operator reloading or paging back sees the same ones again. Bounded: at most ~1 MB.
SEEN = 4096


def digits(text: str, lang: str) -> str:
    """ASCII digits as the language writes them (Persian digits in `fa`)."""
    return text.translate(_PERSIAN_DIGITS) if lang == "fa" else text


def number(value: float | None, lang: str) -> str:
    """A count, rounded, with thousands separators: ۱٬۲۳۴ in `fa`, 1,234 in `en`."""
    if value is None:
        return NONE
    text = f"{value:,.0f}"
    return digits(text.translate(_PERSIAN_SEPARATORS), lang) if lang == "fa" else text


def percent(value: float | None, lang: str) -> str:
    """A fraction as a percentage with one decimal: ۱۲٫۵٪ in `fa`, 12.5% in `en`."""
    if value is None:
        return NONE
    if lang == "fa":
        return digits(f"{value * 100:.1f}".translate(_PERSIAN_SEPARATORS), lang) + PERCENT_FA
    return f"{value:.1%}"


def jalali(day: date) -> jdatetime.date:
    return jdatetime.date.fromgregorian(date=day)


def day(value: date, lang: str) -> str:
    """A calendar day: ۱۴۰۵/۰۹/۰۸ (Solar Hijri) in `fa`, 2026-11-29 in `en`."""
    if lang != "fa":
        return value.isoformat()
    j = jalali(value)
    return digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}", lang)


def short_day(value: date, lang: str) -> str:
    """A day within a chart's fortnight, month first: ۰۹/۰۸ in `fa`, 11-29 in `en`."""
    if lang != "fa":
        return f"{value:%m-%d}"
    j = jalali(value)
    return digits(f"{j.month:02d}/{j.day:02d}", lang)


def long_day(value: date, lang: str) -> str:
    """A day in words: یک‌شنبه ۸ آذر ۱۴۰۵ in `fa`, Sunday 29 November 2026 in `en`."""
    if lang != "fa":
        return f"{value:%A} {value.day} {value:%B %Y}"
    j = jalali(value)
    weekday = jdatetime.date.j_weekdays_fa[j.weekday()]  # jdatetime counts from Saturday
    month = jdatetime.date.j_months_fa[j.month - 1]
    return f"{weekday} {digits(str(j.day), lang)} {month} {digits(str(j.year), lang)}"


@functools.lru_cache(maxsize=SEEN)
def moment(at: datetime, tz: tzinfo, lang: str) -> str:
    """A point in time as the day and the minute in `tz`: ۱۴۰۵/۰۹/۰۸ ۰۰:۳۰ in `fa`."""
    local = at.astimezone(tz)
    return f"{day(local.date(), lang)} {digits(f'{local:%H:%M}', lang)}"


def period(label: str, by: str, lang: str) -> str:
    """A stats row's label (its day, `2026-11-29`, or hour, `2026-11-29 14:00`, already in the
    report's zone) in the language's calendar and digits."""
    when = day(date.fromisoformat(label[:10]), lang)
    return f"{when} {digits(label[11:16], lang)}" if by == "hour" else when


@functools.lru_cache(maxsize=SEEN)
def phone(e164: str, lang: str, region: str) -> str:
    """A lead's number as a visitor writes it: in `fa` the national format with Persian digits
    for a number of `region` (۰۹۱۲ ۳۴۵ ۶۷۸۹), else the international format (+98 912 345 6789).
    Anything that does not parse is shown as stored."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    national = lang == "fa" and phonenumbers.region_code_for_number(parsed) == region
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL if national else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return digits(phonenumbers.format_number(parsed, style), lang)
