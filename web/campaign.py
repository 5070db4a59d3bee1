"""The campaign file as the server needs it: copy for the server-rendered pages (the fallback page,
the no-JS thank-you and error pages) and the trust badges' image origins for the CSP.

The front-end build reads the same file (web/ui/scripts/campaign.mjs) and validates all of it,
failing the build on a bad file; here only the fields the server uses are read, and a bad one stops
the server with ConfigError naming LEADCAP_CAMPAIGN_FILE and the field. Without a file the
shipped default (web/campaign.default.json) is used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadcap.errors import ConfigError
from leadcap.settings import LOCALES

DEFAULT_FILE = Path(__file__).parent / "campaign.default.json"
VARIABLE = "LEADCAP_CAMPAIGN_FILE"
DAYS = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")  # the Iranian week starts on Saturday
DAY_NAMES = {
    # a ZWNJ (U+200C) keeps a number word that would join «شنبه» apart: سه‌شنبه, پنج‌شنبه
    "fa": ("شنبه", "یک‌شنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنج‌شنبه", "جمعه"),
    "en": ("Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
}
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass(frozen=True, slots=True)
class Hours:
    days: tuple[int, ...]  # indexes into DAYS
    open: str  # "HH:MM"
    close: str


@dataclass(frozen=True, slots=True)
class Copy:
    """What the server-rendered pages say in one language."""

    lang: str
    dir: str
    brand: str
    title: str
    headline: str
    supporting: str
    cta: str
    company: str
    address: str
    phone_tel: str
    phone_display: str
    privacy_url: str
    call_back: str  # "We will call you between 9:00 and 17:00, Saturday to Wednesday."


@dataclass(frozen=True, slots=True)
class Campaign:
    copies: dict[str, Copy]
    image_origins: tuple[str, ...]  # where trust-badge images come from (the CSP's img-src)

    def copy(self, lang: str) -> Copy:
        return self.copies[lang]


def _digits(text: str, lang: str) -> str:
    return text.translate(_PERSIAN_DIGITS) if lang == "fa" else text


def _clock(hhmm: str, lang: str) -> str:
    """'09:00' → '۹' in Persian (minutes only when there are some), '9:00' in English."""
    hour, minute = hhmm.split(":")
    if lang == "fa":
        return _digits(str(int(hour)) + ("" if minute == "00" else f":{minute}"), lang)
    return f"{int(hour)}:{minute}"


def _days(days: tuple[int, ...], lang: str) -> str:
    names = DAY_NAMES[lang]
    if len(days) == 1:
        return names[days[0]]
    if len(days) > 2 and list(days) == list(range(days[0], days[-1] + 1)):
        return (
            f"{names[days[0]]} تا {names[days[-1]]}"
            if lang == "fa"
            else f"{names[days[0]]} to {names[days[-1]]}"
        )
    head, last = [names[d] for d in days[:-1]], names[days[-1]]
    return f"{'، '.join(head)} و {last}" if lang == "fa" else f"{', '.join(head)} and {last}"


def call_back_sentence(hours: tuple[Hours, ...], lang: str) -> str:
    """What happens next, from the business hours, in the visitor's language."""
    if lang == "fa":
        parts = [
            f"{_days(h.days, lang)} از ساعت {_clock(h.open, lang)} تا {_clock(h.close, lang)}" for h in hours
        ]
        return f"کارشناسان ما {' و '.join(parts)} با شما تماس می‌گیرند."
    parts = []
    for h in hours:
        on = "on " if len(h.days) == 1 or " to " not in _days(h.days, lang) else ""
        parts.append(f"between {_clock(h.open, lang)} and {_clock(h.close, lang)}, {on}{_days(h.days, lang)}")
    return f"We will call you {', and '.join(parts)}."


def _field(data: Any, path: str) -> Any:
    value: Any = data
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise ConfigError(VARIABLE, f"has no {path}")
        value = value[key]
    return value


def _text(data: Any, path: str) -> str:
    value = _field(data, path)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(VARIABLE, f"{path} must be non-empty text")
    return value.strip()


def _link(data: Any, path: str) -> str:
    """A link the page may carry: https://, http:// or a path on this site (never javascript:)."""
    value = _text(data, path)
    if not value.startswith(("https://", "http://", "/")) or value.startswith("//"):
        raise ConfigError(VARIABLE, f"{path} must be an https:// address or a /path, got {value!r}")
    return value


