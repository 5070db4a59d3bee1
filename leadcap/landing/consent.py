"""The consent a campaign asks for: which text, in which language, under which version, and
whether a POST gave it. Plain functions of the campaign (leadcap/landing/campaign.py), so every
campaign a process serves gets the same rule.

A version is the SHA-256 of the language and the exact text shown (the first 16 bytes, in hex):
the same words in another language, or one letter changed, is another version. The server works
the version out from the text it served for the page's language, once per campaign load (a dict
lookup per POST, nothing when no consent is asked); the client only says yes.
"""

from __future__ import annotations

import hashlib

from leadcap.errors import ConsentRequired
from leadcap.landing.campaign import Campaign
from leadcap.lead import Consent


def version(lang: str, text: str) -> str:
    return hashlib.sha256(f"{lang}\n{text}".encode()).hexdigest()[:32]


def offered(campaign: Campaign) -> dict[str, Consent]:
    """The consent text per language the campaign asks for; empty when it asks for none."""
    return {
        lang: Consent(version(lang, words.consent), lang, words.consent)
        for lang, words in campaign.locales.items()
        if words.consent is not None
    }


def given(value: object) -> bool:
    """Whether a body's `consent` says yes: JSON `true` only (not "true", 1 or null); a form's
    checkbox arrives as the text "1"/"on"/…, which read_body turns into True first."""
    return value is True


def check(value: object, texts: dict[str, Consent], lang: str) -> Consent | None:
    """The consent a POST gave for the text shown in `lang`; None when the campaign asks for none.
    Raise ConsentRequired when it asks and the POST did not say yes."""
    if not texts:
        return None
    if not given(value):
        raise ConsentRequired("Please tick the box to agree before sending your number.")
    return texts[lang]  # a campaign that asks, asks in every language (campaign.py)
