"""GET / (the landing page, from memory with an ETag), the hashed assets beside it and the
campaign's images (LEADCAP_ASSETS_DIR, under /campaign-assets/)."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sanic import Blueprint, Request, Sanic
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, empty, file, raw

from leadcap import slugs
from leadcap.campaign import visits
from leadcap.intake import clientip
from leadcap.landing.campaign import ASSETS_PATH, asset_file
from web import page, visitor
from web.campaign import Copy
from web.landing import LandingCache, Page, with_slug
from web.responses import PrebuiltResponse

bp = Blueprint("landing")


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison: a proxy that compresses (nginx's gzip) sends the tag back as W/"…"."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def count_visit(request: Request) -> bool:
    """One view for the campaign view's unique visitors: in memory, flushed to Redis later.
    Return whether it was counted."""
    visits = getattr(request.app.ctx, "visits", None)
    if visits is not None:
        settings = request.app.ctx.settings
        bucket = request.ip
        if settings.trusted_proxies or ":" in bucket:  # parsing costs ~5 µs: only when it can matter
            address = clientip.client_address(
                request.ip, request.headers.get("x-forwarded-for"), settings.trusted_proxies
            )
            bucket = clientip.bucket(address)
        visits.see(bucket, request.headers.get("user-agent", ""))
        return True
    return False


def mark_counted(request: Request, response: HTTPResponse) -> HTTPResponse:
    """Mark a browser whose view was counted, until this hour of LEADCAP_TIMEZONE ends. Its
    POST then carries the mark: a lead that came with a counted visit (the campaign view's
    conversion; an API client's lead has none). Behind an edge that serves the page
    (LEADCAP_EDGE_DIR), the mark also lets nginx answer this browser's next views in the hour:
    the hour's unique-visitor count already has it."""
    tz = request.app.ctx.visits.tz
    # Written out: Sanic's add_cookie cost several times this in a timeit. Not Secure: a
    # marker, not a credential, and the site may be served over http.
    response.headers.add(
        "Set-Cookie",
        f"{visits.COUNTED_COOKIE}=1; Max-Age={visits.seconds_left_in_hour(datetime.now(tz), tz)}; "
        "Path=/; HttpOnly; SameSite=Lax",
    )
    return response


@bp.route("/", methods=["GET", "HEAD"], name="page")  # type: ignore[untyped-decorator]
async def landing(request: Request) -> HTTPResponse:
    """The page; a browser without a valid visitor cookie gets one with its GET (web/visitor.py).
    A HEAD is no view, as for the visit count: it gets none."""
    response = await _landing(request)
    return visitor.give_cookie(request, response) if request.method == "GET" else response


async def _landing(request: Request) -> HTTPResponse:
    hosted = request.app.ctx.campaigns.for_host(request.host or "")
    if hosted is not None:  # `/` of a campaign's own host is that campaign's page
        return await serve_campaign(request, hosted)
    cache: LandingCache = request.app.ctx.landing
    copy = cache.campaign.copy(request.app.ctx.settings.locale)
    if (plain := step_page(request, copy, None)) is not None:
        return plain
    counted = request.method == "GET" and count_visit(request)
    current = await cache.current(request.app.ctx.services.redis)
    if cache.variant_pages:  # the default campaign's file has variants: this visitor's
        visitor_id = visitor.this_visitor(request)
        if (picked := cache.variant_page(visitor_id)) is not None:
            current = shown(request, slugs.DEFAULT, visitor_id, picked)
    return answer(request, current, counted)


@bp.route("/<slug:[a-z0-9-]{1,40}>/", methods=["GET", "HEAD"], name="campaign_page")  # type: ignore[untyped-decorator]
async def campaign_page(request: Request, slug: str) -> HTTPResponse:
    """A campaign's page (web/campaign_pages.py); 404 for a slug of no live campaign. Its GET
    gives the visitor cookie as `/` does."""
    response = await serve_campaign(request, slug)
    return visitor.give_cookie(request, response) if request.method == "GET" else response


async def serve_campaign(request: Request, slug: str) -> HTTPResponse:
    await request.app.ctx.landing.current(request.app.ctx.services.redis)  # a flushed build re-renders it
    found = request.app.ctx.campaign_pages.campaign(slug)
    if found is None:
        raise NotFound("no such page")
    chosen, current = found
    if (plain := step_page(request, chosen.copy(request.app.ctx.settings.locale), slug)) is not None:
        return plain
    if chosen.data.variants:  # this visitor's variant, from its cookie (minted now if it has none)
        visitor_id = visitor.this_visitor(request)
        picked = request.app.ctx.campaign_pages.variant_page(slug, visitor_id)
        if picked is not None:
            current = shown(request, slug, visitor_id, picked)
    return answer(request, current, request.method == "GET" and count_visit(request))


def shown(request: Request, slug: str, visitor_id: str, picked: tuple[str, Page]) -> Page:
    """The variant page picked for this visitor; a GET of it counts the visitor as shown that
    variant (in memory, flushed to Redis later: conversion per variant)."""
    name, chosen = picked
    counter = getattr(request.app.ctx, "variant_visits", None)
    if counter is not None and request.method == "GET":
        counter.see(slug, name, visitor_id)
    return chosen


def step_page(request: Request, copy: Copy, slug: str | None) -> HTTPResponse | None:
    """The plain page of a form posted without JavaScript: its code step (LEADCAP_VERIFY=sms),
    the end of it, or the thank-you; None for the page itself."""
    verify_id = request.args.get("verify")
    if verify_id is not None or request.args.get("verified") == "1":
        valid = verify_id is not None and _is_uuid(verify_id)
        body = page.render(copy, verify_id=verify_id if valid else None, verified=verify_id is None)
    elif request.args.get("submitted") == "1":
        body = page.render(copy, submitted=True)
    else:
        return None
    encoded = body.encode() if slug is None else with_slug(body.encode(), slug)
    return raw(encoded, content_type="text/html; charset=utf-8")


def answer(request: Request, current: Page, counted: bool) -> HTTPResponse:
    if matches(request.headers.get("if-none-match"), current.etag):
        response = empty(status=304, headers={"ETag": current.etag, "Cache-Control": "no-cache"})
    else:
        response = PrebuiltResponse(current.body, current.headers)
    return mark_counted(request, response) if counted else response


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


@bp.get("/fallback.css", name="fallback_css")
async def fallback_css(request: Request) -> HTTPResponse:
    return raw(
        page.FALLBACK_CSS.encode(),
        content_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


IMAGE_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
}
ASSET_HEADERS = {
    # Not hashed (a campaign may swap its logo under the same name): a short cache.
    "Cache-Control": "public, max-age=300",
    # An SVG opened on its own is a document of this origin: it may run nothing and load nothing.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
}


def serve_campaign_assets(app: Sanic[Any, Any], folder: Path) -> None:
    """The campaign's images from `folder`: only image files inside it (asset_file), 404 for
    anything else, however it is spelled."""

    async def campaign_asset(request: Request, name: str) -> HTTPResponse:
        try:
            found = asset_file(folder, name)
        except ValueError:
            raise NotFound("no such image") from None
        return await file(found, mime_type=IMAGE_TYPES[Path(name).suffix.lower()], headers=ASSET_HEADERS)

    app.add_route(
        campaign_asset, ASSETS_PATH + "<name:path>", methods=["GET", "HEAD"], name="campaign_assets"
    )
