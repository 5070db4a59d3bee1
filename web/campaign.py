"""The campaign as the server's own pages need it: copy for the server-rendered pages (the
fallback page, the no-JS thank-you and error pages) and the images' origins for the CSP.

The file is read and checked by leadcap/landing/campaign.py (the one set of rules; a bad field
stops the server with ConfigError naming LEADCAP_CAMPAIGN_FILE and the field); without a file the
shipped default (web/campaign.default.json) is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadcap.landing import campaign as rules
from leadcap.landing.hours import DAY_NAMES, call_back_sentence, digits
from leadcap.settings import LOCALES

DEFAULT_FILE = rules.DEFAULT_FILE
VARIABLE = rules.VARIABLE
DAYS = rules.DAYS  # the Iranian week, from Saturday: the file's day names
Hours = rules.Hours
__all__ = [
    "DAY_NAMES",
    "DEFAULT_FILE",
    "VARIABLE",
    "Campaign",
    "Copy",
    "Hours",
    "call_back_sentence",
    "load",
    "parse",
]


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
    consent: str | None = None  # the text beside the form's checkbox; None: no consent asked


@dataclass(frozen=True, slots=True)
class Campaign:
    copies: dict[str, Copy]
    image_origins: tuple[str, ...]  # where the logo and trust badges come from (the CSP's img-src)
    data: rules.Campaign  # everything the file says (the landing page's template is filled from it)

    def copy(self, lang: str) -> Copy:
        return self.copies[lang]


def of(data: rules.Campaign) -> Campaign:
    copies = {}
    for lang in LOCALES:
        words = data.locales[lang]
        copies[lang] = Copy(
            lang=lang,
            dir="rtl" if lang == "fa" else "ltr",
            brand=words.brand,
            title=words.title,
            headline=words.headline,
            supporting=words.supporting,
            cta=words.cta,
            company=words.company,
            address=words.address,
            phone_tel=data.phone_tel,
            phone_display=digits(data.phone_display, lang),
            privacy_url=data.privacy_url,
            call_back=call_back_sentence(data.hours, lang),
            consent=words.consent,
        )
    return Campaign(copies, data.image_origins, data)


def parse(data: Any, assets: Path | None = None) -> Campaign:
    """The server's view of a campaign document; raise ConfigError naming the bad field."""
    return of(rules.parse(data, assets))


def load(path: Path | None, assets: Path | None = None) -> Campaign:
    """The campaign at `path` (LEADCAP_CAMPAIGN_FILE), or the shipped default."""
    return of(rules.load(path, assets))
