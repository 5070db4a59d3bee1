from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from leadcap import sentinel, settings
from leadcap.errors import ConfigError
from leadcap.settings import RateLimit
from tests.servers import ROOT


def test_defaults() -> None:
    s = settings.parse({})
    assert s.rate_limit == RateLimit(10, 60)
    assert s.default_region == "IR"
    assert s.allowed_regions == frozenset({"IR"})
    assert s.dedupe_window_s == 600
    assert s.trusted_proxies == ()
    assert s.database_url is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/minute", RateLimit(10, 60)),
        ("5/second", RateLimit(5, 1)),
        ("100/hour", RateLimit(100, 3600)),
        ("1000/day", RateLimit(1000, 86400)),
        (" 7 / Minute ", RateLimit(7, 60)),
    ],
)
def test_rate_limits(text: str, expected: RateLimit) -> None:
    assert settings.parse_rate_limit(text) == expected


@pytest.mark.parametrize(
    "text", ["ten/minute", "10/fortnight", "10", "/minute", "0/minute", "-1/minute", "10/"]
)
def test_bad_rate_limit_names_the_variable(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings.parse({"RATE_LIMIT": text})
    assert info.value.variable == "LEADCAP_RATE_LIMIT"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEFAULT_REGION", "XX"),
        ("ALLOWED_REGIONS", "IR,ZZ"),
        ("DATABASE_URL", "http://example.org/db"),
        ("REDIS_URL", "redis://host:notaport/0"),
        ("MONGO_URL", "postgres://x"),
        ("DEDUPE_WINDOW", "soon"),
        ("PORT", "70000"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,not-a-net"),
        ("ENV", "staging"),
    ],
)
def test_bad_values_name_their_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings.parse({name: value})
    assert info.value.variable == "LEADCAP_" + name


def test_any_region_and_lists() -> None:
    s = settings.parse({"ALLOWED_REGIONS": "*", "TRUSTED_PROXIES": "10.0.0.0/8, ::1/128"})
    assert s.allowed_regions is None
    assert s.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))
    assert settings.parse({"ALLOWED_REGIONS": "ir, gb"}).allowed_regions == frozenset({"IR", "GB"})


def test_production_requires_every_url() -> None:
    with pytest.raises(ConfigError) as info:
        settings.parse({"ENV": "production", "DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r"})
    assert info.value.variable == "LEADCAP_MONGO_URL"


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\nexport LEADCAP_RATE_LIMIT='3/second'\nLEADCAP_DEDUPE_WINDOW=\"60\"\nOTHER=1\n"
    )
    s = settings.load({"LEADCAP_DEDUPE_WINDOW": "5"}, env_file)
    assert s.rate_limit == RateLimit(3, 1)
    assert s.dedupe_window_s == 5


