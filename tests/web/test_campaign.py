"""The campaign file as the server reads it: copy per language, business hours, badge origins."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from leadcap.errors import ConfigError
from web import campaign


def default() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(campaign.DEFAULT_FILE.read_text(encoding="utf-8"))
    return data


def test_the_default_campaign_speaks_both_languages() -> None:
    shipped = campaign.load(None)
    fa, en = shipped.copy("fa"), shipped.copy("en")
    assert (fa.lang, fa.dir, en.lang, en.dir) == ("fa", "rtl", "en", "ltr")
    assert fa.headline != en.headline and fa.phone_display == "۰۲۱ ۹۱۰۰ ۱۲۳۴"
    assert shipped.image_origins == ()


def test_business_hours_become_a_sentence_in_each_language() -> None:
    shipped = campaign.load(None)
    assert shipped.copy("fa").call_back == (
        "کارشناسان ما شنبه تا چهارشنبه از ساعت ۹ تا ۱۷ و پنج‌شنبه از ساعت ۹ تا ۱۳ با شما تماس می‌گیرند."
    )
    assert shipped.copy("en").call_back == (
        "We will call you between 9:00 and 17:00, Saturday to Wednesday, "
        "and between 9:00 and 13:00, on Thursday."
    )


def test_persian_day_names_carry_their_zero_width_non_joiner() -> None:
    """«پنج‌شنبه», not «پنجشنبه»: a number word that would join the next letter is kept apart by
    a ZWNJ (U+200C), as in «سه‌شنبه»; «دو» and «چهار» end in letters that never join."""
    assert campaign.DAY_NAMES["fa"] == (
        "شنبه", "یک‌شنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنج‌شنبه", "جمعه",
    )  # fmt: skip


def test_days_that_are_not_a_run_are_listed() -> None:
    hours = (campaign.Hours((0, 2, 4), "08:30", "16:00"),)
    assert campaign.call_back_sentence(hours, "fa") == (
        "کارشناسان ما شنبه، دوشنبه و چهارشنبه از ساعت ۸:۳۰ تا ۱۶ با شما تماس می‌گیرند."
    )
    assert "on Saturday, Monday and Wednesday" in campaign.call_back_sentence(hours, "en")


def badge(image: str) -> dict[str, Any]:
    return {
        "image": image,
        "link": "https://seal.example/",
        "width": 90,
        "height": 90,
        "alt": {"fa": "نماد", "en": "seal"},
    }


def test_the_documented_example_allows_its_badges_through_the_csp() -> None:
    folder = campaign.DEFAULT_FILE.parent
    example = campaign.load(folder / "campaign.example.json", folder / "assets.example")
    assert example.data.logo is not None and example.data.logo.src == "/campaign-assets/logo.svg"
    assert example.image_origins == ("https://trustseal.enamad.ir", "https://logo.samandehi.ir")
    assert example.copy("fa").phone_display == "۰۵۱ ۳۸۰۰ ۱۲۳۴"
    assert "۸:۳۰ تا ۲۰" in example.copy("fa").call_back


def test_badge_images_are_the_only_extra_origins() -> None:
    data = default()
    data["badges"] = [
        badge("https://trustseal.enamad.ir/logo.aspx?id=1"),
        badge("https://logo.samandehi.ir/logo.aspx?id=2"),
        badge("https://trustseal.enamad.ir/other.png"),
    ]
    assert campaign.parse(data).image_origins == ("https://trustseal.enamad.ir", "https://logo.samandehi.ir")


def test_badge_origins_are_lowercased_with_their_port_and_local_images_add_none(tmp_path: Path) -> None:
    data = default()
    data["badges"] = [
        badge("https://Seal.Example.IR:8443/logo.png"),
        badge("https://seal.example.ir:8443/other.png#x"),
        badge("https://a-b.example?id=1"),
        badge("badge.svg"),  # a local file: served from 'self'
    ]
    (tmp_path / "badge.svg").write_text("<svg/>")
    assert campaign.parse(data, tmp_path).image_origins == (
        "https://seal.example.ir:8443",
        "https://a-b.example",
    )


@pytest.mark.parametrize(
    "image",
    [
        "https://*",
        "https://*.example.com/seal.png",
        "https://a.example;frame-src *",
        "https://a.example; script-src 'unsafe-inline'",
        "https://a.example frame-src/x.png",
        "https://a.example\x00/x.png",
        "https://a.example\t/x.png",  # urlsplit would quietly drop the tab
        "https://a.example\n/x.png",
        "https://user@a.example/x.png",
        "https://a.example:99999/x.png",
        "https://a.example:0/x.png",
        "https://a.example:/x.png",
        "https://a.example:80:80/x.png",
        "https://-a.example/x.png",
        "https://a..example/x.png",
        "https:///x.png",
        "https://[::1]/x.png",
        "https://a.example\\@evil.example/x.png",
        "http://a.example/x.png",
        "//a.example/x.png",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "badge\x07.svg",
    ],
)
def test_a_badge_image_that_could_rewrite_the_csp_is_refused(image: str) -> None:
    """Badge origins go into the CSP's img-src: only https://host[:port] may, never a wildcard,
    a `;` that starts another directive, a space, a user name or a control character."""
    data = default()
    data["badges"] = [badge("https://seal.example/ok.png"), badge(image)]
    with pytest.raises(ConfigError) as caught:
        campaign.parse(data)
    assert caught.value.variable == "LEADCAP_CAMPAIGN_FILE" and "badges.1.image" in caught.value.message


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["locales"]["fa"].pop("headline"), "locales.fa.headline"),
        (lambda d: d["locales"]["en"].update(cta="  "), "locales.en.cta"),
        (lambda d: d.update(hours=[{"days": ["sat"], "open": "9", "close": "17:00"}]), "hours.0.open"),
        (
            lambda d: d.update(hours=[{"days": ["someday"], "open": "09:00", "close": "17:00"}]),
            "hours.0.days",
        ),
        (lambda d: d.update(privacy_url="javascript:alert(1)"), "privacy_url"),
        (lambda d: d.update(badges=["nope"]), "badges.0"),
    ],
)
def test_a_bad_field_is_named(change: Any, named: str) -> None:
    data = copy.deepcopy(default())
    change(data)
    with pytest.raises(ConfigError) as caught:
        campaign.parse(data)
    assert caught.value.variable == "LEADCAP_CAMPAIGN_FILE" and named in caught.value.message


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "campaign.json"
    bad.write_text("{ not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="LEADCAP_CAMPAIGN_FILE"):
        campaign.load(bad)
