"""The visitor cookie's rules: what is minted, what is read back, and who a request counts as."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from leadcap import settings
from leadcap.errors import ConfigError
from leadcap.intake import visitor
from leadcap.settings import RateLimit

KEY = b"k" * 32
NOW = 1_780_000_000


def test_a_minted_cookie_reads_back_as_its_visitor_for_24_hours() -> None:
    value = visitor.mint(KEY, NOW)
    visitor_id = visitor.read(KEY, value, NOW)
    assert visitor_id is not None and visitor_id in value
    assert visitor.read(KEY, value, NOW + visitor.MAX_AGE_S - 1) == visitor_id
    assert len(value) <= visitor.MAX_COOKIE
    assert visitor.read(KEY, visitor.mint(KEY, NOW), NOW) != visitor_id  # each browser its own


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "1",
        "garbage",
        "1.a.b",
        "1.a.b.c.d",
        "2" + visitor.mint(KEY, NOW)[1:],  # another version
        visitor.mint(KEY, NOW) + "x" * 80,  # too long to be ours
        "1.é.0.AAAA",
    ],
)
def test_anything_malformed_is_no_visitor(value: str | None) -> None:
    assert visitor.read(KEY, value, NOW) is None


def test_forged_expired_future_and_other_key_cookies_are_no_visitor() -> None:
    value = visitor.mint(KEY, NOW)
    body, _, mac = value.rpartition(".")
    _, visitor_id, made = body.split(".")
    assert visitor.read(KEY, f"1.{'A' * len(visitor_id)}.{made}.{mac}", NOW) is None  # id changed
    assert visitor.read(KEY, f"1.{visitor_id}.{NOW + 1:x}.{mac}", NOW) is None  # time changed
    assert visitor.read(KEY, f"{body}.{'A' * len(mac)}", NOW) is None  # mac made up
    assert visitor.read(b"o" * 32, value, NOW) is None  # another key's
    assert visitor.read(KEY, value, NOW + visitor.MAX_AGE_S) is None  # 24 h old
    assert visitor.read(KEY, visitor.mint(KEY, NOW + visitor.SKEW_S + 1), NOW) is None  # from the future


def test_the_cookie_is_http_only_lax_and_lasts_a_day() -> None:
    header = visitor.set_cookie("v")
    assert header.startswith(f"{visitor.COOKIE}=v;")
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Max-Age=86400" in header
    assert "Path=/" in header


def test_a_visitor_counts_as_itself_and_in_its_address_ceiling_others_by_address() -> None:
    rate, shared = RateLimit(10, 60), RateLimit(600, 60)
    alone = visitor.counted_in("203.0.113.7", None, rate_limit=rate, shared_limit=shared)
    assert alone == (visitor.Window(visitor.ADDRESS, "203.0.113.7", rate),)
    seen = visitor.counted_in("203.0.113.7", "abc", rate_limit=rate, shared_limit=shared)
    assert [(w.kind, w.limit) for w in seen] == [(visitor.VISITOR, rate), (visitor.SHARED, shared)]
    assert len({w.bucket for w in (*alone, *seen)}) == 3  # three different counters
    assert {w.bucket for w in visitor.scoped(seen, "v:")}.isdisjoint(w.bucket for w in seen)


def test_the_key_is_required_in_production_and_generated_elsewhere(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LEADCAP_VISITOR_KEY"):
        visitor.load_key(settings.parse({"DATA_DIR": str(tmp_path)}).replace(env="production"))
    given = "g" * 32
    assert visitor.load_key(settings.parse({"VISITOR_KEY": given})) == given.encode()
    first = visitor.load_key(settings.parse({"DATA_DIR": str(tmp_path)}))
    assert len(first) == 64 and visitor.load_key(settings.parse({"DATA_DIR": str(tmp_path)})) == first
    assert stat.S_IMODE(os.stat(tmp_path / visitor.KEY_FILE).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [visitor.KEY_FILE]  # nothing left aside
    with pytest.raises(ConfigError, match="LEADCAP_VISITOR_KEY must be at least 32"):
        settings.parse({"VISITOR_KEY": "short"})
