"""The error map: every Sanic error and every LeadcapError lands on its own contract row."""

from __future__ import annotations

import pytest
from sanic import exceptions as sanic_errors

from leadcap.errors import StoreError, Unavailable
from web.errors import _FROM_SANIC, STATUS, translate

CASES = [
    (sanic_errors.NotFound("x"), "not_found", "There is nothing at this address."),
    (
        sanic_errors.MethodNotAllowed("x", "PUT", ["POST"]),
        "method_not_allowed",
        "This method is not allowed here.",
    ),
    (sanic_errors.PayloadTooLarge("x"), "body_too_large", "The request body is too large (at most 4 KiB)."),
    (sanic_errors.HeaderNotFound("x"), "invalid_body", "A required header is missing."),
    (sanic_errors.InvalidUsage("x"), "invalid_body", "The request could not be read."),
    (sanic_errors.BadRequest("x"), "invalid_body", "The request could not be read."),
    (sanic_errors.RequestTimeout("x"), "invalid_body", "The request took too long to arrive."),
    (sanic_errors.ServiceUnavailable("x"), "unavailable", "The service is busy. Please try again shortly."),
    (RuntimeError("boom"), "internal", "Something went wrong on our side. Please try again."),
]


@pytest.mark.parametrize(("exc", "code", "message"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_each_sanic_error_maps_to_its_row(exc: Exception, code: str, message: str) -> None:
    error = translate(exc)
    assert (error.code, error.message) == (code, message)
    assert code in STATUS


def test_no_row_is_shadowed_by_an_earlier_base_class() -> None:
    """The first matching row wins: a row after its base class could never be chosen."""
    kinds = [kind for kind, _ in _FROM_SANIC]
    shadowed = [
        (later.__name__, earlier.__name__)
        for i, later in enumerate(kinds)
        for earlier in kinds[:i]
        if issubclass(later, earlier)
    ]
    assert shadowed == []


def test_unavailable_is_a_whole_store_error_carrying_retry_after() -> None:
    error = Unavailable("We cannot take your number right now.", retry_after=7)
    assert isinstance(error, StoreError)
    assert (error.store, error.reason, error.transient) == ("intake", error.message, True)
    assert error.message == "We cannot take your number right now." == str(error)
    assert error.retry_after == 7 and Unavailable("x").retry_after == 5
    assert translate(error) is error and STATUS[error.code] == 503
