from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from leadcap import settings
from leadcap.errors import ConfigError
from leadcap.settings import RateLimit


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
