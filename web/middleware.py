"""The middleware around every request: small functions with one job each.

Request: `start` makes the request's state (its id and start time). Response: `respond` (the id
header, security headers, CORS headers, asset caching, metrics) and the request log. Each reads what it
needs from the typed `RequestState` (web/state.py) and touches nothing the others own.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from leadcap.intake import clientip
from leadcap.ops.requestlog import ip_view
from leadcap.settings import Settings
from web import metrics
from web.responses import HTML_HEADERS, PrebuiltResponse
from web.state import state

# The request log keeps at most this much of a path, and every request no route matched (a 404,
# or a method a route refuses) under one name: a scanner's or an attacker's invented paths, each
# up to the 8 KB a request line may hold, would otherwise fill the log store.
LOG_PATH_MAX = 256
UNMATCHED = "unmatched"
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
    return state(request).request_id


def route_name(request: Request) -> str:
    """The matched route's short name, or one fixed name for every unmatched request."""
    return request.route.name.rsplit(".", 1)[-1] if request.route else UNMATCHED


async def start(request: Request) -> None:
    state(request)  # the id (also for the log lines the handler writes) and the start time


async def respond(request: Request, response: BaseHTTPResponse) -> None:
    """Every response's own headers and its metrics. One middleware calling plain functions:
    Sanic's cost per middleware was more than most of these jobs cost themselves."""
    current = state(request)
    response.headers["X-Request-ID"] = current.request_id
    security_headers(request, response)
    if request.path.startswith("/api/"):
        cors_headers(request, response)
    elif request.path.startswith("/assets/"):
        asset_caching(response)
    metrics.TALLY.request(
        route_name(request), request.method, response.status, time.perf_counter() - current.started
    )


def _html_headers(request: Request) -> dict[str, str]:
    """The app's own set, from the campaign the landing page serves now (it follows flush-cache)."""
    landing = getattr(request.app.ctx, "landing", None)
    return landing.html_headers if landing is not None else HTML_HEADERS


def security_headers(request: Request, response: BaseHTTPResponse) -> None:
    if isinstance(response, PrebuiltResponse):  # it carries the security headers already
        return
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if (response.content_type or "").startswith("text/html"):
        # The app's own set: the campaign file's badge origins widen the CSP's img-src.
        for name, value in _html_headers(request).items():
            response.headers.setdefault(name, value)


def cors_headers(request: Request, response: BaseHTTPResponse) -> None:
    """For an /api/ request from an origin LEADCAP_CORS_ORIGINS lists."""
    origin = request.headers.get("origin")
    if origin and origin in request.app.ctx.settings.cors_origins:
        response.headers.update(CORS_HEADERS)
        response.headers["Access-Control-Allow-Origin"] = origin


def asset_caching(response: BaseHTTPResponse) -> None:
    """For a /assets/ request."""
    if response.status == 200:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"  # names are hashed


async def request_log(request: Request, response: BaseHTTPResponse) -> None:
    """Every /api/ request, and a sample of landing-page views, to the request log."""
    settings: Settings = request.app.ctx.settings
    route = route_name(request)
    if request.path.startswith("/api/") or (
        route == "page" and random.random() < settings.request_log_landing_sample
    ):
        _log(request, response, settings, route)


def _log(request: Request, response: BaseHTTPResponse, settings: Settings, route: str) -> None:
    services = getattr(request.app.ctx, "services", None)
    if services is None:
        return
    current = state(request)
    address = current.client or clientip.client_address(
        request.ip, request.headers.get("x-forwarded-for"), settings.trusted_proxies
    )
    doc: dict[str, Any] = {
        "time": datetime.now(UTC),
        "request_id": current.request_id,
        "method": metrics.method_label(request.method),
        "path": request.path[:LOG_PATH_MAX] if route != UNMATCHED else UNMATCHED,
        "status": response.status,
        "latency_ms": round((time.perf_counter() - current.started) * 1000, 3),
        "client_ip": ip_view(address, settings.request_log_ip),
        "user_agent": request.headers.get("user-agent", "")[:256],
    }
    receipt = current.receipt
    if receipt is not None and not receipt.honeypot:
        # A new submission's entry names it (the worker logs its verdict under the same id);
        # a duplicate only points at the first one.
        doc["submission_id" if not receipt.duplicate else "duplicate_of"] = receipt.id
        doc["task_state"] = "done" if receipt.degraded else "queued"
    services.request_log.record(doc)


def install(app: Sanic[Any, Any]) -> None:
    app.register_middleware(start, "request")
    # The two are independent of one another (neither changes what the other reads), so the
    # order Sanic runs them in does not matter.
    for job in (respond, request_log):
        app.register_middleware(job, "response")
