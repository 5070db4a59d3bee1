"""`create_app(settings)`: the Sanic application factory. Each Sanic worker process builds its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sanic import Blueprint, Sanic

from leadcap import logs
from leadcap import settings as settings_module
from leadcap.campaign.outcomes import OutcomeCounter
from leadcap.campaign.visits import VariantVisits, VisitCounter
from leadcap.campaigns.registry import LiveCampaigns
from leadcap.errors import StoreError
from leadcap.intake import phone, visitor
from leadcap.landing.cache import ui_dist
from leadcap.ops import embedded
from leadcap.ops import health as health_module
from leadcap.ops.services import Services
from leadcap.readapi.limits import KeyLimiter, UsageCounter
from leadcap.settings import Settings
from web import errors, middleware
from web.admin import routes as admin_routes
from web.campaign_pages import CampaignPages
from web.landing import LandingCache
from web.metrics import LOGS_DROPPED, SMS_SENDS, MetricsFolder
from web.routes import health, landing, leads, metrics, readapi, verify

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Sanic[Any, Any]:
    """Build the app; Services open in `before_server_start`, once per worker process."""
    if settings is None:
        settings = embedded.discover(settings_module.load())
    logs.configure(settings.log_level)
    app = Sanic("leadcap", configure_logging=False)
    app.config.update(
        {
            "REQUEST_MAX_SIZE": 8192,  # nothing here takes more; POST /api/leads caps at 4 KiB
            "REQUEST_TIMEOUT": 10,  # a slow (slowloris) client is cut off after this
            "RESPONSE_TIMEOUT": 15,
            "KEEP_ALIVE_TIMEOUT": 15,
            "FALLBACK_ERROR_FORMAT": "json",
            "OAS": False,
            "MOTD": False,
            "ACCESS_LOG": False,
        }
    )
    app.ctx.settings = settings
    app.ctx.visitor_key = visitor.load_key(settings)  # the visitor cookie's: checked per request
    # The campaign (and the headers of every HTML page, from its images' origins) follows
    # `flush-cache`: read it from app.ctx.landing.campaign, never keep it.
    app.ctx.landing = LandingCache(
        ui_dist(settings),
        locale=settings.locale,
        region=settings.default_region,
        edge_dir=settings.edge_dir,
        campaign_file=settings.campaign_file,
        assets=settings.assets_dir,
    )
    app.ctx.campaigns = LiveCampaigns(None)  # every well-formed slug until the stores open
    app.ctx.campaign_pages = CampaignPages(app.ctx.landing, app.ctx.campaigns)
    app.ctx.health = health_module.CachedReport()  # per process: probes cost a check a second
    app.blueprint(Blueprint.group(leads.bp, health.bp, landing.bp, metrics.bp, verify.bp, readapi.bp))
    app.blueprint(admin_routes.bp)
    assets = ui_dist(settings) / "assets"
    if assets.is_dir():
        app.static("/assets", assets, name="assets")
    if settings.assets_dir is not None:
        landing.serve_campaign_assets(app, settings.assets_dir)
    errors.install(app)
    middleware.install(app)

    @app.before_server_start
    async def open_services(app: Sanic[Any, Any]) -> None:
        phone.warm_up({settings.default_region, *(settings.allowed_regions or ())})
        services = await Services.open(settings)
        services.request_log.on_drop = LOGS_DROPPED.inc
        services.request_log.start()
        if services.verifier is not None:
            services.verifier.on_send = lambda provider, outcome: SMS_SENDS.labels(provider, outcome).inc()
        app.ctx.services = services
        app.ctx.visits = VisitCounter(services.redis, timezone=settings.timezone)
        app.ctx.visits.start()
        app.ctx.variant_visits = VariantVisits(services.redis, timezone=settings.timezone)
        app.ctx.variant_visits.start()
        app.ctx.outcomes = OutcomeCounter(services.postgres)
        app.ctx.outcomes.start()
        app.ctx.api_limiter = KeyLimiter(services.redis, settings.api_rate_limit)
        app.ctx.api_uses = UsageCounter(services.postgres)
        app.ctx.api_uses.start()
        app.ctx.metrics_folder = MetricsFolder()
        app.ctx.metrics_folder.start()
        app.ctx.landing_follower = asyncio.create_task(app.ctx.landing.follow(services.redis))
        app.ctx.campaigns = LiveCampaigns(services.postgres.campaigns, app.ctx.landing.hosts_changed)
        app.ctx.campaign_pages = CampaignPages(app.ctx.landing, app.ctx.campaigns)
        with contextlib.suppress(TimeoutError):  # known before the first request, unless PostgreSQL is away
            await asyncio.wait_for(app.ctx.campaigns.refresh(), 3)
        app.ctx.campaigns_follower = asyncio.create_task(app.ctx.campaigns.follow())
        try:  # indexes are an optimisation: a MongoDB that is away must not stop the web tier
            await asyncio.wait_for(services.mongo.ensure_indexes(ttl_days=settings.request_log_ttl_days), 3)
        except (TimeoutError, StoreError) as exc:
            log.warning("request log indexes not ensured now: %s", exc)

    @app.after_server_stop
    async def close_services(app: Sanic[Any, Any]) -> None:
        for follower in (app.ctx.landing_follower, app.ctx.campaigns_follower):
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        await app.ctx.visits.close()
        await app.ctx.variant_visits.close()
        await app.ctx.outcomes.close()
        await app.ctx.api_uses.close()
        await app.ctx.metrics_folder.close()
        await app.ctx.services.close()

    return app
