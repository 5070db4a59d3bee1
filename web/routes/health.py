"""GET /api/health/ (the stores and the workers, as the contract's JSON) and the orchestrator's
probes: /api/health/live and /api/health/ready (docs/kubernetes.md says how the manifests use them)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from leadcap.ops import health

bp = Blueprint("health")


@bp.get("/api/health", strict_slashes=False, name="health")
async def show(request: Request) -> HTTPResponse:
    cached: health.CachedReport = request.app.ctx.health  # one check a second per process
    report = await cached.get(request.app.ctx.services)
    return json(report, status=503 if report["status"] == "down" else 200)


@bp.get("/api/health/live", strict_slashes=False, name="live")
async def live(request: Request) -> HTTPResponse:
    """200 while this process answers at all: it touches no store, so a store outage never gets
    a web pod restarted (that would only add a cold start to the outage)."""
    return json({"status": "ok"})


@bp.get("/api/health/ready", strict_slashes=False, name="ready")
async def ready(request: Request) -> HTTPResponse:
    """200 while a POST would get its 202 durably, 503 otherwise. It reads the same cached report
    as /api/health/ (so probes add no store traffic of their own) and so answers within 2 s."""
    cached: health.CachedReport = request.app.ctx.health
    body = health.readiness(await cached.get(request.app.ctx.services))
    return json(body, status=200 if body["status"] == "ok" else 503)
