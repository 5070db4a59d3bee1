"""Request ids, security headers, metrics and request logs, around every request."""

from __future__ import annotations

import os
import random
import re
import time
from datetime import UTC, datetime
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from leadcap import clientip, logs
from leadcap.requestlog import ip_view
from leadcap.settings import Settings
from web import metrics
from web.responses import HTML_HEADERS, PrebuiltResponse

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# A page built with VITE_API_BASE_URL calls the API from another origin (LEADCAP_CORS_ORIGINS).
CORS_HEADERS = {
    "Vary": "Origin",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, X-Request-ID",
    "Access-Control-Expose-Headers": (
        "Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Request-ID"
    ),
    "Access-Control-Max-Age": "600",
}


def request_id(request: Request) -> str:
    """The request's id: the caller's if it is well-formed, otherwise a new one."""
    rid = getattr(request.ctx, "request_id", None)
    if rid is None:
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if _REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        request.ctx.request_id = rid
        logs.request_id.set(rid)
    return str(rid)


async def on_request(request: Request) -> None:
    request.ctx.started = time.perf_counter()
    request_id(request)


async def on_response(request: Request, response: BaseHTTPResponse) -> None:
    response.headers["X-Request-ID"] = request_id(request)
    prebuilt = isinstance(response, PrebuiltResponse)  # it carries the security headers already
    if not prebuilt:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    settings: Settings = request.app.ctx.settings
    origin = request.headers.get("origin")
    if origin and origin in settings.cors_origins and request.path.startswith("/api/"):
        response.headers.update(CORS_HEADERS)
        response.headers["Access-Control-Allow-Origin"] = origin
    if request.path.startswith("/assets/") and response.status == 200:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"  # names are hashed
    if not prebuilt and (response.content_type or "").startswith("text/html"):
        for name, value in getattr(request.app.ctx, "html_headers", HTML_HEADERS).items():
            response.headers.setdefault(name, value)
    started = getattr(request.ctx, "started", None)
    latency = time.perf_counter() - started if started else 0.0
    route = request.route.name.rsplit(".", 1)[-1] if request.route else "unmatched"
    count, timing = metrics.children(route, request.method, response.status)
    count.inc()
    timing.observe(latency)
    if request.path.startswith("/api/") or (
        route == "page" and random.random() < settings.request_log_landing_sample
    ):
        _log(request, response, settings, latency)


def _log(request: Request, response: BaseHTTPResponse, settings: Settings, latency: float) -> None:
    services = getattr(request.app.ctx, "services", None)
    if services is None:
        return
    address = getattr(request.ctx, "client", None) or clientip.client_address(
        request.ip, request.headers.get("x-forwarded-for"), settings.trusted_proxies
    )
    receipt = getattr(request.ctx, "receipt", None)
    doc: dict[str, Any] = {
        "time": datetime.now(UTC),
        "request_id": request_id(request),
        "method": request.method,
        "path": request.path,
        "status": response.status,
        "latency_ms": round(latency * 1000, 3),
        "client_ip": ip_view(address, settings.request_log_ip),
        "user_agent": request.headers.get("user-agent", "")[:256],
    }
    if receipt is not None and not receipt.honeypot:
        # A new submission's document names it (the worker logs its verdict under the same id);
        # a duplicate only points at the first one.
        doc["submission_id" if not receipt.duplicate else "duplicate_of"] = receipt.id
        doc["task_state"] = "done" if receipt.degraded else "queued"
    services.request_log.record(doc)


def install(app: Sanic[Any, Any]) -> None:
    app.register_middleware(on_request, "request")
    app.register_middleware(on_response, "response")
