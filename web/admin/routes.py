"""/admin/ routes: sign-in, the overview, the leads table, status changes, erasure and the CSV.

Every page but the assets answers 404 while no admin user exists (`leadcap admin add-user`).
A handler checks the session, then the CSRF token of a form, then calls one leadcap function.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import io
import secrets
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, raw, redirect

from leadcap import slugs
from leadcap.campaign import admin_sessions, admin_users, export, leadbook, stats
from leadcap.campaign.admin_sessions import Session
from leadcap.errors import (
    CsrfRejected,
    HttpsRequired,
    InvalidCredentials,
    LeadcapError,
    NotFound,
    RateLimited,
)
from leadcap.intake import clientip
from leadcap.landing.cache import ui_dist
from leadcap.logs import mask_phone
from leadcap.privacy import erasure
from leadcap.settings import LOCALES, Settings
from web import https, messages
from web.admin import filters, views
from web.admin.words import WORDS

bp = Blueprint("admin", url_prefix="/admin")
SESSION_COOKIE = "leadcap_admin"
LOGIN_COOKIE = "leadcap_admin_login"  # the sign-in form's CSRF token, before any session exists
LANG_COOKIE = "leadcap_admin_lang"
USERS_KNOWN_S = 5.0  # "some user exists" is remembered this long per process
STATIC = {
    name: (Path(__file__).parent.joinpath("static", name).read_bytes(), kind)
    for name, kind in (
        ("admin.css", "text/css; charset=utf-8"),
        ("admin.js", "text/javascript; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),  # the landing page's icon: browsers stop asking for /favicon.ico
    )
}
NO_STORE = {"Cache-Control": "no-store"}
# Vazirmatn for the Persian pages, subset by the front-end build (web/ui/scripts/admin-font.mjs)
# into the build's admin/ folder; without a build the pages fall back to the system's fonts.
FONT = "vazirmatn.woff2"


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.ctx.settings
    return settings


def language(request: Request) -> str:
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LOCALES else settings_of(request).locale


def cookie(response: HTTPResponse, name: str, value: str, *, max_age: int | None = None) -> None:
    """HttpOnly; Secure; SameSite=Strict, and only for /admin."""
    response.add_cookie(
        name, value, path="/admin", httponly=True, secure=True, samesite="Strict", max_age=max_age
    )


def page(
    request: Request, body: str, *, status: int = 200, headers: dict[str, str] | None = None
) -> HTTPResponse:
    response = html(body, status=status, headers={**NO_STORE, **(headers or {})})
    if request.args.get("lang") in LOCALES:
        cookie(response, LANG_COOKIE, language(request), max_age=365 * 86400)
    return response


async def require_users(request: Request) -> None:
    """404 until the first user exists: an unused /admin/ shows nothing to a scanner."""
    ctx = request.app.ctx
    if getattr(ctx, "admin_users_until", 0.0) > time.monotonic():
        return
    if not await admin_users.exists(ctx.services.postgres):
        raise NotFound("There is nothing at this address.")
    ctx.admin_users_until = time.monotonic() + USERS_KNOWN_S


async def admit(request: Request) -> None:
    """What every /admin/ page checks first: some user exists (404 until then), and the browser
    can keep the `Secure` session cookie, that is it came over HTTPS or asked for a loopback name
    (web/https.py). Anywhere else the answer is a page that says sign-in needs HTTPS, never a
    form whose cookie the browser would drop; a password sent anyway is not even checked."""
    await require_users(request)
    if not (https.is_https(request) or https.loopback_host(request)):
        raise HttpsRequired("Sign-in needs HTTPS: open /admin/ at an https:// address.")


async def current_session(request: Request) -> Session | None:
    await admit(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    services = request.app.ctx.services
    idle_s = settings_of(request).admin_idle_minutes * 60
    session = await admin_sessions.resume(services.redis, token, idle_s=idle_s)
    if session is not None and session.password != await admin_users.current_password(
        services.postgres, session.user
    ):
        await admin_sessions.end(services.redis, token)  # the user was removed or has a new password
        return None
    return session


def check_csrf(request: Request, expected: str) -> None:
    sent = str(request.form.get("csrf", "")) if request.form else ""
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected("This form has expired. Please reload the page and send it again.")


def to_login() -> HTTPResponse:
    return redirect("/admin/login", status=303, headers=NO_STORE)


def bucket_of(request: Request) -> str:
    settings = settings_of(request)
    address = clientip.client_address(
        request.ip, request.headers.get("x-forwarded-for"), settings.trusted_proxies
    )
    return clientip.bucket(address)


@functools.lru_cache(maxsize=4)
def built_font(dist: Path) -> bytes | None:
    """The admin's font from a front-end build, read once per process."""
    try:
        return dist.joinpath("admin", FONT).read_bytes()
    except OSError:
        return None


