"""The text of a notification, as plain functions of the events it announces.

One lead: its campaign, its phone (masked unless the channel asked for it in full), its source
and UTM fields, its time in LEADCAP_TIMEZONE (a Solar Hijri date and Persian digits in `fa`), and
a link to it in /admin/ when LEADCAP_PUBLIC_URL is set. Several leads at once (a burst grouped
into one message): a count, then one line per lead.

Every free-text field came from a visitor: control characters and bidi overrides are taken out
(they could forge lines or reorder what a reader sees), and each is cut to a bounded length, so a
message always fits a Bot API message (4096 characters) and an email subject stays one line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlencode

from leadcap.campaign import formats

MAX_CHARS = 4096  # Telegram's (and Bale's) longest message
MAX_FIELD = 64  # a source or UTM value is cut to this
MOST = 15  # leads in one grouped message: 15 of the longest lines, links and all, fit MAX_CHARS
LTR = ("\u2066", "\u2069")  # isolate a phone or a link, left to right, inside Persian text
_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

WORDS = {
    "fa": {
        "lead.created": "سرنخ تازه",
        "lead.verified": "شماره تأیید شد",
        "many": "{n} سرنخ",
        "campaign": "کارزار",
        "phone": "تلفن",
        "source": "منبع",
        "time": "زمان",
        "open": "در پنل",
        "test": "پیام آزمایشی leadcap: این کانال کار می‌کند.",
    },
    "en": {
        "lead.created": "New lead",
        "lead.verified": "Phone verified",
        "many": "{n} leads",
        "campaign": "Campaign",
        "phone": "Phone",
        "source": "Source",
        "time": "Time",
        "open": "In /admin/",
        "test": "leadcap test message: this channel works.",
    },
}


@dataclass(frozen=True, slots=True)
class Style:
    """How a channel writes leads: its language, zone, default region and what it may show."""

    lang: str
    tz: tzinfo
    region: str
    full_phone: bool = False
    public_url: str | None = None

    def showing(self, *, full_phone: bool) -> Style:
        """The same style for a channel that did (or did not) ask for phones in full."""
        return replace(self, full_phone=full_phone)


@dataclass(frozen=True, slots=True)
class Event:
    type: str  # lead.created, lead.verified
    data: Mapping[str, Any]  # the webhook data: the lead's export columns, times in UTC


def clean(value: object, limit: int = MAX_FIELD) -> str:
    """A visitor's text made safe to show on one line: no control characters or bidi overrides
    (zero-width joiners, which Persian needs, stay), spaces collapsed, cut to `limit`."""
    text = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
        for c in str(value or "")
        if c not in _OVERRIDES
    )
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def masked_phone(e164: str, style: Style) -> str:
    """The phone as /admin/ writes it (national with Persian digits in `fa` for the default
    region, else international); unless `full_phone`, every digit but the first group (and the
    country code) and the last four is `*`: ۰۹۱۲ *** ۶۷۸۹, +98 912 *** 6789."""
    written = formats.phone(clean(e164, 32), style.lang, style.region)
    if not style.full_phone:
        groups = written.split(" ")
        head = 2 if groups[0].startswith("+") and len(groups) > 2 else 1
        kept, rest = " ".join(groups[:head]), " ".join(groups[head:])
        total = sum(c.isdigit() for c in rest)
        seen = 0
        hidden = []
        for c in rest:
            seen += c.isdigit()
            hidden.append("*" if c.isdigit() and seen <= total - 4 else c)
        written = f"{kept} {''.join(hidden)}" if rest else "*" * len(kept)
    return LTR[0] + written + LTR[1]


def when(data: Mapping[str, Any], style: Style) -> str:
    """The lead's time (its latest submission) in the zone: ۱۴۰۵/۰۹/۰۸ ۰۰:۳۰ in `fa`."""
    raw = data.get("verified_at") or data.get("last_submitted_at") or data.get("first_submitted_at")
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        return "—"
    return formats.moment(moment, style.tz, style.lang)


def link(data: Mapping[str, Any], style: Style) -> str | None:
    """The lead's row in /admin/ (its day's page, anchored on it), when the site's address is known."""
    if not style.public_url:
        return None
    try:
        moment = datetime.fromisoformat(str(data.get("first_submitted_at")))
    except ValueError:
        return None
    day = moment.astimezone(style.tz).date().isoformat()
    query = urlencode({"since": day, "until": day})
    return f"{style.public_url.rstrip('/')}/admin/leads?{query}#lead-{clean(data.get('id'), 40)}"


def utm(data: Mapping[str, Any]) -> str:
    """The UTM fields a lead came with, `medium=cpc, campaign=yalda`, or empty."""
    return ", ".join(f"{k[4:]}={clean(data[k])}" for k in UTM if data.get(k))


def one(event: Event, style: Style) -> str:
    """The message of one lead."""
    w, data = WORDS[style.lang], event.data
    lines = [
        f"{w.get(event.type, event.type)} · {w['campaign']}: {clean(data.get('campaign') or 'default', 40)}",
        f"{w['phone']}: {masked_phone(str(data.get('phone', '')), style)}",
    ]
    source = clean(data.get("source"))
    if source or utm(data):
        lines.append(f"{w['source']}: {' · '.join(p for p in (source, utm(data)) if p)}")
    lines.append(f"{w['time']}: {when(data, style)} ({style.tz})")
    url = link(data, style)
    if url:
        lines.append(f"{w['open']}: {url}")
    return "\n".join(lines)


def many(events: Sequence[Event], style: Style) -> str:
    """One message for several leads (a burst, grouped): a count, then a line per lead, cut to
    fit MAX_CHARS (what is cut is said)."""
    if len(events) == 1:
        return one(events[0], style)
    w = WORDS[style.lang]
    lines = [formats.digits(w["many"].format(n=len(events)), style.lang)]
    for event in events:
        data = event.data
        parts = [masked_phone(str(data.get("phone", "")), style), when(data, style)]
        if event.type != "lead.created":
            parts.insert(0, w.get(event.type, event.type))
        source = " ".join(p for p in (clean(data.get("source"), 32), utm(data)[:48]) if p)
        if source:
            parts.append(source)
        url = link(data, style)
        lines.append("• " + " · ".join(parts) + (f"\n  {url}" if url else ""))
    text = "\n".join(lines)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def subject(events: Sequence[Event], style: Style) -> str:
    """An email's subject, one line: `New lead · default`, or `12 leads`."""
    w = WORDS[style.lang]
    if len(events) != 1:
        return formats.digits(w["many"].format(n=len(events)), style.lang)
    first = events[0]
    return f"{w.get(first.type, first.type)} · {clean(first.data.get('campaign') or 'default', 40)}"


def test_text(style: Style) -> str:
    """What `notify test` sends."""
    return WORDS[style.lang]["test"]
