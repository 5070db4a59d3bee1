"""The one configuration: `LEADCAP_*` variables, then `.env`, validated once at start.

Only entry points (the CLI callback, the web factory, the worker) call `load()`; everything
else receives the `Settings` they built. A bad value raises `ConfigError` naming the variable.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from dotenv import dotenv_values

from leadcap import sentinel
from leadcap.errors import ConfigError

PREFIX = "LEADCAP_"
WINDOWS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
ENVIRONMENTS = ("development", "production", "test")
LOCALES = ("fa", "en")  # the page's languages; the first is the default
VERIFY_MODES = ("off", "sms")
SMS_PROVIDERS = ("log", "kavenegar", "smsir")
# Where a number written without a country code is read, unless LEADCAP_DEFAULT_REGION says otherwise.
DEFAULT_REGION = "IR"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# The placeholder `.env.docker` ships; refused in production wherever it appears.
PLACEHOLDER = "change_me"
# A URL query parameter whose name contains one of these carries a secret (asyncpg and redis-py
# read `password=`; asyncpg also `sslpassword=`).
_SECRET_PARAMS = ("pass", "secret", "token")
_SECRET_FILE_MAX = 64 * 1024


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `limit` requests in any `window_s`-second window."""

    limit: int
    window_s: int

    def __str__(self) -> str:
        unit = next(name for name, secs in WINDOWS.items() if secs == self.window_s)
        return f"{self.limit}/{unit}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _flag(value: Any) -> str:
    return "true" if value else "false"  # as the docs and .env.example spell it, not Python's True


def _joined(values: Any) -> str:
    return ",".join(str(v) for v in values)


Parser = Callable[[Mapping[str, str], str, Any], Any]


# The groups settings are declared in, by the part of leadcap that reads them, in the order
# `leadcap config`, .env.example and docs/api.md's table list them (tests hold them to it).
PROCESS = "process"
WEB = "web"
INTAKE = "intake"
WORKER = "worker"
REQUEST_LOG = "request_log"
LANDING = "landing"
WEBHOOKS = "webhooks"
NOTIFY = "notify"
ADMIN = "admin"
VERIFICATION = "verification"
READ_API = "read_api"
GROUPS = {
    PROCESS: "The process and its stores",
    WEB: "The web server",
    INTAKE: "The intake (POST /api/leads/)",
    WORKER: "The worker",
    REQUEST_LOG: "Request logs (MongoDB)",
    LANDING: "The landing page and its edge",
    WEBHOOKS: "Webhooks",
    NOTIFY: "Notifications (Telegram, Bale, email)",
    ADMIN: "/admin/",
    VERIFICATION: "Phone verification",
    READ_API: "The read API (GET /api/v1/leads)",
}


@dataclass(frozen=True, slots=True)
class Declared:
    """Everything about one setting besides its type and default: the one declaration that
    parsing, masking, `leadcap config`, the .env.example check and docs/api.md's table all read."""

    env: str  # the variable's name without LEADCAP_
    parse: Parser  # (raw values, env name, default) -> value; raises ConfigError naming the variable
    help: str
    group: str  # one of GROUPS
    secret: bool = False  # masked by `leadcap config`; may be read from LEADCAP_<NAME>_FILE
    required_in_production: bool = False
    show: Callable[[Any], str] = _text  # how `leadcap config` prints it
    generated: bool = False  # a random key `leadcap init` writes into .env (a secret; see GENERATED)


def setting(
    default: Any,
    env: str,
    parse: Parser,
    help: str,  # noqa: A002 - the declaration's own word
    *,
    group: str,
    secret: bool = False,
    required_in_production: bool = False,
    show: Callable[[Any], str] | None = None,
    generated: bool = False,
) -> Any:
    """A Settings field and its declaration (the parsers are looked up when called, so they may
    be defined further down). A secret is printed as *** unless `show` masks it otherwise;
    `generated`: a random key that `leadcap init` writes (only a secret may be one)."""
    if generated and not secret:
        raise TypeError(f"{env}: only a secret can be generated")
    shown = show or (_stars if secret else _flag if isinstance(default, bool) else _text)
    declared = Declared(env, parse, help, group, secret, required_in_production, shown, generated)
    return field(default=default, metadata={"declared": declared})


def _stars(value: Any) -> str:
    return "***" if value else ""


def _store_url_shown(value: Any) -> str:
    return mask_url(value) if value else "(embedded)"


def _store_urls_shown(value: Any) -> str:
    return ", ".join(mask_url(url) for url in split_urls(value)) if value else "(embedded)"


# LEADCAP_REDIS_URL may list several servers. A list splits before each `scheme://`, so the
# comma-separated sentinels inside one redis+sentinel:// URL stay together.
_NEXT_URL = re.compile(r"[\s,]+(?=[a-z][a-z0-9+.-]*://)", re.IGNORECASE)
REDIS_SCHEMES = ("redis", "rediss", "unix", sentinel.SCHEME)


