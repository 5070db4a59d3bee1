"""The text of a notification, as plain functions: the phone masked, visitor text made safe, the
time in the zone with a Solar Hijri date in Persian, the /admin/ link, and a grouped message
that always fits a Bot API message."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from leadcap.notify import message
from leadcap.notify.message import Event, Style

TEHRAN = ZoneInfo("Asia/Tehran")
DATA = {
    "id": "01938a7e-0000-7000-8000-000000000001",
    "phone": "+989123456789",
    "source": "instagram",
    "utm_source": "ig",
    "utm_medium": "cpc",
    "first_submitted_at": "2026-11-28T21:00:00.000000+00:00",  # 00:30 on 1405/09/08 in Tehran
    "last_submitted_at": "2026-11-28T21:00:00.000000+00:00",
}
FA = Style("fa", TEHRAN, "IR")
EN = Style("en", TEHRAN, "IR")


def test_one_lead_in_persian_masked_with_a_solar_hijri_time() -> None:
    text = message.one(Event("lead.created", DATA), FA)
    assert "سرنخ تازه" in text and "default" in text
    assert "۰۹۱۲ *** ۶۷۸۹" in text
    assert "۳۴۵" not in text and "345" not in text  # the middle digits never show
    assert "۱۴۰۵/۰۹/۰۸ ۰۰:۳۰" in text
    assert "instagram" in text and "source=ig, medium=cpc" in text
    assert "/admin/" not in text  # no LEADCAP_PUBLIC_URL, no link


def test_one_lead_in_english_international_and_linked() -> None:
    style = Style("en", TEHRAN, "IR", public_url="https://leads.example.com/")
    text = message.one(Event("lead.verified", DATA), style)
    assert text.startswith("Phone verified")
    assert "+98 912 *** 6789" in text
    assert "2026-11-29 00:30" in text
    assert (
        "https://leads.example.com/admin/leads?since=2026-11-29&until=2026-11-29"
        "#lead-01938a7e-0000-7000-8000-000000000001"
    ) in text


def test_full_phone_only_when_asked() -> None:
    full = Style("en", TEHRAN, "IR", full_phone=True)
    assert "+98 912 345 6789" in message.one(Event("lead.created", DATA), full)
    assert "345" not in message.one(Event("lead.created", DATA), EN)


def test_a_phone_that_does_not_parse_is_still_masked() -> None:
    assert "+12" not in message.masked_phone("+12", EN)
    assert "5550100" not in message.masked_phone("5550100", EN)


def test_visitor_text_cannot_forge_lines_or_reorder_what_is_read() -> None:
    hostile = {**DATA, "source": "ads\nPhone: +98 912 345 6789\u202e\x1b[8m\x00", "utm_campaign": "x" * 500}
    text = message.one(Event("lead.created", hostile), EN)
    assert text.count("\n") == message.one(Event("lead.created", DATA), EN).count("\n")
    assert "\u202e" not in text and "\x1b" not in text and "\x00" not in text
    assert "x" * 64 not in text  # cut to MAX_FIELD
    assert message.clean("ad\u200cها") == "ad\u200cها"  # the zero-width non-joiner Persian needs stays


def test_many_leads_make_one_message_that_fits() -> None:
    long = {**DATA, "source": "s" * 200, **dict.fromkeys(message.UTM, "u" * 200)}
    style = Style("fa", TEHRAN, "IR", public_url="https://leads.example.com")
    text = message.many([Event("lead.created", long)] * message.MOST, style)
    assert len(text) <= message.MAX_CHARS
    assert text.startswith("۱۵ سرنخ")
    assert text.count("• ") == message.MOST
    assert "345" not in text and "۳۴۵" not in text
