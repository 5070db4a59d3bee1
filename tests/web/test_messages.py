"""Every error.message in both languages, and which language a request gets (no server needed)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcap.errors import BodyTooLarge, InvalidPhone, LeadcapError, RateLimited, Unavailable
from leadcap.settings import LOCALES
from web import messages
from web.errors import STATUS

PERSIAN_LETTERS = re.compile(r"[\u0600-\u06FF]")


@pytest.mark.parametrize("code", sorted(set(STATUS) | set(messages.CATALOGUE)))
def test_every_code_has_a_sentence_in_every_language(code: str) -> None:
    sentences = messages.CATALOGUE[code]
    assert set(sentences) == set(LOCALES)
    assert PERSIAN_LETTERS.search(sentences["fa"]), sentences["fa"]
    assert not PERSIAN_LETTERS.search(sentences["en"]), sentences["en"]
    assert not re.search(r"[0-9]", sentences["fa"].replace("JSON", "")), "Persian copy shows Persian digits"


def test_figures_are_filled_in_each_language() -> None:
    limited = RateLimited("raw english", retry_after=30)
    assert messages.message(limited, "en") == "Too many attempts. Please try again in 30 seconds."
    assert "۳۰ ثانیه" in messages.message(limited, "fa")
    assert "۴ کیلوبایت" in messages.message(BodyTooLarge("raw"), "fa")
    assert "4 KiB" in messages.message(BodyTooLarge("raw"), "en")
    assert "۷" in messages.message(Unavailable("raw", retry_after=7), "fa")


def test_a_phone_number_inside_persian_text_reads_left_to_right() -> None:
    sentence = messages.message(InvalidPhone("raw"), "fa")
    assert f"{messages.LRI}۰۹۱۲\u00a0۳۴۵\u00a0۶۷۸۹{messages.PDI}" in sentence


def test_an_example_number_never_breaks_across_lines() -> None:
    """Its groups are joined by no-break spaces (the browser test checks it at 1280 px)."""
    for lang in ("fa", "en"):
        sentence = messages.message(InvalidPhone("raw"), lang)
        assert messages.localise_digits("0912\u00a0345\u00a06789", lang) in sentence, lang


def test_an_unknown_code_keeps_its_own_sentence() -> None:
    class Future(LeadcapError):
        code = "not_in_the_catalogue"

    assert messages.message(Future("its own words"), "fa") == "its own words"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "fa"),
        ("", "fa"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("fa-IR,fa;q=0.9,en;q=0.8", "fa"),
        ("de-DE,de;q=0.9,en;q=0.5", "en"),
        ("de", "fa"),
        ("en;q=0", "fa"),
        ("en;q=0.2, fa;q=0.8", "fa"),
        ("fa;q=0.1, EN;q=0.9", "en"),
        ("*", "fa"),
        ("en;q=abc", "fa"),
        ("en;q=2", "fa"),
        (";;;,,,=", "fa"),
    ],
)
def test_accept_language_picks_a_supported_language(header: str | None, expected: str) -> None:
    assert messages.negotiate(header, "fa") == expected


def test_the_configured_locale_is_the_fallback() -> None:
    assert messages.negotiate("de", "en") == "en" and messages.negotiate(None, "en") == "en"


@given(st.text(max_size=300))
def test_any_accept_language_header_gives_a_supported_language(header: str) -> None:
    assert messages.negotiate(header, "fa") in LOCALES
