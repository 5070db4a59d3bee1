"""Phone rules: turn what a visitor typed into E.164, or say precisely why not. Pure, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, carrier

from leadcap.errors import InvalidPhone, MissingPhone, NotMobile, RegionNotAllowed

MAX_LENGTH = 32
# Persian (U+06F0…) and Arabic-Indic (U+0660…) digits, read as ASCII digits.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# What people put between digits; anything else (letters, "ext.", ";") is not a phone number.
_SHAPE = re.compile(r"\+?[0-9 ()\-.\u00a0]+")
_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str
    region: str


def normalise(raw: object, *, default_region: str, allowed_regions: frozenset[str] | None) -> Phone:
    """Validate a submitted phone as a mobile number in an allowed region.

    Raises MissingPhone, InvalidPhone, NotMobile or RegionNotAllowed.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise MissingPhone("Please enter your mobile number.")
    if not isinstance(raw, str):
        raise InvalidPhone("The phone number must be text.")
    if len(raw) > MAX_LENGTH:
        raise InvalidPhone(f"That is too long for a phone number (at most {MAX_LENGTH} characters).")
    text = raw.translate(_DIGITS).strip()
    if not _SHAPE.fullmatch(text):
        raise InvalidPhone("That does not look like a phone number.")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("That does not look like a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("That is not a valid phone number.")
    if phonenumbers.number_type(number) not in _MOBILE:
        raise NotMobile("Please enter a mobile number, not a landline or service number.")
    region = phonenumbers.region_code_for_number(number) or ""
    if allowed_regions is not None and region not in allowed_regions:
        raise RegionNotAllowed("We cannot accept mobile numbers from that country yet.")
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), region)


def carrier_of(e164: str) -> str | None:
    """The mobile operator's English name for an E.164 number, or None if unknown."""
    name = carrier.name_for_number(phonenumbers.parse(e164, None), "en")
    return name or None


def warm_up(regions: Iterable[str], *, with_carriers: bool = False) -> None:
    """Load the lazily-read metadata now, so the first visitor does not pay for it."""
    for region in regions:
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if example is None:
            continue
        text = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        number = phonenumbers.parse(text, region)
        phonenumbers.is_valid_number(number)
        phonenumbers.number_type(number)
        if with_carriers:
            carrier_of(text)
