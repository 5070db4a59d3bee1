from __future__ import annotations

import logging

import orjson
import pytest

from leadcap import logs


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        ("lead +989123456789 accepted", "lead +9891******89 accepted"),
        ("call 0912 345 6789 now", "call 0912*****89 now"),
        ("phone=09123456789", "phone=0912*****89"),
        ("digits ۰۹۱۲۳۴۵۶۷۸۹.", "digits ۰۹۱۲*****۸۹."),
        ("(0912) 345-6789", "(0912*****89"),
    ],
)
def test_phone_numbers_are_masked(message: str, masked: str) -> None:
    assert logs.scrub(message) == masked


@pytest.mark.parametrize(
    "message",
    [
        "task 01a22722-83b6-71ed-89e5-eb16e26643d5 done",
        "port 5432 ok",
        "took 12.5 ms",
    ],
)
def test_ids_and_small_numbers_are_left_alone(message: str) -> None:
    assert logs.scrub(message) == message


def test_every_line_is_json_with_the_request_id() -> None:
    record = logging.LogRecord("leadcap.x", logging.WARNING, __file__, 1, "got %s", ("+989123456789",), None)
    token = logs.request_id.set("req-1")
    try:
        line = orjson.loads(logs.JsonFormatter().format(record))
    finally:
        logs.request_id.reset(token)
    assert (
        line["request_id"] == "req-1"
        and line["level"] == "WARNING"
        and "+989123456789" not in line["message"]
    )
