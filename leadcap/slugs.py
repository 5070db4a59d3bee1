"""What a campaign's slug may be (api.md "Campaigns"): `[a-z0-9-]{1,40}`, and none of the names
the site itself answers at its root. The SQL spells the shape again (migration 0013's CHECKs).

Reserved: every first path segment a route or the nginx edge serves (`api`, `admin`, `assets`,
`static`, `metrics`, `health`, `login`, `logout`, `leads`, `fallback.css`'s `fallback`, the
`.well-known` family, `campaign-assets`, `favicon`, `robots`, `sitemap`; a test holds every
route's first segment to this list), `default` (the LEADCAP_CAMPAIGN_FILE
campaign's slug), and names kept for what a site usually grows (`www`, `app`, `docs`, `status`…),
so a campaign can never shadow a page the site already has or will need.
"""

from __future__ import annotations

import re

DEFAULT = "default"  # the campaign of LEADCAP_CAMPAIGN_FILE: never a row, always live
SHAPE = re.compile(r"[a-z0-9-]{1,40}")
RESERVED = frozenset(
    {
        DEFAULT,
        "admin", "api", "assets", "static", "metrics", "health", "login", "logout", "leads",
        "fallback", "favicon", "robots", "sitemap", "well-known", "acme-challenge", "campaign-assets",
        "edge-health", "www", "app", "docs", "status", "auth", "account", "verify", "campaigns",
        "index", "null", "undefined",
    }
)  # fmt: skip
UNKNOWN = "This form belongs to no running campaign."


def well_formed(slug: str) -> bool:
    """Whether `slug` has a slug's shape (it may still be reserved, or name no campaign)."""
    return SHAPE.fullmatch(slug) is not None


def problem(slug: str) -> str | None:
    """Why `slug` cannot name a new campaign, or None when it can."""
    if not well_formed(slug):
        return "must be 1 to 40 of a-z, 0-9 and -"
    if slug in RESERVED:
        return f"{slug!r} is reserved (the site uses it)"
    return None


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}")


def host_problem(host: str) -> str | None:
    """Why `host` cannot be a campaign's own host name (a lowercase DNS name with a dot, no port,
    no scheme), or None when it can."""
    if len(host) > 253 or HOST.fullmatch(host) is None:
        return "must be a lowercase host name such as spring.example.com (no scheme, port or path)"
    return None


# A campaign variant's name (leadcap/landing/campaign.py checks the file; the intake checks a
# queued message against it): what a lead records and a report shows.
VARIANT_NAME = re.compile(r"[a-z0-9-]{1,20}")
