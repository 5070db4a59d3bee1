"""`create_app(settings)`: the Sanic application factory. Each Sanic worker process builds its own."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sanic import Blueprint, Sanic

from leadcap import embedded, phone
from leadcap import settings as settings_module
from leadcap.services import Services
from leadcap.settings import Settings
from web import errors, middleware
from web.landing import LandingCache
from web.routes import health, landing, leads

log = logging.getLogger(__name__)
UI_DIST = Path(__file__).parent / "ui" / "dist"


def create_app(settings: Settings | None = None) -> Sanic[Any, Any]:
    """Build the app; Services open in `before_server_start`, once per worker process."""
    if settings is None:
        settings = embedded.discover(settings_module.load())
    app = Sanic("leadcap")
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
    app.ctx.landing = LandingCache(settings.ui_dist or UI_DIST)
    app.blueprint(Blueprint.group(leads.bp, health.bp, landing.bp))
    assets = (settings.ui_dist or UI_DIST) / "assets"
    if assets.is_dir():
        app.static("/assets", assets, name="assets")
    errors.install(app)
    middleware.install(app)

    @app.before_server_start
    async def open_services(app: Sanic[Any, Any]) -> None:
        phone.warm_up({settings.default_region, *(settings.allowed_regions or ())})
        app.ctx.services = await Services.open(settings)
        app.ctx.services.request_log.start()

    @app.after_server_stop
    async def close_services(app: Sanic[Any, Any]) -> None:
        await app.ctx.services.close()

    return app
