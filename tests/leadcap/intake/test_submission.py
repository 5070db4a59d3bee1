from __future__ import annotations

import dataclasses

import orjson
import pytest

from leadcap import lead
from leadcap.errors import InvalidBody, MissingPhone, UnsupportedMediaType
from leadcap.ids import uuid7, uuid7_time_ms
from leadcap.intake import submission


def draft(body: object) -> submission.Draft:
    return submission.read_body(submission.JSON, orjson.dumps(body))


def test_full_json_body() -> None:
    d = draft({"phone": "0912", "source": "hero", "utm": {"source": "google", "medium": "cpc", "x": 1}})
    assert d.phone == "0912" and d.source == "hero"
    assert d.utm == {"source": "google", "medium": "cpc"}  # unknown utm keys are ignored


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1,2]", b'"phone"', b"null", b"{", b'{"phone": "1"} trailing', b"\xff\xfe"],
)
def test_not_a_json_object(raw: bytes) -> None:
    with pytest.raises(InvalidBody):
        submission.read_body(submission.JSON, raw)


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "1", "source": 5},
        {"phone": "1", "source": "x" * 65},
        {"phone": "1", "utm": "google"},
        {"phone": "1", "utm": {"source": ["a"]}},
        {"phone": "1", "utm": {"campaign": "c" * 129}},
        {"phone": "1", "website": 1},
    ],
)
def test_wrong_types_and_lengths(body: object) -> None:
    with pytest.raises(InvalidBody):
        draft(body)


CONTROLS = ["\x00", "\x01", "\n", "\r", "\t", "\x1b", "\x1f", "\x7f"]


@pytest.mark.parametrize("char", CONTROLS)
@pytest.mark.parametrize("where", ["source", *lead.UTM_KEYS])
def test_control_characters_are_refused_in_json(char: str, where: str) -> None:
    body: dict[str, object] = {"phone": "0912"}
    if where == "source":
        body["source"] = f"a{char}b"
    else:
        body["utm"] = {where: f"a{char}b"}
    with pytest.raises(InvalidBody, match="control characters"):
        draft(body)


@pytest.mark.parametrize("char", ["%00", "%0A", "%1F", "%7F"])
@pytest.mark.parametrize("field", ["source", *(f"utm_{key}" for key in lead.UTM_KEYS)])
def test_control_characters_are_refused_in_forms(char: str, field: str) -> None:
    with pytest.raises(InvalidBody, match="control characters"):
        submission.read_body(submission.FORM, f"phone=0912&{field}=a{char}b".encode())


def test_printable_unicode_is_not_a_control_character() -> None:
    # Persian text, a space, U+0080 and U+00A0 stay allowed: only C0 and DEL are refused.
    d = draft({"phone": "0912", "source": "صفحه اصلی", "utm": {"term": "a\u0080\u00a0b"}})
    assert d.source == "صفحه اصلی" and d.utm == {"term": "a\u0080\u00a0b"}


def test_limits_are_inclusive() -> None:
    d = draft({"phone": "1", "source": "s" * 64, "utm": {"term": "t" * 128}})
    assert len(d.source or "") == 64 and len(d.utm["term"]) == 128


def test_form_body() -> None:
    d = submission.read_body(
        submission.FORM, b"phone=0912+345+6789&source=hero&utm_source=news&utm_medium=&website="
    )
    assert d.phone == "0912 345 6789" and d.source == "hero" and d.utm == {"source": "news"}
    assert d.website == ""


def test_form_must_be_utf8() -> None:
    with pytest.raises(InvalidBody):
        submission.read_body(submission.FORM, b"phone=%FF%FE\xff")


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("application/json", submission.JSON),
        ("Application/JSON; charset=utf-8", submission.JSON),
        ("application/x-www-form-urlencoded", submission.FORM),
    ],
)
def test_media_types(header: str, kind: str) -> None:
    assert submission.media_type(header) == kind


@pytest.mark.parametrize(
    "header", [None, "", "text/plain", "multipart/form-data; boundary=x", "application/jsonx"]
)
def test_other_media_types(header: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        submission.media_type(header)


def test_validate_makes_a_uuid7_and_flags_the_honeypot() -> None:
    s = submission.validate(
        draft({"phone": "09123456789", "website": "http://spam"}), default_region="IR", allowed_regions=None
    )
    assert s.phone == "+989123456789" and s.honeypot and s.id.version == 7
    with pytest.raises(MissingPhone):
        submission.validate(draft({"phone": None}), default_region="IR", allowed_regions=None)


def test_message_round_trip() -> None:
    s = submission.validate(
        draft({"phone": "09123456789", "utm": {"source": "g"}}), default_region="IR", allowed_regions=None
    )
    assert submission.Submission.from_message(s.to_message()) == s


def test_uuid7_is_time_ordered() -> None:
    a, b = uuid7(now_ms=1_000), uuid7(now_ms=2_000)
    assert a < b and uuid7_time_ms(a) == 1_000 and a.version == 7 and a.variant == "specified in RFC 4122"


def test_a_queued_message_reads_back_or_is_refused_as_unwritable() -> None:
    """What the worker reads (read_message): the submission encode_task wrote, or Unreadable for
    what could never be written (its dead letter then says why)."""
    good = submission.Submission(
        id=uuid7(), phone="+989121234567", region="IR", source="hero", utm={"campaign": "fall"}
    )
    assert submission.read_message(good.to_message()) == good
    for bad in (
        {**good.to_message(), "phone": "09121234567"},
        {**good.to_message(), "utm": {"campaign": 5}},
        {**good.to_message(), "source": 7},
        {k: v for k, v in good.to_message().items() if k != "region"},
    ):
        with pytest.raises(submission.Unreadable):
            submission.read_message(bad)


def test_a_queued_variant_reads_back_or_is_refused() -> None:
    """The variant rides in the message only when there is one (a campaign without variants
    queues what it did before), and a message naming something else than a variant is Unreadable."""
    plain = submission.Submission(id=uuid7(), phone="+989121234567", region="IR", campaign="spring")
    assert "variant" not in plain.to_message()
    shown = dataclasses.replace(plain, variant="b")
    assert submission.read_message(shown.to_message()) == shown
    for bad in ("", "B", "x" * 21, 7, ["b"], "../b"):
        with pytest.raises(submission.Unreadable):
            submission.read_message({**plain.to_message(), "variant": bad})