def split_urls(text: str) -> tuple[str, ...]:
    """The URLs of a comma- (or space-) separated list; one URL is a list of one."""
    return tuple(part for part in (p.strip(" ,") for p in _NEXT_URL.split(text.strip())) if part)


def _redis_urls(raw: Mapping[str, str], name: str, _default: Any) -> str | None:
    """One Redis URL or several (the intake's shards), each checked like any store URL."""
    text = raw.get(name, "").strip()
    if not text:
        return None
    urls = split_urls(text)
    for url in urls:
        _url({name: url}, name, REDIS_SCHEMES)
    if len(set(urls)) != len(urls):
        raise ConfigError(PREFIX + name, "lists the same server twice")
    return ", ".join(urls)


def _store_url(*schemes: str) -> Parser:
    return lambda raw, name, _default: _url(raw, name, schemes)


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob leadcap has, each declared once (its variable, parser, help line and group),
    group by group: read flat (`settings.rate_limit`), declared and listed per group."""

    # -- process ---------------------------------------------------------------------------------------

    env: str = setting(
        "development",
        "ENV",
        lambda r, n, d: _choice(r, n, d, ENVIRONMENTS),
        "development, production or test; production requires every store URL and refuses any"
        " value holding CHANGE_ME (any case, URL passwords included)",
        group=PROCESS,
    )
    database_url: str | None = setting(
        None,
        "DATABASE_URL",
        _store_url("postgres", "postgresql"),
        "postgres(ql):// URL (several host:port with ?target_session_attrs=read-write for a primary"
        " and standbys); unset: the embedded server",
        secret=True,
        show=_store_url_shown,
        required_in_production=True,
        group=PROCESS,
    )
    redis_url: str | None = setting(
        None,
        "REDIS_URL",
        _redis_urls,
        "redis(s):// or unix:// URL of Redis (Valkey), or redis+sentinel://[:password@]sentinel[,sentinel…]/<master>"
        " for a Sentinel-managed primary (docs/operations.md); several, comma-separated, share the intake"
        " by phone (the first also keeps what no phone owns); unset: the embedded server",
        secret=True,
        show=_store_urls_shown,
        required_in_production=True,
        group=PROCESS,
    )
    mongo_url: str | None = setting(
        None,
        "MONGO_URL",
        _store_url("mongodb", "mongodb+srv"),
        "mongodb(+srv):// URL (a replica set: its members and ?replicaSet=); unset: the embedded server",
        secret=True,
        show=_store_url_shown,
        required_in_production=True,
        group=PROCESS,
    )
    data_dir: Path = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        Path(".leadcap"),
        "DATA_DIR",
        lambda r, n, d: Path(r.get(n) or d),
        "where embedded stores keep data",
        group=PROCESS,
    )
    log_level: str = setting(
        "INFO",
        "LOG_LEVEL",
        lambda r, n, d: _choice(r, n, d, ("DEBUG", "INFO", "WARNING", "ERROR")),
        "DEBUG, INFO, WARNING or ERROR",
        group=PROCESS,
    )
    timezone: str = setting(
        "Asia/Tehran",
        "TIMEZONE",
        lambda r, n, d: _timezone(r, n, d),  # noqa: PLW0108 - defined below
        "IANA zone of export, stats and /admin/ dates and times",
        group=PROCESS,
    )

    # -- web -------------------------------------------------------------------------------------------

    host: str = setting(
        "127.0.0.1", "HOST", lambda r, n, d: r.get(n) or d, "address `serve` listens on", group=WEB
    )
    port: int = setting(
        8000, "PORT", lambda r, n, d: _int(r, n, d, 0, 65535), "port `serve` listens on", group=WEB
    )
    web_workers: int = setting(
        1, "WEB_WORKERS", lambda r, n, d: _int(r, n, d, 1, 256), "Sanic worker processes", group=WEB
    )
    trusted_proxies: tuple[IPNetwork, ...] = setting(
        (),
        "TRUSTED_PROXIES",
        lambda r, n, _d: _networks(r, n),
        "comma-separated CIDRs of proxies whose X-Forwarded-For (read right to left) and"
        " X-Forwarded-Proto are believed",
        show=_joined,
        group=WEB,
    )
    metrics_allow: tuple[IPNetwork, ...] = setting(
        (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")),
        "METRICS_ALLOW",
        lambda r, n, d: _networks(r, n) if n in r else d,
        "comma-separated CIDRs whose socket peer may read GET /metrics",
        show=_joined,
        group=WEB,
    )

    # -- intake ----------------------------------------------------------------------------------------

    default_region: str = setting(
        DEFAULT_REGION,
        "DEFAULT_REGION",
        lambda r, n, d: _region(r, n, d),  # noqa: PLW0108 - defined below
        "region of national numbers",
        group=INTAKE,
    )
    allowed_regions: frozenset[str] | None = setting(
        frozenset({DEFAULT_REGION}),
        "ALLOWED_REGIONS",
        lambda r, n, _d: _regions(r, n),
        "comma-separated regions whose mobiles are leads (* for any)",
        show=lambda v: "*" if v is None else ",".join(sorted(v)),
        group=INTAKE,
    )
    dedupe_window_s: int = setting(
        600,
        "DEDUPE_WINDOW",
        lambda r, n, d: _int(r, n, d, 0, 30 * 86400),
        "seconds during which the same phone is answered as a duplicate, not queued again",
        group=INTAKE,
    )
    rate_limit: RateLimit = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        RateLimit(10, 60),
        "RATE_LIMIT",
        lambda r, n, d: parse_rate_limit(r.get(n) or str(d)),
        "POSTs per client, N/second|minute|hour|day (a sliding window; IPv6 by /64)",
        group=INTAKE,
    )
    shared_ip_limit: RateLimit = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        RateLimit(600, 60),
        "SHARED_IP_LIMIT",
        lambda r, n, d: _rate(r, n, d),  # noqa: PLW0108 - defined below
        "POSTs of all visitors (browsers holding a visitor cookie) of one client IP together,"
        " N/second|minute|hour|day: the ceiling of a carrier address shared by many phones",
        group=INTAKE,
    )
    visitor_key: str | None = setting(
        None,
        "VISITOR_KEY",
        lambda r, n, _d: r.get(n, "").strip() or None,
        "HMAC key of the visitor cookie (32+ characters, required in production to serve);"
        " unset: generated into the data dir",
        secret=True,
        generated=True,
        group=INTAKE,
    )
    cors_origins: tuple[str, ...] = setting(
        (),
        "CORS_ORIGINS",
        lambda r, n, _d: _origins(r, n),
        "comma-separated origins (https://example.com) allowed to post leads from their pages",
        show=_joined,
        group=INTAKE,
    )

    # -- worker ----------------------------------------------------------------------------------------

    worker_concurrency: int = setting(
        256,
        "WORKER_CONCURRENCY",
        lambda r, n, d: _int(r, n, d, 1, 10_000),
        "tasks in flight per worker",
        group=WORKER,
    )
    worker_batch_size: int = setting(
        256,
        "WORKER_BATCH_SIZE",
        lambda r, n, d: _int(r, n, d, 1, 10_000),
        "leads per write at most",
        group=WORKER,
    )
    reclaim_idle_s: int = setting(
        30,
        "RECLAIM_IDLE_SECONDS",
        lambda r, n, d: _int(r, n, d, 1, 86400),
        "seconds before a dead worker's message is redelivered",
        group=WORKER,
    )

    lead_retention_days: int | None = setting(
        None,
        "LEAD_RETENTION_DAYS",
        lambda r, n, _d: _int(r, n, 0, 1, 36_500) or None,
        "days after a lead's last submission that the worker's daily job erases it (unset: keep)",
        group=WORKER,
    )

    # -- request_log -----------------------------------------------------------------------------------

    request_log_ttl_days: int = setting(
        30,
        "REQUEST_LOG_TTL_DAYS",
        lambda r, n, d: _int(r, n, d, 1, 3650),
        "days request logs are kept",
        group=REQUEST_LOG,
    )
    request_log_buffer: int = setting(
        10_000,
        "REQUEST_LOG_BUFFER",
        lambda r, n, d: _int(r, n, d, 0, 10_000_000),
        "request logs held while MongoDB is away",
        group=REQUEST_LOG,
    )
    request_log_ip: str = setting(
        "truncated",
        "REQUEST_LOG_IP",
        lambda r, n, d: _choice(r, n, d, ("full", "truncated", "hashed")),
        "how request logs keep the client address: full, truncated (/24 or /48) or hashed",
        group=REQUEST_LOG,
    )
    request_log_landing_sample: float = setting(
        0.01,
        "REQUEST_LOG_LANDING_SAMPLE",
        lambda r, n, d: _fraction(r, n, d),  # noqa: PLW0108 - defined below
        "share of landing-page requests logged",
        group=REQUEST_LOG,
    )

    # -- landing ---------------------------------------------------------------------------------------

    ui_dist: Path | None = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        None,
        "UI_DIST",
        lambda r, n, _d: Path(r[n]) if r.get(n) else None,
        "the landing page build; unset: the packaged one",
        group=LANDING,
    )
    edge_dir: Path | None = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        None,
        "EDGE_DIR",
        lambda r, n, _d: Path(r[n]) if r.get(n) else None,
        "a folder the page is written to for nginx to serve GET / from; unset: none",
        group=LANDING,
    )
    locale: str = setting(
        LOCALES[0],
        "LOCALE",
        lambda r, n, d: _choice(r, n, d, LOCALES),
        "the page's language: fa (right to left) or en",
        group=LANDING,
    )
    campaign_file: Path | None = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        None,
        "CAMPAIGN_FILE",
        lambda r, n, _d: _file(r, n),
        "the campaign file (JSON; `leadcap init` writes one); unset: the demo campaign"
        " (web/campaign.default.json), refused in production",
        group=LANDING,
    )
    assets_dir: Path | None = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        None,
        "ASSETS_DIR",
        lambda r, n, _d: _folder(r, n),
        "the folder of the campaign's images (logo, badges), served at /campaign-assets/; unset: none",
        group=LANDING,
    )

    # -- webhooks --------------------------------------------------------------------------------------

    webhook_allow_private: bool = setting(
        False,
        "WEBHOOK_ALLOW_PRIVATE",
        lambda r, n, d: _bool(r, n, d),  # noqa: PLW0108 - defined below
        "let endpoints resolve to loopback/private addresses (SSRF guard off)",
        group=WEBHOOKS,
    )
    webhook_backoff_cap_seconds: int = setting(
        3600,
        "WEBHOOK_BACKOFF_CAP_SECONDS",
        lambda r, n, d: _int(r, n, d, 1, 86400),
        "longest wait between two webhook attempts",
        group=WEBHOOKS,
    )
    webhook_retry_window_seconds: int = setting(
        86400,
        "WEBHOOK_RETRY_WINDOW_SECONDS",
        lambda r, n, d: _int(r, n, d, 1, 30 * 86400),
        "how long a delivery is retried before it is failed",
        group=WEBHOOKS,
    )
    webhook_concurrency: int = setting(
        8,
        "WEBHOOK_CONCURRENCY",
        lambda r, n, d: _int(r, n, d, 1, 256),
        "sends in flight per endpoint and worker",
        group=WEBHOOKS,
    )
    webhook_max_lag_seconds: int = setting(
        300,
        "WEBHOOK_MAX_LAG_SECONDS",
        lambda r, n, d: _int(r, n, d, 1, 86400),
        "health is degraded past this delivery lag",
        group=WEBHOOKS,
    )

    # -- notifications ---------------------------------------------------------------------------------

    telegram_base_url: str = setting(
        "https://api.telegram.org",
        "TELEGRAM_BASE_URL",
        lambda r, n, d: _url(r, n, ("http", "https")) or d,
        "Telegram's Bot API address (a proxy, a test server); may be private",
        show=lambda v: mask_url(v) if v else "",  # a proxy's address may carry a password
        group=NOTIFY,
    )
    bale_base_url: str = setting(
        "https://tapi.bale.ai",
        "BALE_BASE_URL",
        lambda r, n, d: _url(r, n, ("http", "https")) or d,
        "Bale's Bot API address (it mirrors Telegram's); may be private",
        show=lambda v: mask_url(v) if v else "",  # a proxy's address may carry a password
        group=NOTIFY,
    )
    public_url: str | None = setting(
        None,
        "PUBLIC_URL",
        _store_url("http", "https"),
        "the site's address, for links to /admin/ in notifications; unset: no link",
        show=lambda v: mask_url(v) if v else "",  # a proxy's address may carry a password
        group=NOTIFY,
    )
    notify_interval_seconds: float = setting(
        3.0,
        "NOTIFY_INTERVAL_SECONDS",
        lambda r, n, d: _seconds(r, n, d),  # noqa: PLW0108 - defined below
        "least time between two messages to one chat or address (leads between are grouped)",
        group=NOTIFY,
    )

    # -- admin -----------------------------------------------------------------------------------------

    admin_idle_minutes: int = setting(
        30,
        "ADMIN_IDLE_MINUTES",
        lambda r, n, d: _int(r, n, d, 1, 7 * 24 * 60),
        "an idle /admin/ session ends after this",
        group=ADMIN,
    )

    # -- verification ----------------------------------------------------------------------------------

    verify: str = setting(
        "off",
        "VERIFY",
        lambda r, n, d: _choice(r, n, d, VERIFY_MODES),
        "phone verification: off or sms",
        group=VERIFICATION,
    )
    sms_provider: str = setting(
        "log",
        "SMS_PROVIDER",
        lambda r, n, d: _choice(r, n, d, SMS_PROVIDERS),
        "kavenegar, smsir, or log (development only)",
        group=VERIFICATION,
    )
    sms_api_key: str | None = setting(
        None,
        "SMS_API_KEY",
        lambda r, n, _d: r.get(n, "").strip() or None,
        "the SMS provider's key",
        secret=True,
        group=VERIFICATION,
    )
    sms_template: str | None = setting(
        None,
        "SMS_TEMPLATE",
        lambda r, n, _d: r.get(n, "").strip() or None,
        "the SMS provider's template",
        group=VERIFICATION,
    )
    sms_base_url: str | None = setting(
        None,
        "SMS_BASE_URL",
        _store_url("http", "https"),
        "another address for the SMS provider; unset: its own",
        show=lambda v: mask_url(v) if v else "(default)",
        group=VERIFICATION,
    )
    sms_timeout_s: float = setting(
        2.0,
        "SMS_TIMEOUT",
        lambda r, n, d: _seconds(r, n, d),  # noqa: PLW0108 - defined below
        "seconds a 202 waits for the SMS provider",
        group=VERIFICATION,
    )
    sms_per_ip: RateLimit = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        RateLimit(20, 3600),
        "SMS_PER_IP",
        lambda r, n, d: _budget(r, n, d),  # noqa: PLW0108 - defined below
        "codes sent per client IP bucket (per visitor, for a browser holding a visitor cookie),"
        " N/hour (against SMS pumping)",
        group=VERIFICATION,
    )
    sms_shared_ip: RateLimit = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        RateLimit(200, 3600),
        "SMS_SHARED_IP",
        lambda r, n, d: _budget(r, n, d),  # noqa: PLW0108 - defined below
        "codes sent to all visitors (browsers holding a visitor cookie) of one client IP together,"
        " N/hour; a visitor's own budget is LEADCAP_SMS_PER_IP",
        group=VERIFICATION,
    )
    sms_budget: RateLimit = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        RateLimit(1000, 3600),
        "SMS_BUDGET",
        lambda r, n, d: _budget(r, n, d),  # noqa: PLW0108 - defined below
        "codes sent by the whole site, N/hour (against SMS pumping)",
        group=VERIFICATION,
    )
    verify_key: str | None = setting(
        None,
        "VERIFY_KEY",
        lambda r, n, _d: r.get(n, "").strip() or None,
        "HMAC key of the codes (32+ characters, required in production); unset: generated into the data dir",
        secret=True,
        generated=True,
        group=VERIFICATION,
    )
    verify_code_ttl_s: int = setting(
        120,
        "VERIFY_CODE_TTL",
        lambda r, n, d: _int(r, n, d, 1, 3600),
        "seconds a code stays valid",
        group=VERIFICATION,
    )
    verify_resend_s: int = setting(
        60,
        "VERIFY_RESEND_AFTER",
        lambda r, n, d: _int(r, n, d, 0, 3600),
        "seconds before a new code may be asked for",
        group=VERIFICATION,
    )

    # -- read_api --------------------------------------------------------------------------------------

    api_rate_limit: RateLimit = setting(  # noqa: RUF009 - setting() returns a dataclasses.field
        RateLimit(600, 60),
        "API_RATE_LIMIT",
        lambda r, n, d: parse_rate_limit(r.get(n) or str(d), n),
        "requests per read API key, N/second|minute|hour|day (a sliding window)",
        group=READ_API,
    )

    @property
    def redis_urls(self) -> tuple[str, ...]:
        """The Redis servers the intake is sharded over (one, usually); the first also keeps every
        key tied to no phone. Empty when LEADCAP_REDIS_URL is unset."""
        return split_urls(self.redis_url) if self.redis_url else ()

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def tz(self) -> ZoneInfo:
        """The zone operators think in: export dates and times are read and written in it."""
        return ZoneInfo(self.timezone)

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def masked(self) -> dict[str, str]:
        """The effective settings as strings, with passwords in URLs masked and keys as ***."""
        out: dict[str, str] = {}
        for name, declared in declarations().items():
            value = getattr(self, name)
            out[PREFIX + declared.env] = declared.show(value)
        return out


def declarations() -> dict[str, Declared]:
    """Each Settings field's declaration, by field name, in declaration order."""
    return {f.name: f.metadata["declared"] for f in dataclasses.fields(Settings)}