def test_masked_hides_passwords() -> None:
    s = settings.parse({"DATABASE_URL": "postgresql://app:s3cret@db:5432/leads"})
    shown = s.masked()
    assert shown["LEADCAP_DATABASE_URL"] == "postgresql://app:***@db:5432/leads"
    assert "s3cret" not in "".join(shown.values())
    assert shown["LEADCAP_RATE_LIMIT"] == "10/minute"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:hunter2@db/leads?password=hunter2", "postgresql://app:***@db/leads?password=***"),
        (
            "postgresql://app@db/leads?sslmode=require&PassWord=hunter2",
            "postgresql://app@db/leads?sslmode=require&PassWord=***",
        ),
        ("postgresql://app@db/leads?pass%77ord=hunter2", "postgresql://app@db/leads?pass%77ord=***"),
        ("postgresql://app@db/leads?sslpassword=hunter2", "postgresql://app@db/leads?sslpassword=***"),
        ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis://cache:6379/0?password=hunter2", "redis://cache:6379/0?password=***"),
        ("mongodb://u:hun@ter2@m1:27017,m2:27017/x", "mongodb://u:***@m1:27017,m2:27017/x"),
        ("redis://cache/0#hunter2", "redis://cache/0#***"),
        (
            "redis+sentinel://:hunter2@s1:26379,s2/leadcap/2?sentinel_password=hunter2",
            "redis+sentinel://:***@s1:26379,s2/leadcap/2?sentinel_password=***",
        ),
        (
            "postgresql://app:hunter2@db1:5432,db2:5433/leads?target_session_attrs=read-write",
            "postgresql://app:***@db1:5432,db2:5433/leads?target_session_attrs=read-write",
        ),
    ],
)
def test_config_masks_every_password(url: str, shown: str) -> None:
    name = (
        "MONGO_URL"
        if url.startswith("mongodb")
        else "REDIS_URL"
        if url.startswith("redis")
        else "DATABASE_URL"
    )
    masked = settings.parse({name: url}).masked()["LEADCAP_" + name]
    assert masked == shown
    assert "hunter2" not in masked and "ter2" not in masked


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:hunter2/x@db/leads",  # a raw `/` in the password
        "postgresql://app:hunter2?x@db/leads",
        "postgresql://app:hunter2#x@db/leads",
        "postgresql://app:hunter2@db:port/leads",
        "mysql://app:hunter2@db/leads",
        "postgresql://app:hunter2@[db/leads",
        "postgresql://app:hunter2@db1:5432,db2:port/leads",
        "redis+sentinel://app:hunter2@s1:26379/",  # no master name
        "redis+sentinel://app:hunter2@s1:port/leadcap",
        "redis+sentinel://app:hunter2@s1,/leadcap",
        "redis+sentinel://app:hunter2@s1/leadcap/zero",
        "redis+sentinel://app:hunter2@s1/leadcap?hunter2=1",  # an unknown option is not echoed
        "redis+sentinel://app:hunter2@s1/leadcap?wait_replicas=many",
        "redis+sentinel://app:hunter2@s1,s2:26379,cache:6379/leadcap/0/1",
    ],
)
def test_bad_url_errors_never_repeat_the_password(url: str) -> None:
    name = "REDIS_URL" if url.startswith("redis") else "DATABASE_URL"
    with pytest.raises(ConfigError) as info:
        settings.parse({name: url})
    assert info.value.variable == "LEADCAP_" + name
    assert "hunter" not in info.value.message and "app" not in info.value.message


def test_a_sentinel_url_names_the_sentinels_the_primary_and_each_password() -> None:
    url = "redis+sentinel://app:p%40ss@s1:26380,[::1],s3/leadcap/2?wait_replicas=2"
    assert settings.parse({"REDIS_URL": url}).redis_url == url
    parsed = sentinel.parse(url)
    assert parsed == sentinel.SentinelUrl(
        sentinels=(("s1", 26380), ("::1", 26379), ("s3", 26379)),
        master="leadcap",
        db=2,
        username="app",
        password="p@ss",
        sentinel_username="app",
        sentinel_password="p@ss",  # the sentinels ask for the same password unless told
        wait_replicas=2,
    )
    own = sentinel.parse("redis+sentinel://:a@s1/m?sentinel_password=b&sentinel_username=watch")
    assert (own.password, own.sentinel_password, own.sentinel_username, own.wait_replicas) == (
        "a",
        "b",
        "watch",
        1,
    )
    assert sentinel.parse("redis+sentinel://:a@s1/m?sentinel_password=").sentinel_password is None
    assert sentinel.parse("redis+sentinel://s1/m").password is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgresql://leadcap:CHANGE_ME@db/leadcap"),
        ("REDIS_URL", "redis://:change_me_too@cache/0"),
        ("MONGO_URL", "mongodb://app@m/x?password=Change%5FMe"),
        ("SMS_API_KEY", "key-CHANGE_ME-1"),  # any LEADCAP_ variable, known to this version or not
    ],
)
def test_production_refuses_the_change_me_placeholder(name: str, value: str) -> None:
    raw = {
        "ENV": "production",
        "DATABASE_URL": "postgresql://leadcap:s3cret@db/leadcap",
        "REDIS_URL": "redis://:s3cret@cache/0",
        "MONGO_URL": "mongodb://app:s3cret@m/x",
        name: value,
    }
    with pytest.raises(ConfigError) as info:
        settings.parse(raw)
    assert info.value.variable == "LEADCAP_" + name
    assert value not in info.value.message and "s3cret" not in info.value.message
    settings.parse({**raw, "ENV": "development"})  # a laptop may keep the example values


