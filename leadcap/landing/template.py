"""The landing page filled in at run time: the build's template with the campaign's copy in its
slots, so a new campaign needs no Node.js and no rebuild.

The build (web/ui/scripts/prerender.mjs) renders the page once per locale with slot markers in
place of the campaign's copy and writes `template.<locale>.html`. The markers are
`⟦name⟧` (a value), `⟦each:name⟧…⟦/each:name⟧` (repeated per item: benefits, badges) and
`⟦if:cond⟧…⟦else:cond⟧…⟦/if:cond⟧` (the logo or the icon, a benefit's icon, the badges' list);
`cond` is a name or `name=value`. Every value is HTML-escaped here the way React escapes it, so
the filled page is what React would have rendered for that campaign and the browser hydrates it
without a mismatch; the campaign itself goes into the page as JSON (with `<`, `>` and `&`
escaped, so no copy can close its <script>), for the client to hydrate from.

Filled once per start and per `flush-cache` (web/landing.py), never per request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any, Union

from leadcap.landing.campaign import DAYS, Campaign
from leadcap.landing.hours import digits, hours_lines

# A scope maps a slot to its escaped text, a condition to a bool, a section to its items.
Value = Union[str, bool, list["Scope"]]  # noqa: UP007 - a runtime alias: `|` cannot take the "Scope" string
Scope = Mapping[str, Value]

_SECTION = re.compile(r"⟦(each|if):([\w.=-]+)⟧")
_SLOT = re.compile(r"⟦([\w.=-]+)⟧")
_HOURS_SEPARATOR = " · "
_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


class TemplateError(ValueError):
    """The template and the filler disagree (a build from another version): never a campaign's fault."""


def template_file(dist: Path, locale: str) -> Path:
    return dist / f"template.{locale}.html"


def _condition(scope: Scope, cond: str) -> bool:
    name, _, wanted = cond.partition("=")
    value = scope.get(name)
    if wanted:
        return value == wanted
    return bool(value)


def _render(text: str, scopes: list[Scope]) -> str:
    """Expand sections (each, if/else), then fill slots, looking names up innermost scope first."""
    out: list[str] = []
    at = 0
    while (found := _SECTION.search(text, at)) is not None:
        out.append(_slots(text[at : found.start()], scopes))
        kind, name = found.groups()
        close = f"⟦/{kind}:{name}⟧"
        end = text.find(close, found.end())
        if end < 0:
            raise TemplateError(f"{found.group(0)} is never closed")
        body = text[found.end() : end]
        if kind == "each":
            items = _lookup(scopes, name)
            if not isinstance(items, list):
                raise TemplateError(f"{name} is not a list")
            out.extend(_render(body, [*scopes, item]) for item in items)
        else:
            then, _, otherwise = body.partition(f"⟦else:{name}⟧")
            out.append(_render(then if _condition(_merged(scopes), name) else otherwise, scopes))
        at = end + len(close)
    out.append(_slots(text[at:], scopes))
    return "".join(out)


def _merged(scopes: list[Scope]) -> dict[str, Value]:
    merged: dict[str, Value] = {}
    for scope in scopes:
        merged.update(scope)
    return merged


def _lookup(scopes: list[Scope], name: str) -> Value:
    for scope in reversed(scopes):
        if name in scope:
            return scope[name]
    raise TemplateError(f"the template has a slot the campaign does not fill: {name}")


def _slots(text: str, scopes: list[Scope]) -> str:
    def value(found: re.Match[str]) -> str:
        filled = _lookup(scopes, found.group(1))
        if not isinstance(filled, str):
            raise TemplateError(f"{found.group(1)} is not text")
        return filled

    return _SLOT.sub(value, text)


def page_data(campaign: Campaign, lang: str) -> dict[str, Any]:
    """What the page's script hydrates from, for one language (the build's pages carry the
    same shape: web/ui/scripts/prerender.mjs, pageData)."""
    words = campaign.locales[lang]
    logo = campaign.logo
    return {
        "phone": {"tel": campaign.phone_tel, "display": campaign.phone_display},
        "privacyUrl": campaign.privacy_url,
        "hours": [
            {"days": [DAYS[d] for d in h.days], "open": h.open, "close": h.close} for h in campaign.hours
        ],
        "logo": None if logo is None else {"src": logo.src, "width": logo.width, "height": logo.height},
        "badges": [
            {
                "src": b.image.src,
                "link": b.link,
                "width": b.image.width,
                "height": b.image.height,
                "alt": {lang: b.alt[lang]},
            }
            for b in campaign.badges
        ],
        "locales": {
            lang: {
                "brand": words.brand,
                "title": words.title,
                "description": words.description,
                "eyebrow": words.eyebrow,
                "headline": words.headline,
                "supporting": words.supporting,
                "cta": words.cta,
                "company": words.company,
                "address": words.address,
                "benefits": [{"icon": b.icon, "title": b.title, "text": b.text} for b in words.benefits],
                # absent when the campaign asks for none: the page stays as it was
                **({"consent": words.consent} if words.consent is not None else {}),
            }
        },
    }


def script_json(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no `</script>`, no `<!--`."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_ESCAPES)


def scope(campaign: Campaign, lang: str) -> dict[str, Value]:
    """Every slot of the template, escaped as React escapes text and attributes."""
    words = campaign.locales[lang]
    logo = campaign.logo
    top: dict[str, Value] = {
        "title": escape(words.title),
        "description": escape(words.description),
        "brand": escape(words.brand),
        "eyebrow": escape(words.eyebrow),
        "headline": escape(words.headline),
        "supporting": escape(words.supporting),
        "cta": escape(words.cta),
        "company": escape(words.company),
        "address": escape(words.address),
        "consent": words.consent is not None,  # the form's checkbox (leadcap/landing/consent.py)
        "consent.text": escape(words.consent or ""),
        "hours": escape(_HOURS_SEPARATOR.join(hours_lines(campaign.hours, lang))),
        "phone.tel": escape(campaign.phone_tel),
        "phone.display": escape(digits(campaign.phone_display, lang)),
        "privacy_url": escape(campaign.privacy_url),
        "logo": logo is not None,
        "logo.src": escape(logo.src) if logo else "",
        "logo.width": str(logo.width) if logo else "",
        "logo.height": str(logo.height) if logo else "",
        "benefits": [
            {"benefit.icon": b.icon, "benefit.title": escape(b.title), "benefit.text": escape(b.text)}
            for b in words.benefits
        ],
        "badges": [
            {
                "badge.src": escape(b.image.src),
                "badge.link": escape(b.link),
                "badge.width": str(b.image.width),
                "badge.height": str(b.image.height),
                "badge.alt": escape(b.alt[lang]),
            }
            for b in campaign.badges
        ],
        "campaign.json": script_json(page_data(campaign, lang)),
    }
    return top


def fill(template: str, campaign: Campaign, lang: str) -> str:
    """The page for `campaign` in `lang` from the build's template of that language."""
    return _render(template, [scope(campaign, lang)])


def render(dist: Path | None, campaign: Campaign, lang: str) -> bytes | None:
    """The filled page from the build in `dist`, or None when the build has no template."""
    if dist is None:
        return None
    try:
        template = template_file(dist, lang).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return fill(template, campaign, lang).encode()
