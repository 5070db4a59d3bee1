"""GET /api/v1/leads: the read API. A live key (401), its scope (403), its rate limit (429), then
the query (400/422) and one page of leads in commit order (leadcap/readapi/)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from leadcap.readapi import apikeys, pages, query
from leadcap.readapi.limits import KeyLimiter, Limited, UsageCounter
from leadcap.settings import Settings
from web import responses
from web.state import state

bp = Blueprint("readapi")


@bp.get("/api/v1/leads", strict_slashes=False, name="read_leads")
async def read_leads(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    postgres = request.app.ctx.services.postgres
    key = await apikeys.authenticate(postgres, request.headers.get("authorization"))
    uses: UsageCounter = request.app.ctx.api_uses
    uses.count(key.id)  # every request the key made, whatever it is answered
    apikeys.require(key, apikeys.READ_LEADS)
    limiter: KeyLimiter = request.app.ctx.api_limiter
    try:
        quota = await limiter.hit(key.id)
    except Limited as refused:
        state(request).quota = refused.quota  # the error handler adds RateLimit-* from it
        raise
    state(request).quota = quota
    asked = query.parse(request.get_args(keep_blank_values=True), tz=settings.tz)
    body = await pages.read(postgres, asked, tz=settings.tz)
    return responses.json_answer(body, quota.headers(), status=200)