def docs_table() -> str:
    """docs/api.md's settings table: a row per setting, group by group, from the declarations."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    group = None
    for name, declared in declarations().items():
        if declared.group != group:
            group = declared.group
            rows.append(f"| **{GROUPS[group]}** | | |")
        shown = declared.show(_DEFAULTS[name])
        default = f"`{shown}`" if shown and not shown.startswith("(") else shown or "unset"
        meaning = declared.help.replace("|", "\\|")
        if declared.secret:
            meaning += f"; a secret (`leadcap config` masks it), or read from `{PREFIX}{declared.env}_FILE`"
        if declared.generated:
            meaning += "; `leadcap init` generates it into `.env`"
        rows.append(f"| `{declared.env}` | {default} | {meaning} |")
    return "\n".join(rows) + "\n"


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Settings)}
# Settings that may instead be read from a file named by `LEADCAP_<NAME>_FILE` (Docker secrets).
FILE_SETTINGS = tuple(d.env for d in declarations().values() if d.secret)
# The passwords the compose stores read (.env.docker.stores), not leadcap settings but generated
# with them by `leadcap init`; tests/deploy holds this list to every password in that file.
COMPOSE_SECRETS = (
    "POSTGRES_PASSWORD",
    "DB_OWNER_PASSWORD",
    "DB_APP_PASSWORD",
    "REDIS_PASSWORD",
    "MONGO_INITDB_ROOT_PASSWORD",
    "MONGO_APP_PASSWORD",
)
# Every random secret `leadcap init` writes into .env: the settings declared `generated` (a new
# key is covered by its flag), then the compose stores' passwords.
GENERATED = (
    *(PREFIX + d.env for d in declarations().values() if d.generated),
    *COMPOSE_SECRETS,
)


def mask_url(url: str) -> str:
    """Hide every password a URL carries (user-info and `password=`-like query parameters, any
    case or percent-encoding), keep the rest readable. Built from the parsed parts, so a
    password never survives by being spelt oddly."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:***@{hosts}" if colon else f"{userinfo}@{hosts}"
    text = f"{parts.scheme}://{netloc}{parts.path}"
    if parts.query:
        text += "?" + _mask_query(parts.query)
    if parts.fragment:
        text += "#***"  # a fragment has no use in a store URL; it can only be a mangled password
    return text


