"""GET /metrics: Prometheus text, only for addresses in LEADCAP_METRICS_ALLOW (others get 404)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from leadcap.errors import NotFound
from leadcap.intake import clientip
from leadcap.settings import Settings
from web import metrics

bp = Blueprint("metrics")


@bp.get("/metrics", name="metrics")
async def scrape(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    # The socket peer, never a forwarded address: a proxy in front must not open this up.
    peer = clientip.client_address(request.ip, None, ())
    if peer is None or not clientip.within(peer, settings.metrics_allow):
        raise NotFound("There is nothing at this address.")
    services = request.app.ctx.services
    body = await metrics.render(
        services.redis,
        multiprocess_mode=settings.web_workers > 1,
        sms_budget=settings.sms_budget if settings.verify == "sms" else None,
        more_redis=services.shards[1:],  # the other shards' queues
    )
    body += await metrics.webhooks(services.redis, services.postgres.webhooks)
    return raw(body, content_type=CONTENT_TYPE_LATEST)
