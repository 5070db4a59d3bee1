"""What a visitor sent, read from JSON or a form into a validated Submission, and the queue message
that carries it to the worker (written by `encode_task`, read back by `read_message`). Pure, no I/O."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

from leadcap import keys, slugs
from leadcap.errors import BodyTooLarge, InvalidBody, UnknownCampaign, UnsupportedMediaType
from leadcap.ids import uuid7, uuid7_time_ms
from leadcap.intake import phone
from leadcap.lead import UTM_KEYS, Consent

MAX_BODY = 4096
MAX_SOURCE = 64
MAX_UTM = 128
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# C0 controls and DEL. PostgreSQL's text refuses NUL outright (the lead would be answered 202 and
# then refused by the worker), and the rest have no place in an attribution label.
CONTROL = re.compile("[\x00-\x1f\x7f]")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")  # the leads.phone CHECK, so a bad one never gets there


@dataclass(frozen=True, slots=True)
class Submission:
    """One accepted phone number, as it travels from the web tier to PostgreSQL."""

    id: uuid.UUID
    phone: str  # E.164
    region: str
    source: str | None = None
    utm: dict[str, str] = field(default_factory=dict)
    honeypot: bool = False
    verify: bool = False  # LEADCAP_VERIFY=sms: the lead starts `unverified` until its code comes back
    # Its POST carried the mark of a visit counted on GET / (leadcap/campaign/visits.py): a new lead it
    # makes counts toward conversion; an API client's is counted apart.
    visited: bool = False
    # The campaign asked for consent and the visitor gave it, to this text (leadcap/landing/consent.py);
    # the consent's time is the submission's.
    consent: Consent | None = None
    campaign: str = slugs.DEFAULT  # the slug of the campaign whose form it came from
    # The variant of the campaign's copy its visitor was shown: derived by the server from the
    # visitor cookie (leadcap/landing/variants.py), never read from the form, so none is forged.
    variant: str | None = None

    @property
    def submitted_at(self) -> datetime:
        return datetime.fromtimestamp(uuid7_time_ms(self.id) / 1000, tz=UTC)

    @property
    def carrier(self) -> str | None:
        """The mobile operator, for the lead's row: worked out where the row is written (the
        worker, the verifier), never on the intake's path."""
        return phone.carrier_of(self.phone)

    def to_message(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": str(self.id),
            "phone": self.phone,
            "region": self.region,
            "source": self.source,
            "utm": self.utm,
        }
        if self.verify:  # absent when verification is off: the message stays byte for byte the same
            message["verify"] = True
        if self.visited:  # likewise absent for an API client
            message["visited"] = True
        if self.consent is not None:  # absent when the campaign asks for none
            # the text rides along so the worker can keep it (once per version) in the same
            # statement as the submission: no version is ever recorded without its text
            message["consent"] = {
                "version": self.consent.version,
                "lang": self.consent.lang,
                "text": self.consent.text,
            }
        if self.campaign != slugs.DEFAULT:  # likewise absent for the default campaign's
            message["campaign"] = self.campaign
        if self.variant is not None:  # likewise absent without variants
            message["variant"] = self.variant
        return message

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> Submission:
        return cls(
            id=uuid.UUID(data["id"]),
            phone=data["phone"],
            region=data["region"],
            source=data.get("source"),
            utm=dict(data.get("utm") or {}),
            verify=bool(data.get("verify", False)),
            visited=bool(data.get("visited", False)),
            consent=_consent(data.get("consent")),
            campaign=data.get("campaign", slugs.DEFAULT),
            variant=data.get("variant"),
        )


def _consent(data: object) -> Consent | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TypeError("consent is not an object")
    fields = (data.get("version"), data.get("lang"), data.get("text"))
    if not all(isinstance(v, str) and v for v in fields):
        raise TypeError("consent holds something else than text")
    return Consent(*fields)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Draft:
    """The fields of a request body, type-checked but with the phone not yet validated."""

    phone: object
    source: str | None
    utm: dict[str, str]
    website: str | None
    consent: object = None  # as sent: JSON's value as is, a form's checkbox as True (checked later)
    campaign: str = slugs.DEFAULT  # a well-formed slug; whether it is live is the intake's check


def too_large(limit: int = MAX_BODY) -> BodyTooLarge:
    """The body_too_large error, worded once for every place that refuses a body."""
    return BodyTooLarge(f"The request body is too large (at most {limit // 1024} KiB).")


