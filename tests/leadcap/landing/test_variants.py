"""Variants of a campaign's copy: the file's rules and the visitor's split."""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

import pytest

from leadcap.errors import ConfigError
from leadcap.landing import campaign as rules
from leadcap.landing import variants


def with_variants(rows: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(rules.DEFAULT_FILE.read_text(encoding="utf-8"))
    data["variants"] = rows
    return data


def copy(headline: str) -> dict[str, Any]:
    return {"fa": {"headline": headline + " fa"}, "en": {"headline": headline, "cta": headline + "!"}}


def test_a_file_with_variants_parses_names_weights_and_copy() -> None:
    found = rules.parse(with_variants([{**copy("A"), "weight": 3}, {**copy("B"), "name": "bold"}]))
    assert [(v.name, v.weight) for v in found.variants] == [("a", 3), ("bold", 1)]
    assert found.variants[0].texts["en"] == {"headline": "A", "cta": "A!"}
    assert rules.parse(with_variants(None)).variants == ()


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([copy(str(i)) for i in range(5)], "variants must list 2 to 4"),
        ([copy("A")], "variants must list 2 to 4"),
        ({"a": copy("A")}, "variants must list"),
        ([copy("A"), "B"], "variants.1 must be an object"),
        ([copy("A"), {**copy("B"), "weight": 0}], "variants.1.weight"),
        ([copy("A"), {**copy("B"), "weight": True}], "variants.1.weight"),
        ([copy("A"), {**copy("B"), "weight": 10**9}], "variants.1.weight"),
        ([copy("A"), {**copy("B"), "name": "a"}], "variants.1.name 'a' is used twice"),
        ([copy("A"), {**copy("B"), "name": "../x"}], "variants.1.name"),
        ([copy("A"), {**copy("B"), "name": 7}], "variants.1.name"),
        ([copy("A"), {**copy("B"), "color": "red"}], "variants.1.color is not a variant field"),
        ([copy("A"), {"en": {"headline": "B"}}], "variants.1.fa"),
        ([copy("A"), {**copy("B"), "en": {"brand": "x"}}], "variants.1.en.brand is not a variant field"),
        ([copy("A"), {**copy("B"), "en": {}}], "variants.1.en must change"),
        (
            [copy("A"), {**copy("B"), "en": {"headline": "</script>\x00"}}],
            "variants.1.en.headline holds a control",
        ),
        ([copy("A"), {**copy("B"), "en": {"cta": "x" * 3000}}], "variants.1.en.cta is too long"),
        ([copy("A"), {**copy("B"), "en": {"cta": ""}}], "variants.1.en.cta must be non-empty"),
    ],
)
def test_hostile_variant_files_are_refused_naming_the_field(rows: Any, field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.").replace("(", r"\(")):
        rules.parse(with_variants(rows))


def test_applying_a_variant_replaces_only_its_copy() -> None:
    found = rules.parse(with_variants([copy("A"), copy("B")]))
    seen = variants.apply(found, found.variants[1])
    assert seen.locales["en"].headline == "B" and seen.locales["en"].cta == "B!"
    assert seen.locales["fa"].headline == "B fa"
    assert seen.locales["fa"].cta == found.locales["fa"].cta  # not in the variant: unchanged
    assert seen.locales["en"].brand == found.locales["en"].brand


def test_a_fixed_split_over_1000_visitors_stays_within_its_binomial_bound() -> None:
    # Weights 1:3 over 1,000 random visitor ids: the count of "a" is Binomial(1000, 0.25),
    # sd = sqrt(1000 * 0.25 * 0.75) ≈ 13.7; 5 sd (±68) fails a correct split about once in
    # 1.7 million runs, while a split that ignores the weights (500) or inverts them (750) fails.
    found = rules.parse(with_variants([copy("A"), {**copy("B"), "weight": 3}]))
    counts = {"a": 0, "b": 0}
    for _ in range(1000):
        counts[variants.choose(found.variants, "spring", secrets.token_urlsafe(12)).name] += 1
    bound = 5 * math.sqrt(1000 * 0.25 * 0.75)
    assert abs(counts["a"] - 250) <= bound, counts


def test_an_even_split_of_four_stays_within_its_binomial_bound() -> None:
    found = rules.parse(with_variants([copy(n) for n in "ABCD"]))
    counts = dict.fromkeys("abcd", 0)
    for _ in range(1000):
        counts[variants.choose(found.variants, "spring", secrets.token_urlsafe(12)).name] += 1
    bound = 5 * math.sqrt(1000 * 0.25 * 0.75)
    assert all(abs(c - 250) <= bound for c in counts.values()), counts


def test_a_visitor_keeps_its_variant_and_campaigns_split_independently() -> None:
    found = rules.parse(with_variants([copy("A"), copy("B")]))
    ids = [secrets.token_urlsafe(12) for _ in range(200)]
    first = [variants.choose(found.variants, "spring", i).name for i in ids]
    assert first == [variants.choose(found.variants, "spring", i).name for i in ids]
    other = [variants.choose(found.variants, "webinar", i).name for i in ids]
    assert first != other  # the same visitors are not always in the same arm of every test
