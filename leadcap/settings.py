"""The one configuration: `LEADCAP_*` variables, then `.env`, validated once at start.

Only entry points (the CLI callback, the web factory, the worker) call `load()`; everything
else receives the `Settings` they built. A bad value raises `ConfigError` naming the variable.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, unquote_plus, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from dotenv import dotenv_values

from leadcap.errors import ConfigError

PREFIX = "LEADCAP_"
WINDOWS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
ENVIRONMENTS = ("development", "production", "test")
LOCALES = ("fa", "en")  # the page's languages; the first is the default
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Settings that may instead be read from a file named by `LEADCAP_<NAME>_FILE` (Docker secrets).
FILE_SETTINGS = ("DATABASE_URL", "REDIS_URL", "MONGO_URL", "SMS_API_KEY", "VERIFY_KEY")
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


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob leadcap has; see `.env.example` for what each one means."""

    env: str = "development"
    database_url: str | None = None
    redis_url: str | None = None
    mongo_url: str | None = None
    data_dir: Path = Path(".leadcap")
    host: str = "127.0.0.1"
    port: int = 8000
    web_workers: int = 1
    worker_concurrency: int = 256
    worker_batch_size: int = 256
    default_region: str = "IR"
    allowed_regions: frozenset[str] | None = frozenset({"IR"})
    dedupe_window_s: int = 600
    rate_limit: RateLimit = RateLimit(10, 60)
    trusted_proxies: tuple[IPNetwork, ...] = ()
    reclaim_idle_s: int = 30
    request_log_ttl_days: int = 30
    request_log_buffer: int = 10_000
    request_log_ip: str = "truncated"
    request_log_landing_sample: float = 0.01
    metrics_allow: tuple[IPNetwork, ...] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    cors_origins: tuple[str, ...] = ()
    ui_dist: Path | None = None
    log_level: str = "INFO"
    timezone: str = "Asia/Tehran"
    locale: str = LOCALES[0]
    campaign_file: Path | None = None
    # Webhooks (docs/webhooks.md): the SSRF guard's escape hatch, retry schedule, isolation, health.
    webhook_allow_private: bool = False
    webhook_backoff_cap_seconds: int = 3600
    webhook_retry_window_seconds: int = 86400
    webhook_concurrency: int = 8
    webhook_max_lag_seconds: int = 300
    admin_idle_minutes: int = 30
    # Phone verification (issue 15): off, or sms. See leadcap/verification.py.
    verify: str = "off"
    sms_provider: str = "log"
    sms_base_url: str | None = None
    sms_api_key: str | None = None  # a secret: masked by `leadcap config`
    sms_template: str | None = None
    sms_per_ip: RateLimit = RateLimit(20, 3600)
    sms_budget: RateLimit = RateLimit(1000, 3600)
    sms_timeout_s: float = 2.0
    verify_key: str | None = None  # a secret: the HMAC key of the codes
    verify_code_ttl_s: int = 120
    verify_resend_s: int = 60

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
        """The effective settings as strings, with passwords in URLs masked."""
        out: dict[str, str] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_url"):
                text = mask_url(value) if value else "(default)" if f.name == "sms_base_url" else "(embedded)"
            elif f.name == "allowed_regions":
                text = "*" if value is None else ",".join(sorted(value))
            elif f.name in SECRETS:
                text = "***" if value else ""
            elif f.name in ("trusted_proxies", "metrics_allow", "cors_origins"):
                text = ",".join(str(n) for n in value)
            else:
                text = "" if value is None else str(value)
            out[PREFIX + _ENV_NAMES.get(f.name, f.name.upper())] = text
        return out


# Variable names that are not simply the upper-cased field name.
_ENV_NAMES = {
    "dedupe_window_s": "DEDUPE_WINDOW",
    "reclaim_idle_s": "RECLAIM_IDLE_SECONDS",
    "sms_timeout_s": "SMS_TIMEOUT",
    "verify_code_ttl_s": "VERIFY_CODE_TTL",
    "verify_resend_s": "VERIFY_RESEND_AFTER",
}
SECRETS = frozenset({"sms_api_key", "verify_key"})  # printed as *** by `leadcap config`
VERIFY_MODES = ("off", "sms")
SMS_PROVIDERS = ("log", "kavenegar", "smsir")


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


