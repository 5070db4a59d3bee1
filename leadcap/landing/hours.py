"""Business hours in the visitor's language, and Persian digits: the footer's lines and the
"what happens next" sentence (web/ui/src/hours.ts says the same in the browser)."""

from __future__ import annotations

from leadcap.landing.campaign import Hours

DAY_NAMES = {
    # a ZWNJ (U+200C) keeps a number word that would join «شنبه» apart: سه‌شنبه, پنج‌شنبه
    "fa": ("شنبه", "یک‌شنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنج‌شنبه", "جمعه"),
    "en": ("Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
}
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
NBSP = "\u00a0"
WORD_JOINER = "\u2060"  # no break after the en dash of 9:00–17:00


def digits(text: str, lang: str) -> str:
    """ASCII digits as the visitor reads them: Persian digits in `fa`."""
    return text.translate(_PERSIAN_DIGITS) if lang == "fa" else text


def _clock(hhmm: str, lang: str) -> str:
    """'09:00' → '۹' in Persian (minutes only when there are some), '9:00' in English."""
    hour, minute = hhmm.split(":")
    if lang == "fa":
        return digits(str(int(hour)) + ("" if minute == "00" else f":{minute}"), lang)
    return f"{int(hour)}:{minute}"


def _days(days: tuple[int, ...], lang: str) -> tuple[str, bool]:
    """The days as words, and whether they are a run ("Saturday to Wednesday")."""
    names = DAY_NAMES[lang]
    if len(days) == 1:
        return names[days[0]], False
    if len(days) > 2 and list(days) == list(range(days[0], days[-1] + 1)):
        joiner = " تا " if lang == "fa" else " to "
        return f"{names[days[0]]}{joiner}{names[days[-1]]}", True
    head, last = [names[d] for d in days[:-1]], names[days[-1]]
    return (f"{'، '.join(head)} و {last}" if lang == "fa" else f"{', '.join(head)} and {last}"), False


def call_back_sentence(hours: tuple[Hours, ...], lang: str) -> str:
    """What happens next, from the business hours, in the visitor's language."""
    if lang == "fa":
        parts = [
            f"{_days(h.days, lang)[0]} از ساعت {_clock(h.open, lang)} تا {_clock(h.close, lang)}"
            for h in hours
        ]
        return f"کارشناسان ما {' و '.join(parts)} با شما تماس می‌گیرند."
    english = []
    for h in hours:
        days, run = _days(h.days, lang)
        english.append(
            f"between {_clock(h.open, lang)} and {_clock(h.close, lang)}, {'' if run else 'on '}{days}"
        )
    return f"We will call you {', and '.join(english)}."


def hours_lines(hours: tuple[Hours, ...], lang: str) -> list[str]:
    """One short line per row for the footer: "شنبه تا چهارشنبه ۹ تا ۱۷". The time range and the
    day before it hold together (no-break spaces, a word joiner after the dash)."""
    to = f"{NBSP}تا{NBSP}" if lang == "fa" else f"–{WORD_JOINER}"
    return [f"{_days(h.days, lang)[0]}{NBSP}{_clock(h.open, lang)}{to}{_clock(h.close, lang)}" for h in hours]
