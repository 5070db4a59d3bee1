"""The run-time page: the build's template filled with a campaign, every value escaped."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from leadcap.errors import ConfigError
from leadcap.landing import campaign as rules
from leadcap.landing import template

HOSTILE = "</script><script>alert(1)</script>\"' & <b>"
TEMPLATE = (
    "<title>⟦title⟧</title>"
    '<a href="⟦privacy_url⟧" title="⟦brand⟧">⟦brand⟧</a>'
    '⟦if:logo⟧<img src="⟦logo.src⟧">⟦else:logo⟧<svg/>⟦/if:logo⟧'
    "<ul>⟦each:benefits⟧<li>⟦if:benefit.icon=clock⟧C⟦/if:benefit.icon=clock⟧"
    "⟦if:benefit.icon=shield⟧S⟦/if:benefit.icon=shield⟧⟦benefit.title⟧</li>⟦/each:benefits⟧</ul>"
    "⟦if:badges⟧<ul>⟦each:badges⟧<li>⟦badge.alt⟧</li>⟦/each:badges⟧</ul>⟦/if:badges⟧"
    "<p>⟦hours⟧ ⟦phone.display⟧</p>"
    '<script id="campaign-data" type="application/json">⟦campaign.json⟧</script>'
)


def default() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(rules.DEFAULT_FILE.read_text(encoding="utf-8"))
    return data


def test_hostile_copy_is_escaped_in_text_attributes_and_the_json() -> None:
    data = default()
    data["locales"]["en"]["brand"] = HOSTILE
    data["locales"]["en"]["title"] = HOSTILE
    data["privacy_url"] = '/privacy"><script>alert(1)</script>'
    page = template.fill(TEMPLATE, rules.parse(data), "en")
    escaped = "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27; &amp; &lt;b&gt;"
    assert f"<title>{escaped}</title>" in page
    assert f'title="{escaped}">{escaped}</a>' in page
    assert 'href="/privacy&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    # Exactly one script element, closed where the template closes it, and the copy intact in it.
    assert page.count("<script") == 1 and page.count("</script>") == 1 and page.endswith("</script>")
    data_block = page[
        page.index('type="application/json">') + len('type="application/json">') : -len("</script>")
    ]
    assert "<" not in data_block and ">" not in data_block and "&" not in data_block
    assert json.loads(data_block)["locales"]["en"]["brand"] == HOSTILE


def test_sections_follow_the_campaign() -> None:
    data = default()
    data["locales"]["fa"]["benefits"] = [
        {"icon": "shield", "title": "یک", "text": "x"},
        {"icon": "clock", "title": "دو", "text": "y"},
    ]
    page = template.fill(TEMPLATE, rules.parse(data), "fa")
    assert "<ul><li>Sیک</li><li>Cدو</li></ul>" in page  # one item per benefit, its own icon
    assert "<svg/>" in page and "<img" not in page  # no logo: the icon
    assert page.count("<ul>") == 1  # no badges: no list at all
    assert (
        "<p>شنبه تا چهارشنبه\u00a0۹\u00a0تا\u00a0۱۷ · پنج‌شنبه\u00a0۹\u00a0تا\u00a0۱۳ ۰۲۱ ۹۱۰۰ ۱۲۳۴</p>"
        in page
    )


def test_a_logo_and_badges_from_the_assets_folder_and_https(tmp_path: Path) -> None:
    (tmp_path / "brand").mkdir()
    (tmp_path / "brand" / "logo mark.svg").write_text("<svg/>")
    data = default()
    data["logo"] = {"src": "brand/logo mark.svg", "width": 32, "height": 32}
    data["badges"] = [
        {"image": "https://seal.example/s.png", "link": "https://seal.example/", "width": 90, "height": 90,
         "alt": {"fa": "نماد", "en": "seal"}},
    ]  # fmt: skip
    shown = rules.parse(data, tmp_path)
    page = template.fill(TEMPLATE, shown, "en")
    assert '<img src="/campaign-assets/brand/logo%20mark.svg">' in page and "<svg/>" not in page
    assert "<ul><li>seal</li></ul>" in page
    assert shown.image_origins == ("https://seal.example",)


@pytest.mark.parametrize(
    "name",
    ["../outside.svg", "/etc/outside.svg", "inside/../../outside.svg", ".hidden.svg", "notes.txt",
     "missing.svg", "a\\..\\outside.svg", "link.svg", "", "dir/"],
)  # fmt: skip
def test_an_image_outside_the_assets_folder_is_refused(tmp_path: Path, name: str) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    (tmp_path / "outside.svg").write_text("<svg/>")
    (assets / ".hidden.svg").write_text("<svg/>")
    (assets / "notes.txt").write_text("x")
    os.symlink(tmp_path / "outside.svg", assets / "link.svg")  # a link that leaves the folder
    data = default()
    data["logo"] = {"src": name, "width": 32, "height": 32}
    with pytest.raises(ConfigError) as caught:
        rules.parse(data, assets)
    assert caught.value.variable == "LEADCAP_CAMPAIGN_FILE" and "logo.src" in caught.value.message
    with pytest.raises(ValueError):
        rules.asset_file(assets, name)


def test_a_local_image_needs_the_assets_folder() -> None:
    data = default()
    data["logo"] = {"src": "logo.svg", "width": 32, "height": 32}
    with pytest.raises(ConfigError, match="LEADCAP_ASSETS_DIR is not set"):
        rules.parse(data)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["locales"]["fa"].update(brand="a\x00b"), "locales.fa.brand holds a control character"),
        (lambda d: d["locales"]["en"].update(extra="x"), "locales.en.extra is not a campaign field"),
        (lambda d: d.update(colour="red"), "colour is not a campaign field"),
        (lambda d: d["locales"]["fa"].update(benefits=[]), "locales.fa.benefits must list 1 to 4"),
        (lambda d: d.update(logo={"src": "https://x.example/l.svg", "width": 0, "height": 1}), "logo.width"),
        (lambda d: d.update(hours=[{"days": ["sat"], "open": "17:00", "close": "09:00"}]), "hours.0.close"),
    ],
)
def test_a_bad_field_is_named(change: Any, named: str) -> None:
    data = default()
    change(data)
    with pytest.raises(ConfigError, match=named):
        rules.parse(data)


def test_a_template_from_another_build_is_a_template_error() -> None:
    with pytest.raises(template.TemplateError):
        template.fill("<p>⟦colour⟧</p>", rules.load(None), "fa")
    with pytest.raises(template.TemplateError):
        template.fill("⟦each:benefits⟧<li>", rules.load(None), "fa")
