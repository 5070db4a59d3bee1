"""POST /api/leads/{id}/verify and /resend: the code step of phone verification (LEADCAP_VERIFY=sms).

A handler counts the request in the client's windows (the lead POST's rule and limits, counted
apart: a visitor and its address's shared ceiling, or the address), reads the code and the
token (the body's `token`, else the no-JS page's cookie), calls the Verifier, renders. JSON gets
the contract's bodies; a form (the page without JavaScript) gets 303s back to the page's code step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl
from uuid import UUID

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json, redirect

from leadcap import slugs
from leadcap.errors import InvalidBody, LeadcapError, NotFound, RateLimited, StoreError, Unavailable
from leadcap.intake import submission
from leadcap.intake.visitor import scoped
from leadcap.settings import Settings
from leadcap.verification.verifier import ClientBudgets, Verifier
from web import code_cookie, metrics, visitor
from web.routes.leads import home, read_capped
from web.state import RequestState, state

bp = Blueprint("verify")
MAX_CODE = 32  # as docs/openapi.json says; longer is not a code at all


@asynccontextmanager
async def _stores_away() -> AsyncIterator[None]:
    """Redis or PostgreSQL failing: 503 unavailable with Retry-After (a code is kept for a retry)."""
    try:
        yield
    except Unavailable:
        raise
    except StoreError as exc:
        raise Unavailable("We cannot check codes right now. Please try again shortly.") from exc


async def _prepare(request: Request, lead_id: UUID) -> tuple[Verifier, ClientBudgets]:
    """The verifier and the client's SMS budgets, after counting this request (RateLimit-*
    headers) in the code step's own windows: the lead POST's rule and limits, counted apart."""
    verifier: Verifier | None = request.app.ctx.services.verifier
    current = state(request)
    current.form = _is_form(request)
    current.verify_id = str(lead_id)
    if verifier is None:
        raise NotFound("There is nothing at this address.")
    settings: Settings = request.app.ctx.settings
    client = visitor.who(request, settings)
    async with _stores_away():
        quota, limited = await request.app.ctx.services.intake.count(scoped(client.windows(settings), "v:"))
    if limited is not None:
        raise limited
    current.quota = quota
    return verifier, client.sms_budgets(settings)


def _quota_headers(current: RequestState) -> dict[str, str]:
    """The RateLimit-* headers of the count `_prepare` made."""
    return current.quota.headers() if current.quota is not None else {}


def _is_form(request: Request) -> bool:
    kind = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    return kind == submission.FORM


def read_fields(form: bool, body: bytes) -> dict[str, object]:
    """The fields of a JSON object or a form (an empty body has none); raise InvalidBody for any
    other shape, or a form that is not UTF-8 (even percent-encoded)."""
    if not body:
        return {}
    if form:
        try:
            text = body.decode("utf-8")
            return dict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"))
        except UnicodeDecodeError:
            raise InvalidBody("The form is not valid UTF-8.") from None
    return submission.json_object(body)


def read_code(fields: dict[str, object]) -> str:
    """The `code` field, a string of at most 32 characters; raise InvalidBody for any other
    shape. Its digits are judged by the Verifier, as one try."""
    code = fields.get("code")
    if not isinstance(code, str) or len(code) > MAX_CODE:
        raise InvalidBody('Send {"code": "12345", "token": "…"}.')
    return code


def read_token(request: Request, fields: dict[str, object]) -> str | None:
    """The `token` field, else the no-JS page's cookie; None when neither is there. A token of
    another JSON type is InvalidBody; whether a string is the lead's token, the Verifier judges."""
    token = fields.get("token")
    if token is None:
        return code_cookie.sent(request)
    if not isinstance(token, str):
        raise InvalidBody('Send the "token" of the first answer as a string.')
    return token


async def _fields(request: Request, form: bool) -> dict[str, object]:
    """The body's fields, read capped; 415 for a body that is neither JSON nor a form."""
    body = await read_capped(request, submission.MAX_BODY)
    if body and not form:
        submission.media_type(request.headers.get("content-type"))
    return read_fields(form, body)


def form_home(fields: dict[str, object]) -> str:
    """Where the code step of a form without JavaScript lands: the page of the campaign its form
    named (a well-formed slug; anything else is the default page, so no other path is reachable)."""
    campaign = fields.get("campaign")
    return home(campaign) if isinstance(campaign, str) and slugs.well_formed(campaign) else "/"


def _preflight() -> HTTPResponse:
    """A CORS preflight (a page built with VITE_API_BASE_URL); the middleware adds the headers.
    OPTIONS shares each route with POST: two routes on one dynamic path lose the Allow header
    of a 405 (sanic-routing), which the contract requires."""
    return empty(status=204, headers={"Allow": "POST, OPTIONS"})


@bp.route("/api/leads/<lead_id:uuid>/verify", methods=["POST", "OPTIONS"], stream=True, name="verify")  # type: ignore[untyped-decorator]
async def verify(request: Request, lead_id: UUID) -> HTTPResponse:
    if request.method == "OPTIONS":
        return _preflight()
    verifier, _ = await _prepare(request, lead_id)
    current = state(request)
    if not current.form:
        submission.media_type(request.headers.get("content-type"))  # 415 for anything but JSON/form
    fields = read_fields(current.form, await read_capped(request, submission.MAX_BODY))
    if form_home(fields) != "/":  # its errors re-render that campaign's code step
        current.campaign = str(fields["campaign"])
    code, token = read_code(fields), read_token(request, fields)
    try:
        async with _stores_away():
            result = await verifier.verify(str(lead_id), code, token)
    except LeadcapError as error:
        metrics.VERIFICATIONS.labels(error.code).inc()
        raise
    metrics.VERIFICATIONS.labels("verified").inc()
    headers = _quota_headers(current)
    if current.form:
        step = redirect(f"{form_home(fields)}?verified=1", status=303, headers=headers)
        return code_cookie.drop(request, step, str(lead_id))
    return json(result.body(), status=200, headers=headers)


@bp.route("/api/leads/<lead_id:uuid>/resend", methods=["POST", "OPTIONS"], stream=True, name="resend")  # type: ignore[untyped-decorator]
async def resend(request: Request, lead_id: UUID) -> HTTPResponse:
    if request.method == "OPTIONS":
        return _preflight()
    verifier, budgets = await _prepare(request, lead_id)
    fields = await _fields(request, state(request).form)
    token = read_token(request, fields)
    try:
        async with _stores_away():
            sent = await verifier.resend(str(lead_id), token, budgets)
    except RateLimited:
        metrics.VERIFICATIONS.labels("resend_too_early").inc()
        raise
    current = state(request)
    headers = _quota_headers(current)
    if current.form:
        home = form_home(fields)
        target = f"{home}?verify={lead_id}" if sent.available else f"{home}?submitted=1"
        return redirect(target, status=303, headers=headers)
    return json({"id": str(lead_id), **sent.body()}, status=202, headers=headers)
