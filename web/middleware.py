"""Request ids, security headers and request logging, around every request."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from leadcap import clientip

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)
HTML_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def request_id(request: Request) -> str:
    """The request's id: the caller's if it is well-formed, otherwise a new one."""
    rid = getattr(request.ctx, "request_id", None)
    if rid is None:
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.ctx.request_id = rid
    return str(rid)


async def on_request(request: Request) -> None:
    request.ctx.started = time.perf_counter()
    request_id(request)


async def on_response(request: Request, response: BaseHTTPResponse) -> None:
    response.headers["X-Request-ID"] = request_id(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path.startswith("/assets/") and response.status == 200:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"  # names are hashed
    if (response.content_type or "").startswith("text/html"):
        for name, value in HTML_HEADERS.items():
            response.headers.setdefault(name, value)
    if request.path.startswith("/api/"):
        _log(request, response)


def _log(request: Request, response: BaseHTTPResponse) -> None:
    services = getattr(request.app.ctx, "services", None)
    if services is None:
        return
    started = getattr(request.ctx, "started", None)
    settings = request.app.ctx.settings
    address = clientip.client_address(
        request.ip, request.headers.get("x-forwarded-for"), settings.trusted_proxies
    )
    services.request_log.add(
        {
            "time": datetime.now(UTC),
            "request_id": request_id(request),
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3) if started else None,
            "client": clientip.bucket(address),
            "user_agent": request.headers.get("user-agent", "")[:256],
            "submission_id": getattr(request.ctx, "submission_id", None),
            "task_state": "queued" if getattr(request.ctx, "submission_id", None) else None,
        }
    )


def install(app: Sanic[Any, Any]) -> None:
    app.register_middleware(on_request, "request")
    app.register_middleware(on_response, "response")