@bp.get("/static/<name:str>", name="admin_static")
async def static(request: Request, name: str) -> HTTPResponse:
    cache = {"Cache-Control": "public, max-age=3600"}
    if name == FONT and (font := built_font(ui_dist(settings_of(request)))) is not None:
        return raw(font, content_type="font/woff2", headers=cache)
    if name not in STATIC:
        raise NotFound("There is nothing at this address.")
    body, kind = STATIC[name]
    return raw(body, content_type=kind, headers=cache)


@bp.get("/login", name="admin_login_form")
async def login_form(request: Request) -> HTTPResponse:
    await admit(request)
    token = secrets.token_urlsafe(32)
    response = page(request, views.login(language(request), token))
    cookie(response, LOGIN_COOKIE, token)
    return response


@bp.post("/login", name="admin_login")
async def login(request: Request) -> HTTPResponse:
    await admit(request)
    lang = language(request)
    services = request.app.ctx.services
    form: Any = request.form or {}
    name = str(form.get("name", ""))[:64].strip()
    password = str(form.get("password", ""))[:1024]
    fresh = secrets.token_urlsafe(32)

    def refused(error: LeadcapError, status: int, headers: dict[str, str] | None = None) -> HTTPResponse:
        response = page(
            request,
            views.login(lang, fresh, error=messages.message(error, lang), name=name),
            status=status,
            headers=headers,
        )
        cookie(response, LOGIN_COOKIE, fresh)
        return response

    expected = request.cookies.get(LOGIN_COOKIE, "")
    sent = str(form.get("csrf", ""))
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return refused(CsrfRejected("This form has expired."), 403)
    try:  # counted before the password is checked: parallel guesses cannot outrun the limit
        attempt = await admin_sessions.begin(services.redis, name, bucket_of(request))
    except RateLimited as error:
        return refused(error, 429, {"Retry-After": str(error.retry_after)})
    signed_in: str | None = None
    try:
        if name and password:
            signed_in = await admin_users.authenticate(services.postgres, name, password)
    finally:
        await admin_sessions.finish(services.redis, attempt, succeeded=signed_in is not None)
    if signed_in is None:
        return refused(InvalidCredentials("The user name or password is not right."), 401)
    if old := request.cookies.get(SESSION_COOKIE):
        await admin_sessions.end(services.redis, str(old))  # a new token at every sign-in
    token, _ = await admin_sessions.start(
        services.redis, name, signed_in, idle_s=settings_of(request).admin_idle_minutes * 60
    )
    response = redirect("/admin/", status=303, headers=NO_STORE)
    cookie(response, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@bp.post("/logout", name="admin_logout")
async def logout(request: Request) -> HTTPResponse:
    session = await current_session(request)
    if session is None:
        return to_login()
    check_csrf(request, session.csrf)
    await admin_sessions.end(request.app.ctx.services.redis, str(request.cookies.get(SESSION_COOKIE, "")))
    response = to_login()
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response


@bp.get("/", strict_slashes=False, name="admin_overview")
async def overview(request: Request) -> HTTPResponse:
    """The figures of the last 14 days, of every campaign or (`?slug=`) of one; a campaign with
    variants also gets its conversion per variant with the 95 % interval."""
    session = await current_session(request)
    if session is None:
        return to_login()
    lang = language(request)
    slug = str(request.args.get("slug", ""))[:64] or None
    if slug is not None and not slugs.well_formed(slug):
        return page(request, views.error(lang, 400, WORDS[lang]["bad_slug"]), status=400)
    settings = settings_of(request)
    tz = ZoneInfo(settings.timezone)
    services = request.app.ctx.services
    today = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = today + timedelta(days=1)
    since = today - timedelta(days=13)

    async def report(start: datetime, by: str, campaign: str | None = None) -> stats.Report:
        return await stats.report(
            services.postgres,
            services.redis,
            since=start,
            until=tomorrow,
            by=by,
            timezone=settings.timezone,
            campaign=campaign,
        )

    async def nothing() -> None:
        return None

    # The reports at once, each on its own pooled connection: the page waits for the slowest.
    # Sources and UTM values are counted for the site, not per campaign: none beside one campaign.
    days, hours, campaigns, sources, utm, variants = await asyncio.gather(
        report(since, "day", slug),
        report(today, "hour", slug),
        report(since, "campaign"),
        report(since, "source") if slug is None else nothing(),
        report(since, "utm_campaign") if slug is None else nothing(),
        report(since, "variant", slug) if slug is not None else nothing(),
    )
    live = sorted({slugs.DEFAULT, *request.app.ctx.campaigns.rows, *([slug] if slug else [])})
    body = views.overview(
        lang,
        session.user,
        session.csrf,
        days=days,
        hours=hours,
        sources=sources,
        campaigns=campaigns,
        utm_campaigns=utm,
        variants=variants,
        slug=slug,
        slugs=live,
        today=today.date(),
    )
    return page(request, body)


def filter_of(request: Request) -> filters.Filter:
    return filters.read(views.query_of(request.args), settings_of(request).tz)


def leads_page(
    request: Request,
    session: Session,
    chosen: filters.Filter,
    result: leadbook.Page | None,
    *,
    status: int = 200,
    notice: str | None = None,
) -> HTTPResponse:
    settings = settings_of(request)
    body = views.leads(
        language(request),
        session.user,
        session.csrf,
        page=result,
        chosen=chosen,
        after=views.query_of(request.args).get("after"),
        tz=settings.tz,
        region=settings.default_region,
        notice=notice,
    )
    return page(request, body, status=status)


@bp.get("/leads", name="admin_leads")
async def leads(request: Request) -> HTTPResponse:
    session = await current_session(request)
    if session is None:
        return to_login()
    chosen = filter_of(request)
    if chosen.problems:  # the form again, with what was typed and what is wrong with it
        return leads_page(request, session, chosen, None, status=400)
    query = views.query_of(request.args)
    result = await leadbook.page(request.app.ctx.services.postgres, chosen.where, after=query.get("after"))
    said = "changed" if query.get("done") else "erased" if query.get("erased") else None
    notice = WORDS[language(request)][said] if said else None
    return leads_page(request, session, chosen, result, notice=notice)


def safe_back(value: str) -> str:
    """Where to return after a status change: only the leads table, never another site."""
    if value.startswith("/admin/leads") and "//" not in value and "\\" not in value and value.isprintable():
        return value
    return "/admin/leads"


@bp.post("/leads/<lead_id:str>/status", name="admin_lead_status")
async def change_status(request: Request, lead_id: str) -> HTTPResponse:
    session = await current_session(request)
    if session is None:
        return to_login()
    check_csrf(request, session.csrf)
    form: Any = request.form or {}
    await leadbook.change_status(
        request.app.ctx.services.postgres, lead_id, str(form.get("status", "")), by=session.user
    )
    back = safe_back(str(form.get("back", "")))
    return redirect(back + ("&" if "?" in back else "?") + "done=1", status=303, headers=NO_STORE)


async def phone_of(request: Request, lead_id: str) -> str:
    """The number of the lead `lead_id`; NotFound for an id that is no lead's (or no id)."""
    try:
        key = uuid.UUID(lead_id)
    except ValueError:
        raise NotFound("There is no such lead.") from None
    phone: str | None = await request.app.ctx.services.postgres.privacy.phone_of(key)
    if phone is None:
        raise NotFound("There is no such lead.")
    return phone


@bp.get("/leads/<lead_id:str>/erase", name="admin_lead_erase_form")
async def erase_form(request: Request, lead_id: str) -> HTTPResponse:
    """Erasing asks first: this page shows the number masked and the form that erases."""
    session = await current_session(request)
    if session is None:
        return to_login()
    phone = await phone_of(request, lead_id)
    body = views.erase(
        language(request), session.user, session.csrf, lead_id=lead_id, masked=mask_phone(phone)
    )
    return page(request, body)


@bp.post("/leads/<lead_id:str>/erase", name="admin_lead_erase")
async def erase(request: Request, lead_id: str) -> HTTPResponse:
    """Erase the lead's number from every store, as `leadcap leads erase` does; the audit trail
    records the signed-in user."""
    session = await current_session(request)
    if session is None:
        return to_login()
    check_csrf(request, session.csrf)
    phone = await phone_of(request, lead_id)
    services = request.app.ctx.services
    await erasure.erase_number(
        services.postgres, services.redis, services.mongo, phone, by=session.user, shards=services.shards
    )
    return redirect("/admin/leads?erased=1", status=303, headers=NO_STORE)


@bp.get("/leads.csv", name="admin_leads_csv")
async def leads_csv(request: Request) -> HTTPResponse | None:
    """The filter's leads with the export's columns, times in the admin's zone (and the Solar
    Hijri date columns in Persian), after a UTF-8 byte-order mark so spreadsheets read Persian."""
    session = await current_session(request)
    if session is None:
        raise NotFound("There is nothing at this address.")
    chosen = filter_of(request)
    if chosen.problems:
        return leads_page(request, session, chosen, None, status=400)
    tz = settings_of(request).tz
    calendar = "jalali" if language(request) == "fa" else "gregorian"
    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M")
    response = await request.respond(
        content_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="leads-{stamp}.csv"'},
    )
    buffer = io.StringIO()
    writer = export.Writer("csv", buffer, fieldnames=export.columns(calendar), bom=True)
    rows = leadbook.rows_for_export(request.app.ctx.services.postgres, chosen.where, tz=tz, calendar=calendar)
    # Closed here, not when the garbage collector gets to it: a download cut short fails a send,
    # and until the generator is closed its pooled connection stays checked out in an open
    # transaction (seen for minutes on an idle server in bench/campaign/measure.py).
    async with contextlib.aclosing(rows):
        async for values in rows:
            writer.write(values)
            if buffer.tell() >= 64 * 1024:
                await response.send(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
    await response.send(buffer.getvalue())
    await response.eof()
    return None


def render_error(request: Request, error: LeadcapError, status: int, headers: dict[str, str]) -> HTTPResponse:
    """An /admin/ error as an HTML page in the admin's language (web/errors.py calls this)."""
    lang = language(request)
    if isinstance(error, HttpsRequired):
        host = https.host_name(request)
        address = None if host is None else f"https://{f'[{host}]' if ':' in host else host}/admin/"
        body = views.https_needed(lang, messages.message(error, lang), address)
    else:
        body = views.error(lang, status, messages.message(error, lang))
    return html(
        body,
        status=status,
        headers={**NO_STORE, **headers},
    )