def _hours(data: Any) -> tuple[Hours, ...]:
    rows = _field(data, "hours")
    if not isinstance(rows, list) or not rows:
        raise ConfigError(VARIABLE, "hours must be a non-empty list")
    out = []
    for i, row in enumerate(rows):
        days = row.get("days") if isinstance(row, dict) else None
        if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
            raise ConfigError(VARIABLE, f"hours.{i}.days must list days among {', '.join(DAYS)}")
        times = [row.get("open"), row.get("close")]
        for k, t in zip(("open", "close"), times, strict=True):
            if not (isinstance(t, str) and len(t) == 5 and t[2] == ":" and t.replace(":", "").isdigit()):
                raise ConfigError(VARIABLE, f"hours.{i}.{k} must be a time like 09:00")
        out.append(Hours(tuple(sorted(DAYS.index(d) for d in days)), times[0], times[1]))
    return tuple(out)


# What a badge image's origin may be in the CSP's img-src: https://host[:port] and nothing else,
# so a campaign file cannot widen the policy (`https://*`) or start another directive (`;`).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HTTPS_ORIGIN = re.compile(
    rf"https://((?:{_LABEL}\.)*{_LABEL})(?::([0-9]{{1,5}}))?(?=[/?#]|$)", re.IGNORECASE
)
_URL_LIKE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)  # a scheme, or scheme-relative


def _origin(image: str, where: str) -> str | None:
    """The origin a badge image loads from (None for a local file, served from 'self');
    ConfigError for anything but https://host[:port]/…"""
    if any(ord(c) < 32 or ord(c) == 127 for c in image):
        raise ConfigError(VARIABLE, f"{where} holds a control character")
    if not _URL_LIKE.match(image):
        return None  # a local image file of the build (web/ui/scripts/campaign.mjs checks it)
    found = _HTTPS_ORIGIN.match(image)
    port = found.group(2) if found else None
    if (
        found is None
        or any(c.isspace() for c in image)
        or "\\" in image
        or (port is not None and not 0 < int(port) < 65536)
    ):
        raise ConfigError(
            VARIABLE, f"{where} must be an https://host[:port]/… address or a local image file, got {image!r}"
        )
    return f"https://{found.group(1).lower()}" + (f":{int(port)}" if port else "")


def _origins(data: Any) -> tuple[str, ...]:
    badges = data.get("badges") or []
    if not isinstance(badges, list):
        raise ConfigError(VARIABLE, "badges must be a list")
    origins = []
    for i, badge in enumerate(badges):
        image = _text(badge, "image") if isinstance(badge, dict) else None
        if image is None:
            raise ConfigError(VARIABLE, f"badges.{i} must be an object")
        origin = _origin(image, f"badges.{i}.image")
        if origin is not None:
            origins.append(origin)
    return tuple(dict.fromkeys(origins))


def parse(data: Any) -> Campaign:
    """The server's view of a campaign document; raise ConfigError naming the bad field."""
    if not isinstance(data, dict):
        raise ConfigError(VARIABLE, "must hold a JSON object")
    hours = _hours(data)
    copies = {}
    for lang in LOCALES:
        base = f"locales.{lang}"
        copies[lang] = Copy(
            lang=lang,
            dir="rtl" if lang == "fa" else "ltr",
            brand=_text(data, f"{base}.brand"),
            title=_text(data, f"{base}.title"),
            headline=_text(data, f"{base}.headline"),
            supporting=_text(data, f"{base}.supporting"),
            cta=_text(data, f"{base}.cta"),
            company=_text(data, f"{base}.company"),
            address=_text(data, f"{base}.address"),
            phone_tel=_text(data, "phone.tel"),
            phone_display=_digits(_text(data, "phone.display"), lang),
            privacy_url=_link(data, "privacy_url"),
            call_back=call_back_sentence(hours, lang),
        )
    return Campaign(copies, _origins(data))


def load(path: Path | None) -> Campaign:
    """The campaign at `path` (LEADCAP_CAMPAIGN_FILE), or the shipped default."""
    source = path or DEFAULT_FILE
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(VARIABLE, f"cannot be read as JSON ({exc})") from None
    return parse(data)
