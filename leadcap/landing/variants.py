"""Which variant of a campaign's copy a visitor sees.

A visitor's variant is a pure function of the campaign's slug and the visitor cookie's id
(leadcap/intake/visitor.py): no state is stored, every web process answers the same, and the
server can derive it again at POST, so a form cannot claim a variant it was not shown. How sure a
team can be that one variant converts better: leadcap/campaign/intervals.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from leadcap.landing.campaign import Campaign, Variant

_PERSON = b"leadcap-variant\x00"


def choose(variants: tuple[Variant, ...], slug: str, visitor_id: str) -> Variant:
    """The variant this visitor keeps: a hash of slug and visitor id into the weights (64 bits,
    so the split's bias from the modulo is below 1e-15). `variants` must not be empty."""
    digest = hashlib.sha256(_PERSON + f"{slug}\x00{visitor_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % sum(v.weight for v in variants)
    for variant in variants:
        point -= variant.weight
        if point < 0:
            return variant
    raise AssertionError("unreachable: point < total weight")


def apply(campaign: Campaign, variant: Variant) -> Campaign:
    """The campaign as this variant's visitors see it: its copy over the campaign's."""
    locales = {}
    for lang, words in campaign.locales.items():
        texts = variant.texts.get(lang, {})
        locales[lang] = replace(
            words,
            headline=texts.get("headline", words.headline),
            supporting=texts.get("supporting", words.supporting),
            cta=texts.get("cta", words.cta),
        )
    return replace(campaign, locales=locales)