def _mask_query(query: str) -> str:
    pieces = []
    for piece in query.split("&"):
        key, eq, _ = piece.partition("=")
        secret = eq and any(word in unquote_plus(key).lower() for word in _SECRET_PARAMS)
        pieces.append(f"{key}=***" if secret else piece)
    return "&".join(pieces)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a `.env` file as Docker Compose does (python-dotenv's parser: inline comments,
    quotes, `export`), without touching os.environ. A key with no `=` is ignored."""
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path, interpolate=False).items() if v is not None}


def read_secret_files(raw: Mapping[str, str]) -> dict[str, str]:
    """Replace each `<NAME>_FILE` of FILE_SETTINGS by the file's content, stripped; raise
    ConfigError (naming the variable, never the content) when both are set or it cannot be read."""
    out = dict(raw)
    for name in FILE_SETTINGS:
        path = out.pop(name + "_FILE", "").strip()
        if not path:
            continue
        if out.get(name, "").strip():
            raise ConfigError(PREFIX + name, f"and {PREFIX}{name}_FILE are both set; set only one")
        try:
            with open(path, "rb") as secret:
                content = secret.read(_SECRET_FILE_MAX + 1)  # /dev/zero must not hang the start
            if len(content) > _SECRET_FILE_MAX:
                raise ConfigError(PREFIX + name + "_FILE", f"names a file over {_SECRET_FILE_MAX} bytes")
            out[name] = content.decode("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise ConfigError(PREFIX + name + "_FILE", f"cannot be read ({reason})") from None
    return out


def _sources(environ: Mapping[str, str] | None, env_file: Path | None) -> tuple[dict[str, str], set[str]]:
    """Every `LEADCAP_*` variable, the environment winning over `.env`; and the names that came
    from `.env` alone."""
    from_file = read_env_file(env_file) if env_file else {}
    given = os.environ if environ is None else environ
    source = {k: v for k, v in {**from_file, **given}.items() if k.startswith(PREFIX)}
    return source, {k for k in source if k not in given}


def load(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    *,
    reads: Collection[str] | None = None,
) -> Settings:
    """Build Settings from the environment, falling back to `.env`; raise ConfigError. `reads`:
    the settings (names without LEADCAP_) of those required in production that the caller uses,
    when that is fewer than all (`export-leads` reads PostgreSQL only)."""
    source, _ = _sources(environ, env_file)
    return parse(read_secret_files({k.removeprefix(PREFIX): v for k, v in source.items()}), reads=reads)


# LEADCAP_* variables that others read, never a misspelt setting: the suite's (LEADCAP_TEST_*),
# the bench's (LEADCAP_BENCH_*) and the front end's dev server (web/ui/vite.config.ts).
_OTHERS = re.compile(r"(TEST|BENCH)_[A-Z0-9_]*|DEV_API")
# What Kubernetes adds for a Service whose name starts with `leadcap` (service links):
# <SVC>_SERVICE_HOST, <SVC>_SERVICE_PORT[_<PORT NAME>], <SVC>_PORT_<n>_<PROTO>[_PROTO|_PORT|_ADDR],
# and <SVC>_PORT=tcp://host:port.
_SERVICE_LINK = re.compile(
    r"([A-Z0-9_]+_)?(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)"
)
_SERVICE_LINK_VALUE = re.compile(r"(tcp|udp|sctp)://")


def unknown_variables(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> list[str]:
    """One warning line per `LEADCAP_*` variable leadcap does not read (a misspelling such as
    LEADCAP_VERFY would otherwise leave its setting at the default without a word), naming
    the closest known name. Only a warning: orchestrators add variables of their own."""
    source, from_file = _sources(environ, env_file)
    declared = [d.env for d in declarations().values()]
    known = {*declared, *(name + "_FILE" for name in FILE_SETTINGS)}
    lines = []
    for variable in sorted(source):
        name = variable.removeprefix(PREFIX)
        if name in known or _OTHERS.fullmatch(name) or _SERVICE_LINK.fullmatch(name):
            continue
        if name.endswith("_PORT") and _SERVICE_LINK_VALUE.match(source[variable]):
            continue
        where = " (in .env)" if variable in from_file else ""
        line = f"{variable}{where} is not a leadcap setting and is ignored"
        closest = difflib.get_close_matches(name, declared, n=1)
        lines.append(
            f"{line}; did you mean {PREFIX}{closest[0]}?"
            if closest
            else f"{line} (`leadcap config` lists them)"
        )
    return lines


def parse(raw: Mapping[str, str], *, reads: Collection[str] | None = None) -> Settings:
    """Validate raw `LEADCAP_`-less names and values into Settings (`reads`: see load)."""
    values = {
        name: declared.parse(raw, declared.env, _DEFAULTS[name]) for name, declared in declarations().items()
    }
    settings = Settings(**values)
    if settings.production:
        for declared in declarations().values():
            needed = declared.required_in_production and (reads is None or declared.env in reads)
            if needed and not raw.get(declared.env):
                raise ConfigError(PREFIX + declared.env, "is required when LEADCAP_ENV=production")
        refuse_placeholders(raw)
    _check_verification(settings)
    if settings.visitor_key is not None and len(settings.visitor_key) < 32:
        raise ConfigError(
            PREFIX + "VISITOR_KEY", "must be at least 32 characters (e.g. `openssl rand -hex 32`)"
        )
    return settings


def _check_verification(settings: Settings) -> None:
    """With LEADCAP_VERIFY=sms, the provider must be usable and, in production, real and keyed."""
    if settings.verify != "sms":
        return
    if settings.sms_provider == "log" and settings.production:
        raise ConfigError(
            PREFIX + "SMS_PROVIDER",
            "log writes codes to the server log and is refused when LEADCAP_ENV=production",
        )
    if settings.sms_provider != "log":
        for name in ("SMS_API_KEY", "SMS_TEMPLATE"):
            if not getattr(settings, name.lower()):
                raise ConfigError(
                    PREFIX + name, f"is required with LEADCAP_SMS_PROVIDER={settings.sms_provider}"
                )
    if settings.production and not settings.verify_key:
        raise ConfigError(
            PREFIX + "VERIFY_KEY", "is required with LEADCAP_VERIFY=sms when LEADCAP_ENV=production"
        )
    if settings.verify_key is not None and len(settings.verify_key) < 32:
        raise ConfigError(
            PREFIX + "VERIFY_KEY", "must be at least 32 characters (e.g. `openssl rand -hex 32`)"
        )


def uses_demo_campaign(settings: Settings) -> bool:
    """Whether the page shows the shipped demo campaign (no LEADCAP_CAMPAIGN_FILE); in production
    it must not, and ConfigError names the variable."""
    if settings.campaign_file is not None:
        return False
    if settings.production:
        raise ConfigError(
            PREFIX + "CAMPAIGN_FILE",
            "is required when LEADCAP_ENV=production (unset, the page would show the demo campaign);"
            " `leadcap init` writes one",
        )
    return True


def refuse_placeholders(raw: Mapping[str, str]) -> None:
    """Refuse any value still holding the CHANGE_ME placeholder (a URL's password included,
    percent-encoded or not); the error names the variable, never the value."""
    for name in sorted(raw):
        if PLACEHOLDER in unquote(raw[name]).lower():
            raise ConfigError(
                PREFIX + name, "still holds the CHANGE_ME placeholder, refused when LEADCAP_ENV=production"
            )


def check_timezone(text: str, variable: str) -> str:
    """An IANA zone name (`Asia/Tehran`, `UTC`), or ConfigError naming `variable`."""
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            variable, f"must be an IANA time zone like Asia/Tehran or UTC, got {text!r}"
        ) from None
    return text


def parse_rate_limit(text: str, name: str = "RATE_LIMIT") -> RateLimit:
    """`"10/minute"` → RateLimit(10, 60); raise ConfigError (naming LEADCAP_`name`) on anything else."""
    count, _, unit = text.strip().partition("/")
    if not count.strip().isdigit() or unit.strip().lower() not in WINDOWS or int(count) < 1:
        raise ConfigError(PREFIX + name, f"must look like 10/minute (N/second|minute|hour|day), got {text!r}")
    return RateLimit(int(count), WINDOWS[unit.strip().lower()])


def _rate(raw: Mapping[str, str], name: str, default: RateLimit) -> RateLimit:
    """An N/second|minute|hour|day limit other than LEADCAP_RATE_LIMIT; the error names `name`."""
    text = raw.get(name, "").strip()
    if not text:
        return default
    try:
        return parse_rate_limit(text)
    except ConfigError:
        raise ConfigError(
            PREFIX + name, f"must look like 600/minute (N/second|minute|hour|day), got {text!r}"
        ) from None


def _budget(raw: Mapping[str, str], name: str, default: RateLimit) -> RateLimit:
    """`20/hour` (or a bare `20`, per hour) for an SMS budget; the error names `name`."""
    text = raw.get(name, "").strip()
    if not text:
        return default
    if text.isdigit():
        text += "/hour"
    try:
        return parse_rate_limit(text)
    except ConfigError:
        raise ConfigError(
            PREFIX + name, f"must look like 20/hour (N/second|minute|hour|day), got {text!r}"
        ) from None


def _seconds(raw: Mapping[str, str], name: str, default: float) -> float:
    text = raw.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(PREFIX + name, f"must be a number of seconds, got {text!r}") from None
    if not 0.05 <= value <= 30:
        raise ConfigError(PREFIX + name, f"must be between 0.05 and 30 seconds, got {text!r}")
    return value


def _int(raw: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = raw.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(PREFIX + name, f"must be a whole number, got {text!r}") from None
    if not low <= value <= high:
        raise ConfigError(PREFIX + name, f"must be between {low} and {high}, got {value}")
    return value


def _bool(raw: Mapping[str, str], name: str, default: bool) -> bool:
    text = raw.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(PREFIX + name, f"must be true or false, got {text!r}")


def _fraction(raw: Mapping[str, str], name: str, default: float) -> float:
    text = raw.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(PREFIX + name, f"must be a number from 0 to 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ConfigError(PREFIX + name, f"must be a number from 0 to 1, got {text!r}")
    return value


def _origins(raw: Mapping[str, str], name: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.get(name, "").split(",") if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise ConfigError(PREFIX + name, f"must be origins like https://example.com, got {origin!r}")
    return origins


def _choice(raw: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    text = raw.get(name, "").strip()
    if not text:
        return default
    for option in allowed:
        if option.lower() == text.lower():
            return option
    raise ConfigError(PREFIX + name, f"must be one of {', '.join(allowed)}, got {text!r}")


def _url(raw: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    """A store URL, checked without ever echoing it: the parser's messages (and a URL that
    broke apart) can hold pieces of the password, so errors say only what is wrong."""
    text = raw.get(name, "").strip()
    if not text:
        return None
    wanted = f"must be a {' or '.join(schemes)}:// URL"
    try:
        parts = urlsplit(text)
        if parts.scheme not in schemes:
            raise ConfigError(PREFIX + name, f"{wanted} (the scheme is not one of these)")
        after_host = text[len(parts.scheme) + 3 + len(parts.netloc) :]
        if "@" not in parts.netloc and "@" in after_host:
            # `user:pa/ss@host`: the password ends at its `/`, `?` or `#` and the rest looks
            # like a path; drivers would read it differently than we mask it.
            raise ConfigError(
                PREFIX + name, "is not a valid URL: percent-encode / ? # @ in the user name or password"
            )
        if parts.scheme == sentinel.SCHEME:
            try:
                sentinel.parse(text)
            except ValueError as exc:
                raise ConfigError(PREFIX + name, f"is not a valid {sentinel.SCHEME}:// URL: {exc}") from None
        elif parts.scheme.startswith("postgres"):  # several host:port pairs (a primary and standbys)
            for host in parts.netloc.rpartition("@")[2].split(","):
                urlsplit("//" + host).port  # noqa: B018 - raises ValueError on a bad port
        elif not parts.scheme.startswith("mongodb"):  # MongoDB lists several host:port pairs
            parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(PREFIX + name, f"is not a valid URL ({wanted}, with a numeric port)") from None
    return text


def _timezone(raw: Mapping[str, str], name: str, default: str) -> str:
    return check_timezone(raw.get(name, "").strip() or default, PREFIX + name)


def _file(raw: Mapping[str, str], name: str) -> Path | None:
    text = raw.get(name, "").strip()
    if not text:
        return None
    if not Path(text).is_file():
        raise ConfigError(PREFIX + name, f"must name a readable file, got {text!r}")
    return Path(text)


def _folder(raw: Mapping[str, str], name: str) -> Path | None:
    text = raw.get(name, "").strip()
    if not text:
        return None
    if not Path(text).is_dir():
        raise ConfigError(PREFIX + name, f"must name a folder, got {text!r}")
    return Path(text)


def _region(raw: Mapping[str, str], name: str, default: str) -> str:
    text = raw.get(name, "").strip().upper() or default
    if text not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(PREFIX + name, f"is not a known region code, got {text!r}")
    return text


def _regions(raw: Mapping[str, str], name: str) -> frozenset[str] | None:
    text = raw.get(name, "").strip() or DEFAULT_REGION
    if text == "*":
        return None
    regions = frozenset(part.strip().upper() for part in text.split(",") if part.strip())
    unknown = sorted(regions - phonenumbers.SUPPORTED_REGIONS)
    if unknown or not regions:
        raise ConfigError(PREFIX + name, f"has unknown region codes: {', '.join(unknown) or text!r}")
    return regions


def _networks(raw: Mapping[str, str], name: str) -> tuple[IPNetwork, ...]:
    text = raw.get(name, "").strip()
    if not text:
        return ()
    try:
        return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in text.split(",") if p.strip())
    except ValueError as exc:
        raise ConfigError(PREFIX + name, f"must be comma-separated CIDRs ({exc})") from None