def load(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Build Settings from the environment, falling back to `.env`; raise ConfigError."""
    source = dict(read_env_file(env_file)) if env_file else {}
    source.update(os.environ if environ is None else environ)
    raw = {k.removeprefix(PREFIX): v for k, v in source.items() if k.startswith(PREFIX)}
    return parse(read_secret_files(raw))


def parse(raw: Mapping[str, str]) -> Settings:
    """Validate raw `LEADCAP_`-less names and values into Settings."""
    d = Settings()
    env = _choice(raw, "ENV", d.env, ENVIRONMENTS)
    default_region = _region(raw, "DEFAULT_REGION", d.default_region)
    settings = Settings(
        env=env,
        database_url=_url(raw, "DATABASE_URL", ("postgres", "postgresql")),
        redis_url=_url(raw, "REDIS_URL", ("redis", "rediss", "unix")),
        mongo_url=_url(raw, "MONGO_URL", ("mongodb", "mongodb+srv")),
        data_dir=Path(raw.get("DATA_DIR") or d.data_dir),
        host=raw.get("HOST") or d.host,
        port=_int(raw, "PORT", d.port, 0, 65535),
        web_workers=_int(raw, "WEB_WORKERS", d.web_workers, 1, 256),
        worker_concurrency=_int(raw, "WORKER_CONCURRENCY", d.worker_concurrency, 1, 10_000),
        worker_batch_size=_int(raw, "WORKER_BATCH_SIZE", d.worker_batch_size, 1, 10_000),
        default_region=default_region,
        allowed_regions=_regions(raw, "ALLOWED_REGIONS"),
        dedupe_window_s=_int(raw, "DEDUPE_WINDOW", d.dedupe_window_s, 0, 30 * 86400),
        rate_limit=parse_rate_limit(raw.get("RATE_LIMIT") or str(d.rate_limit)),
        trusted_proxies=_networks(raw, "TRUSTED_PROXIES"),
        reclaim_idle_s=_int(raw, "RECLAIM_IDLE_SECONDS", d.reclaim_idle_s, 1, 86400),
        request_log_ttl_days=_int(raw, "REQUEST_LOG_TTL_DAYS", d.request_log_ttl_days, 1, 3650),
        request_log_buffer=_int(raw, "REQUEST_LOG_BUFFER", d.request_log_buffer, 0, 10_000_000),
        request_log_ip=_choice(raw, "REQUEST_LOG_IP", d.request_log_ip, ("full", "truncated", "hashed")),
        request_log_landing_sample=_fraction(raw, "REQUEST_LOG_LANDING_SAMPLE", d.request_log_landing_sample),
        metrics_allow=_networks(raw, "METRICS_ALLOW") if "METRICS_ALLOW" in raw else d.metrics_allow,
        cors_origins=_origins(raw, "CORS_ORIGINS"),
        ui_dist=Path(raw["UI_DIST"]) if raw.get("UI_DIST") else None,
        log_level=_choice(raw, "LOG_LEVEL", d.log_level, ("DEBUG", "INFO", "WARNING", "ERROR")),
        timezone=_timezone(raw, "TIMEZONE", d.timezone),
        locale=_choice(raw, "LOCALE", d.locale, LOCALES),
        campaign_file=_file(raw, "CAMPAIGN_FILE"),
        webhook_allow_private=_bool(raw, "WEBHOOK_ALLOW_PRIVATE", d.webhook_allow_private),
        webhook_backoff_cap_seconds=_int(
            raw, "WEBHOOK_BACKOFF_CAP_SECONDS", d.webhook_backoff_cap_seconds, 1, 86400
        ),
        webhook_retry_window_seconds=_int(
            raw, "WEBHOOK_RETRY_WINDOW_SECONDS", d.webhook_retry_window_seconds, 1, 30 * 86400
        ),
        webhook_concurrency=_int(raw, "WEBHOOK_CONCURRENCY", d.webhook_concurrency, 1, 256),
        webhook_max_lag_seconds=_int(raw, "WEBHOOK_MAX_LAG_SECONDS", d.webhook_max_lag_seconds, 1, 86400),
        admin_idle_minutes=_int(raw, "ADMIN_IDLE_MINUTES", d.admin_idle_minutes, 1, 7 * 24 * 60),
        verify=_choice(raw, "VERIFY", d.verify, VERIFY_MODES),
        sms_provider=_choice(raw, "SMS_PROVIDER", d.sms_provider, SMS_PROVIDERS),
        sms_base_url=_url(raw, "SMS_BASE_URL", ("http", "https")),
        sms_api_key=raw.get("SMS_API_KEY", "").strip() or None,
        sms_template=raw.get("SMS_TEMPLATE", "").strip() or None,
        sms_per_ip=_budget(raw, "SMS_PER_IP", d.sms_per_ip),
        sms_budget=_budget(raw, "SMS_BUDGET", d.sms_budget),
        sms_timeout_s=_seconds(raw, "SMS_TIMEOUT", d.sms_timeout_s),
        verify_key=raw.get("VERIFY_KEY", "").strip() or None,
        verify_code_ttl_s=_int(raw, "VERIFY_CODE_TTL", d.verify_code_ttl_s, 1, 3600),
        verify_resend_s=_int(raw, "VERIFY_RESEND_AFTER", d.verify_resend_s, 0, 3600),
    )
    if settings.production:
        for name in ("DATABASE_URL", "REDIS_URL", "MONGO_URL"):
            if not raw.get(name):
                raise ConfigError(PREFIX + name, "is required when LEADCAP_ENV=production")
        refuse_placeholders(raw)
    _check_verification(settings)
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


def parse_rate_limit(text: str) -> RateLimit:
    """`"10/minute"` → RateLimit(10, 60); raise ConfigError on anything else."""
    count, _, unit = text.strip().partition("/")
    if not count.strip().isdigit() or unit.strip().lower() not in WINDOWS or int(count) < 1:
        raise ConfigError(
            "LEADCAP_RATE_LIMIT", f"must look like 10/minute (N/second|minute|hour|day), got {text!r}"
        )
    return RateLimit(int(count), WINDOWS[unit.strip().lower()])


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
        if not parts.scheme.startswith("mongodb"):  # MongoDB lists several host:port pairs
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


def _region(raw: Mapping[str, str], name: str, default: str) -> str:
    text = raw.get(name, "").strip().upper() or default
    if text not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(PREFIX + name, f"is not a known region code, got {text!r}")
    return text


def _regions(raw: Mapping[str, str], name: str) -> frozenset[str] | None:
    text = raw.get(name, "").strip() or "IR"
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