def media_type(content_type: str | None) -> str:
    """The accepted media type of a Content-Type header; raise UnsupportedMediaType."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind not in (JSON, FORM):
        raise UnsupportedMediaType("Send the lead as application/json or a form.")
    return kind


def json_object(body: bytes) -> dict[str, Any]:
    """A JSON body's object; raise InvalidBody for anything else (every endpoint words it so)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidBody("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidBody("The request body must be a JSON object.")
    return data


def read_body(kind: str, body: bytes) -> Draft:
    """Parse a JSON or form body; raise InvalidBody for anything but the contract's shape."""
    if kind == JSON:
        data = json_object(body)
        return _draft(data, data.get("utm"), consent=data.get("consent"))
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidBody("The form is not valid UTF-8.") from None
    form = dict(pairs)  # a repeated field keeps its last value, as browsers never repeat these
    utm = {key: form[f"utm_{key}"] for key in UTM_KEYS if f"utm_{key}" in form}
    # A ticked checkbox sends its value (any non-empty one); an unticked one sends nothing.
    return _draft(form, utm, consent=True if form.get("consent") else None)


def _draft(data: dict[str, Any], utm: object, *, consent: object) -> Draft:
    source = _optional_text(data.get("source"), "source", MAX_SOURCE, plain=True)
    website = _optional_text(data.get("website"), "website", MAX_BODY)
    if utm is None:
        utm = {}
    if not isinstance(utm, dict):
        raise InvalidBody("utm must be an object.")
    clean: dict[str, str] = {}
    for key in UTM_KEYS:
        value = _optional_text(utm.get(key), f"utm.{key}", MAX_UTM, plain=True)
        if value:
            clean[key] = value
    campaign = _optional_text(data.get("campaign"), "campaign", MAX_SOURCE, plain=True)
    if campaign is not None and not slugs.well_formed(campaign):
        raise UnknownCampaign(slugs.UNKNOWN)
    return Draft(
        phone=data.get("phone"),
        source=source or None,
        utm=clean,
        website=website,
        consent=consent,
        campaign=campaign or slugs.DEFAULT,
    )


def _optional_text(value: object, name: str, limit: int, *, plain: bool = False) -> str | None:
    """A string field, or None; `plain` fields (stored ones) also refuse control characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidBody(f"{name} must be a string.")
    if len(value) > limit:
        raise InvalidBody(f"{name} is too long (at most {limit} characters).")
    if plain and CONTROL.search(value):
        raise InvalidBody(f"{name} must not contain control characters.")
    return value


def validate(draft: Draft, *, default_region: str, allowed_regions: frozenset[str] | None) -> Submission:
    """Turn a draft into a Submission with a fresh UUIDv7; raise a PhoneError."""
    number = phone.normalise(draft.phone, default_region=default_region, allowed_regions=allowed_regions)
    return Submission(
        id=uuid7(),
        phone=number.e164,
        region=number.region,
        source=draft.source,
        utm=draft.utm,
        honeypot=bool(draft.website and draft.website.strip()),
        campaign=draft.campaign,
    )


class Unreadable(ValueError):
    """A queued message that is not a submission the worker could ever write."""


def read_message(message: Mapping[str, Any]) -> Submission:
    """The Submission in a queued message; raise Unreadable if it cannot be one."""
    try:
        item = Submission.from_message(dict(message))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Unreadable(f"unreadable message: {type(exc).__name__}") from None
    if not isinstance(item.phone, str) or not E164.match(item.phone):
        raise Unreadable("unreadable message: phone is not E.164")
    if not isinstance(item.region, str) or not (item.source is None or isinstance(item.source, str)):
        raise Unreadable("unreadable message: region or source is not text")
    if not all(isinstance(value, str) for value in item.utm.values()):
        raise Unreadable("unreadable message: utm is not a map of text")
    if not isinstance(item.campaign, str) or not slugs.well_formed(item.campaign):
        raise Unreadable("unreadable message: campaign is not a slug")
    if item.variant is not None and not (
        isinstance(item.variant, str) and slugs.VARIANT_NAME.fullmatch(item.variant)
    ):
        raise Unreadable("unreadable message: variant is not a variant name")
    return item


def encode_task(submission: dict[str, Any]) -> bytes:
    """The Taskiq wire message (JSON formatter) that runs the lead task on `submission`.

    The web tier builds it by hand, without taskiq, so that the enqueue can happen inside
    intake.lua; tests check that Taskiq's own formatter reads it back.
    """
    return orjson.dumps(
        {
            "task_id": submission["id"],
            "task_name": keys.TASK_NAME,
            "labels": {},
            "args": [],
            "kwargs": {"submission": submission},
        }
    )
