"""Which browser requests come from another site's page, judged by `Origin` and `Sec-Fetch-Site`.

A third-party page can make its visitors' browsers post our form (a plain HTML form needs no
CORS), spreading invented submissions over many real addresses and past the per-IP rate limit.
Browsers say where a request comes from; non-browser clients usually say nothing and are judged
as any other request.

The page's own site is the one the request was sent to: the `Host` header, which the visitor's
browser sets and a third-party page cannot change. It needs no setting, so it holds on every
address a deployment answers on (localhost, a staging name, the public name). Hosts are compared
without ports: behind nginx, `Host` is `$host`, which drops the port, and a site does not depend
on the port. Pages elsewhere are allowed by listing them in LEADCAP_CORS_ORIGINS.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit


def _hostname(netloc: str) -> str | None:
    try:
        return urlsplit("//" + netloc).hostname  # lowercased, IPv6 brackets and port removed
    except ValueError:  # a malformed IPv6 literal or port
        return None


def _origin_host(origin: str) -> str | None:
    try:
        parts = urlsplit(origin)
    except ValueError:
        return None
    return parts.hostname if parts.scheme in ("http", "https") else None


def foreign(
    *, origin: str | None, fetch_site: str | None, host: str | None, allowed: Collection[str]
) -> bool:
    """Whether a request comes from a page of another site that is not allowed to post here.

    An `Origin` that names a site decides alone: ours (the `Host`) or one of `allowed` passes,
    any other (or one that is not an http(s) origin at all) does not. Without such an Origin
    (absent, or `null`, which browsers send under strict referrer policies and from sandboxed
    frames), `Sec-Fetch-Site: cross-site` marks a third-party page.
    """
    if origin is not None and origin.strip().lower() != "null":
        candidate = origin.strip().lower().rstrip("/")
        if candidate in {o.lower().rstrip("/") for o in allowed}:
            return False
        own = _hostname(host) if host else None
        theirs = _origin_host(candidate)
        return own is None or theirs != own
    return (fetch_site or "").strip().lower() == "cross-site"
