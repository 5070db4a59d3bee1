"""The one place the LeadcapError family (and Sanic's own errors) become HTTP responses."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from sanic import Request, Sanic
from sanic import exceptions as sanic_errors
from sanic.response import HTTPResponse, html, json

from leadcap.errors import (
    InvalidBody,
    LeadcapError,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    StoreError,
    Unauthorized,
    Unavailable,
)
from leadcap.intake import submission
from leadcap.settings import Settings
from web import messages, page
from web.landing import with_slug
from web.state import state

log = logging.getLogger(__name__)

STATUS: dict[str, int] = {
    "invalid_body": 400,
    "invalid_query": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "unknown_campaign": 422,
    "forbidden_origin": 403,
    "invalid_credentials": 401,
    "csrf_failed": 403,
    "https_required": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "body_too_large": 413,
    "unsupported_media_type": 415,
    "missing_phone": 422,
    "invalid_phone": 422,
    "not_mobile": 422,
    "region_not_allowed": 422,
    "invalid_code": 422,
    "code_expired": 410,
    "too_many_attempts": 429,
    "rate_limited": 429,
    "unavailable": 503,
    "internal": 500,
}

# Sanic raises these before our handlers run (routing, HTTP parsing, timeouts). The first row whose
# class matches wins, so a subclass comes before its base (HeaderNotFound before BadRequest);
# sanic's InvalidUsage is BadRequest under another name, so BadRequest's row serves it.
_FROM_SANIC: list[tuple[type[Exception], LeadcapError]] = [
    (sanic_errors.NotFound, NotFound("There is nothing at this address.")),
    (sanic_errors.MethodNotAllowed, MethodNotAllowed("This method is not allowed here.")),
    (sanic_errors.PayloadTooLarge, submission.too_large()),
    (sanic_errors.HeaderNotFound, InvalidBody("A required header is missing.")),
    (sanic_errors.BadRequest, InvalidBody("The request could not be read.")),
    (sanic_errors.RequestTimeout, InvalidBody("The request took too long to arrive.")),
    (sanic_errors.ServiceUnavailable, Unavailable("The service is busy. Please try again shortly.")),
]


def translate(exc: Exception) -> LeadcapError:
    """The LeadcapError that stands for any exception (an unknown one is an internal error)."""
    if isinstance(exc, LeadcapError):
        return exc
    for kind, error in _FROM_SANIC:
        if isinstance(exc, kind):
            return error
    return LeadcapError("Something went wrong on our side. Please try again.")


def error_body(error: LeadcapError, lang: str) -> dict[str, object]:
    body: dict[str, object] = {"code": error.code, "message": messages.message(error, lang)}
    if error.field:
        body["field"] = error.field
    attempts_left = getattr(error, "attempts_left", None)
    if attempts_left is not None:  # invalid_code: the one error that carries another key
        body["attempts_left"] = attempts_left
    return {"error": body}


def render_error(request: Request, exc: Exception) -> HTTPResponse:
    """The contract's error: JSON, or the landing page again for a form post."""
    error = translate(exc)
    status = STATUS.get(error.code, 500)
    if status >= 500 and not isinstance(error, StoreError):
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    headers: dict[str, str] = {}
    current = state(request)
    quota = current.quota
    if quota is not None:
        headers.update(quota.headers())
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="leadcap"'
    if isinstance(error, RateLimited | Unavailable):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, MethodNotAllowed):
        allow = getattr(exc, "allowed_methods", None)
        if allow:
            headers["Allow"] = ", ".join(sorted(allow))
    settings: Settings = request.app.ctx.settings
    if request.path == "/admin" or request.path.startswith("/admin/"):
        from web.admin import routes as admin  # the admin's own pages, in the admin's language

        return admin.render_error(request, error, status, headers)
    if current.form:
        # The re-rendered page speaks the page's language, whatever the browser prefers, so the
        # sentence matches the copy around it.
        copy = request.app.ctx.landing.campaign.copy(settings.locale)
        found = (
            request.app.ctx.campaign_pages.campaign(current.campaign)
            if current.campaign != "default"
            else None
        )
        if found is not None:  # a campaign's form: its own page again, still posting its slug
            copy = found[0].copy(settings.locale)
        sentence = messages.message(error, settings.locale)
        # an error of the code step stays on the code step
        body = page.render(copy, error=sentence, verify_id=current.verify_id)
        if found is not None:
            body = with_slug(body.encode(), current.campaign).decode()
        return html(body, status=status, headers=headers)
    lang = messages.negotiate(request.headers.get("accept-language"), settings.locale)
    return json(error_body(error, lang), status=status, headers=headers, dumps=_dumps)


def _dumps(body: object) -> str:
    """UTF-8 as is: a Persian sentence escaped as \\uXXXX would be three times the bytes."""
    return orjson.dumps(body).decode()


def install(app: Sanic[Any, Any]) -> None:
    app.error_handler.add(Exception, render_error)
