"""GET /api/health/: the stores and the workers, as the contract's JSON."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from leadcap import health

bp = Blueprint("health")


@bp.get("/api/health", strict_slashes=False, name="health")
async def show(request: Request) -> HTTPResponse:
    cached: health.CachedReport = request.app.ctx.health  # one check a second per process
    report = await cached.get(request.app.ctx.services)
    return json(report, status=503 if report["status"] == "down" else 200)