def test_env_file_is_read_as_compose_reads_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "LEADCAP_PORT=8001 # the dev port\n"
        "LEADCAP_RATE_LIMIT='3/second' # quoted\n"
        'LEADCAP_HOST="0.0.0.0"\n'
        "LEADCAP_UI_DIST=/srv/ui#1\n"
        "LEADCAP_LOG_LEVEL\n"
    )
    s = settings.load({}, env_file)
    assert (s.port, s.rate_limit, s.host) == (8001, RateLimit(3, 1), "0.0.0.0")
    assert s.ui_dist == Path("/srv/ui#1")  # `#` without a space before it is no comment


def test_secret_files(tmp_path: Path) -> None:
    secret = tmp_path / "db_url"
    secret.write_text("postgresql://app:fr0m-file@db/leads\n")
    s = settings.load({"LEADCAP_DATABASE_URL_FILE": str(secret)}, None)
    assert s.database_url == "postgresql://app:fr0m-file@db/leads"
    assert "fr0m-file" not in "".join(s.masked().values())

    with pytest.raises(ConfigError) as both:
        settings.load(
            {"LEADCAP_DATABASE_URL_FILE": str(secret), "LEADCAP_DATABASE_URL": "postgresql://x/y"}, None
        )
    assert both.value.variable == "LEADCAP_DATABASE_URL" and "_FILE" in both.value.message

    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe")
    for path in (tmp_path / "missing", tmp_path, Path("/dev/zero"), binary):
        with pytest.raises(ConfigError) as unreadable:
            settings.load({"LEADCAP_REDIS_URL_FILE": str(path)}, None)
        assert unreadable.value.variable == "LEADCAP_REDIS_URL_FILE"

    bad = tmp_path / "bad_url"
    bad.write_text("mysql://app:fr0m-file@db/leads")
    with pytest.raises(ConfigError) as invalid:
        settings.load({"LEADCAP_DATABASE_URL_FILE": str(bad)}, None)
    assert "fr0m-file" not in invalid.value.message


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Asia/Tehran\x00"])
def test_bad_timezone(zone: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings.parse({"TIMEZONE": zone})
    assert info.value.variable == "LEADCAP_TIMEZONE"


def test_timezone_default_and_choice() -> None:
    assert settings.parse({}).tz.key == "Asia/Tehran"
    assert settings.parse({"TIMEZONE": "Europe/Berlin"}).masked()["LEADCAP_TIMEZONE"] == "Europe/Berlin"


def test_env_example_lists_exactly_the_declared_settings() -> None:
    """Each setting is declared once (Settings' field metadata); .env.example documents each
    declared variable, and nothing it lists is unknown to the parser."""
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^\s*#?\s*LEADCAP_([A-Z_]+)=", text, re.MULTILINE))
    declared = {d.env for d in settings.declarations().values()}
    assert listed == declared


def test_settings_are_declared_group_by_group() -> None:
    """Each setting names its group, and a group's settings are declared together, in GROUPS'
    order: `leadcap config`, .env.example and the docs list them so."""
    groups = [d.group for d in settings.declarations().values()]
    runs = [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]
    assert runs == list(settings.GROUPS)


def test_env_example_lists_the_settings_group_by_group() -> None:
    """.env.example follows the declarations: each group under its heading, in their order."""
    text = (ROOT / ".env.example").read_text()
    found = re.findall(r"^# == (.+) ==$|^\s*#?\s*LEADCAP_([A-Z_]+)=", text, re.MULTILINE)
    listed: list[tuple[str, str]] = []
    heading = ""
    for title, name in found:
        if title:
            heading = title
        else:
            listed.append((heading, name))
    declared = [(settings.GROUPS[d.group], d.env) for d in settings.declarations().values()]
    assert listed == declared


def test_the_docs_settings_table_is_the_declarations() -> None:
    """docs/api.md's table is generated from the declarations; after changing a setting, paste
    `python -c 'from leadcap.settings import docs_table; print(docs_table(), end="")'` over it."""
    text = (ROOT / "docs" / "api.md").read_text()
    table = text[text.index("| variable | default | meaning |") :]
    table = table[: table.index("\n\n") + 1]
    assert table == settings.docs_table()
    assert table.count("\n| `") == len(settings.declarations())


def test_every_declared_setting_is_parsed_masked_and_shown_by_config() -> None:
    declared = settings.declarations()
    masked = settings.parse({}).masked()
    assert list(masked) == [settings.PREFIX + d.env for d in declared.values()]
    assert all(d.help for d in declared.values())
    assert settings.FILE_SETTINGS == (
        "DATABASE_URL",
        "REDIS_URL",
        "MONGO_URL",
        "VISITOR_KEY",
        "SMS_API_KEY",
        "VERIFY_KEY",
    )


def test_unknown_variables_are_named_with_the_closest_known_one(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LEADCAP_RATE_LIMT=5/minute\nLEADCAP_VERIFY=off\n")
    (tmp_path / "db").write_text("postgresql://app@db/leads")
    environ = {
        "LEADCAP_VERFY": "sms",
        "LEADCAP_QQQQQQQQQQQQQ": "1",
        "LEADCAP_RATE_LIMIT_FILE": "/run/secrets/x",  # only secrets may come from a file
        # not misspellings: a secret's file, the suite's and the bench's own, the UI dev server's
        "LEADCAP_DATABASE_URL_FILE": str(tmp_path / "db"),
        "LEADCAP_TEST_REDIS_URL": "redis://x",
        "LEADCAP_BENCH_REDIS": "redis://x",
        "LEADCAP_DEV_API": "http://127.0.0.1:8000",
        # Kubernetes' variables for a Service named `leadcap`
        "LEADCAP_SERVICE_HOST": "10.0.0.11",
        "LEADCAP_SERVICE_PORT": "8000",
        "LEADCAP_SERVICE_PORT_HTTP": "8000",
        "LEADCAP_PORT_8000_TCP": "tcp://10.0.0.11:8000",
        "LEADCAP_PORT_8000_TCP_PROTO": "tcp",
        "LEADCAP_PORT_8000_TCP_PORT": "8000",
        "LEADCAP_PORT_8000_TCP_ADDR": "10.0.0.11",
        "LEADCAP_WEB_PORT": "tcp://10.0.0.12:80",  # ... and one named `leadcap-web`
        "OTHER_VERIFY": "sms",
    }
    assert settings.unknown_variables(environ, tmp_path / ".env") == [
        "LEADCAP_QQQQQQQQQQQQQ is not a leadcap setting and is ignored (`leadcap config` lists them)",
        "LEADCAP_RATE_LIMIT_FILE is not a leadcap setting and is ignored; did you mean LEADCAP_RATE_LIMIT?",
        "LEADCAP_RATE_LIMT (in .env) is not a leadcap setting and is ignored; did you mean"
        " LEADCAP_RATE_LIMIT?",
        "LEADCAP_VERFY is not a leadcap setting and is ignored; did you mean LEADCAP_VERIFY?",
    ]
    assert settings.unknown_variables({}, None) == []
    # Only a warning: the rest of the configuration loads as before.
    assert settings.load(environ, tmp_path / ".env").rate_limit == RateLimit(10, 60)


def test_config_spells_values_as_the_docs_do() -> None:
    """`leadcap config` prints `false`, not Python's `False`, and what it prints reads back as
    the same settings (masked secrets and `(embedded)`-like notes aside)."""
    shown = settings.parse({}).masked()
    assert shown["LEADCAP_WEBHOOK_ALLOW_PRIVATE"] == "false"
    assert (
        settings.parse({"WEBHOOK_ALLOW_PRIVATE": "yes"}).masked()["LEADCAP_WEBHOOK_ALLOW_PRIVATE"] == "true"
    )
    secrets = {settings.PREFIX + name for name in settings.FILE_SETTINGS}
    plain = {
        name.removeprefix(settings.PREFIX): value
        for name, value in shown.items()
        if name not in secrets and not value.startswith("(")
    }
    assert settings.parse(plain).masked() == shown


def test_bot_api_addresses_default_to_the_apis_and_never_show_a_password() -> None:
    default = settings.parse({})
    assert (default.telegram_base_url, default.bale_base_url) == (
        "https://api.telegram.org",
        "https://tapi.bale.ai",
    )
    proxied = settings.parse(
        {"BALE_BASE_URL": "https://u:hunter2@proxy.internal:8443", "PUBLIC_URL": "https://x.ir"}
    )
    assert proxied.bale_base_url == "https://u:hunter2@proxy.internal:8443"  # private addresses are allowed
    assert "hunter2" not in proxied.masked()["LEADCAP_BALE_BASE_URL"]
    with pytest.raises(ConfigError, match="LEADCAP_TELEGRAM_BASE_URL"):
        settings.parse({"TELEGRAM_BASE_URL": "ftp://api.telegram.org"})
