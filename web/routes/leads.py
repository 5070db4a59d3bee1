"""POST /api/leads/: read the body (capped), validate, hand it to the intake, answer."""

from __future__ import annotations

import asyncio
import dataclasses

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, redirect

from leadcap import slugs
from leadcap.campaign import visits
from leadcap.errors import (
    ForbiddenOrigin,
    InvalidBody,
    LeadcapError,
    RateLimited,
    RequestError,
    UnknownCampaign,
)
from leadcap.intake import origins, submission
from leadcap.intake.accept import Receipt
from leadcap.intake.submission import MAX_BODY, Submission
from leadcap.landing import consent, variants
from leadcap.settings import Settings
from leadcap.verification import codes
from leadcap.verification.verifier import ClientBudgets, Sent, Verifier
from web import code_cookie, metrics, responses, visitor
from web.state import state

bp = Blueprint("leads")
BODY_TIMEOUT_S = 5.0  # 4 KiB takes milliseconds; only a stalling client needs longer


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused by its declared length before reading, or as soon as it passes `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise submission.too_large(limit)
    if arrived(request.stream):  # nothing to wait for, so no timer to start and cancel
        return await _read(request, limit)
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):  # a trickling (slowloris) body is cut off
            return await _read(request, limit)
    except TimeoutError:
        raise InvalidBody("The request body took too long to arrive.") from None


def arrived(stream: object) -> bool:
    """Whether a fixed-length body already sits whole in Sanic's receive buffer (a small POST
    usually comes in the same packet as its headers), so reading it cannot wait on the client.
    Anything else (chunked, 100-continue, a body still in flight, another server's stream) is
    read under the timeout."""
    buffer = getattr(stream, "recv_buffer", None)
    left = getattr(stream, "request_bytes_left", None)
    return (
        buffer is not None
        and isinstance(left, int)
        and getattr(stream, "request_body", None) is True
        and not getattr(stream, "expecting_continue", True)
        and left <= len(buffer)
    )


async def _read(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while (chunk := await request.stream.read()) is not None:  # type: ignore[union-attr]
        size += len(chunk)
        if size > limit:
            raise submission.too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def parse(request: Request, settings: Settings) -> Submission:
    """Everything that can be decided in process; raise the RequestError to answer."""
    kind = submission.media_type(request.headers.get("content-type"))
    state(request).form = kind == submission.FORM
    if origins.foreign(
        origin=request.headers.get("origin"),
        fetch_site=request.headers.get("sec-fetch-site"),
        host=request.headers.get("host"),
        allowed=settings.cors_origins,
    ):
        raise ForbiddenOrigin("This form can only be sent from this site's own pages.")
    draft = submission.read_body(kind, await read_capped(request, MAX_BODY))
    state(request).campaign = draft.campaign
    if not request.app.ctx.campaigns.live(draft.campaign):  # in memory: no round trip
        raise UnknownCampaign(slugs.UNKNOWN)
    parsed = submission.validate(
        draft, default_region=settings.default_region, allowed_regions=settings.allowed_regions
    )
    # After the phone, before dedupe (the contract's order). The default campaign's texts were
    # worked out when its page was (web/landing.py): asking for none costs this one truth test.
    # Another campaign's come from the file its page was filled from (web/campaign_pages.py).
    texts = request.app.ctx.landing.consent
    offers = request.app.ctx.landing.campaign.data.variants
    if draft.campaign != slugs.DEFAULT:
        held = request.app.ctx.campaign_pages.campaign(draft.campaign)
        texts = consent.offered(held[0].data) if held is not None else {}
        offers = held[0].data.variants if held is not None else ()
    if offers and (visitor_id := visitor.visitor_id(request)) is not None:
        # The variant its visitor was shown, derived again from its cookie (never the form's word).
        parsed = dataclasses.replace(parsed, variant=variants.choose(offers, draft.campaign, visitor_id).name)
    if texts:
        given = consent.check(draft.consent, texts, settings.locale)
        parsed = dataclasses.replace(parsed, consent=given)
    return parsed


def rejected(request: Request, error: LeadcapError) -> LeadcapError:
    """The error to raise for the answer, counted by its code (metrics and the campaign view)."""
    metrics.TALLY.lead("rejected", error.code)
    if isinstance(error, RateLimited):
        count_outcome(request, "rate_limited", error.window)  # which window: visitor, shared, address
    else:
        count_outcome(request, "rejected", error.code)
    return error


def count_outcome(request: Request, outcome: str, code: str = "") -> None:
    """The answer, for the campaign view's counters (in memory, flushed to PostgreSQL later)."""
    counter = getattr(request.app.ctx, "outcomes", None)
    if counter is not None:
        counter.count(outcome, code)


@bp.options("/api/leads", strict_slashes=False, name="preflight")
async def preflight(request: Request) -> HTTPResponse:
    """A CORS preflight; the middleware adds the Access-Control headers for allowed origins."""
    return empty(status=204, headers={"Allow": "POST, OPTIONS"})


@bp.post("/api/leads", stream=True, strict_slashes=False, name="capture")
async def capture(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    current = state(request)
    client = visitor.who(request, settings)  # notes the client address for the request log
    windows = client.windows(settings)
    intake = request.app.ctx.services.intake
    try:
        parsed = await parse(request, settings)
    except RequestError as error:  # still counted: the rate limit counts every POST
        quota, limited = await intake.count(windows)
        current.quota = quota
        raise rejected(request, limited or error) from None
    if request.cookies.get(visits.COUNTED_COOKIE) == "1":  # sent from a page whose view was counted
        parsed = dataclasses.replace(parsed, visited=True)
    verifier: Verifier | None = request.app.ctx.services.verifier
    if verifier is not None:
        parsed = dataclasses.replace(parsed, verify=True)  # the worker writes the lead `unverified`
    outcome = await intake.accept(parsed, windows)
    current.quota = outcome.quota
    if isinstance(outcome.result, LeadcapError):
        raise rejected(request, outcome.result)
    receipt = outcome.result
    current.receipt = receipt
    # The metrics tell apart "accepted_direct": written straight to PostgreSQL while Redis was away.
    direct = receipt.outcome == "accepted" and receipt.degraded
    metrics.TALLY.lead("accepted_direct" if direct else receipt.outcome)
    count_outcome(request, receipt.outcome)
    headers = outcome.quota.headers()
    body = receipt.body()
    if verifier is not None:
        # Only now, with the submission queued (or written), may a code go out.
        sent = await verification(verifier, receipt, parsed, client.sms_budgets(settings))
        body.update(sent.body())
        if current.form and sent.available:
            step = redirect(f"{home(parsed.campaign)}?verify={receipt.id}", status=303, headers=headers)
            # the token rides in a cookie, never in the URL; a duplicate's answer has none to give
            return code_cookie.keep(request, step, receipt.id, sent.token) if sent.token else step
    if current.form:
        return redirect(f"{home(parsed.campaign)}?submitted=1", status=303, headers=headers)
    return responses.json_answer(body, headers, status=202)


def home(campaign: str) -> str:
    """Where a campaign's no-JS form lands back: its own page (`/` for the default campaign)."""
    return "/" if campaign == slugs.DEFAULT else f"/{campaign}/"


async def verification(
    verifier: Verifier, receipt: Receipt, parsed: Submission, budgets: ClientBudgets
) -> Sent:
    """The code step of a 202: sent now, as it stands for a duplicate, or not available. Every
    first answer carries a token (one that opens nothing where nothing was kept); a duplicate's
    never does: its id is answered to anyone who sends the same phone number."""
    if receipt.honeypot:  # a bot is told what a person would be told, and nothing is sent
        return Sent(
            True,
            expires_in=verifier.settings.verify_code_ttl_s,
            resend_in=verifier.settings.verify_resend_s,
            token=codes.new_token(),
        )
    if receipt.duplicate:  # sends nothing new
        return await verifier.state(receipt.id)
    if receipt.degraded:  # Redis is away: no code can be kept; the lead is captured all the same
        return Sent(False, token=codes.new_token())
    return await verifier.start(parsed, budgets)
