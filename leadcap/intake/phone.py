"""Phone rules: turn what a visitor typed into E.164, or say precisely why not. Pure, no I/O."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberDesc,
    PhoneNumberType,
    carrier,
)
from phonenumbers.carrierdata import CARRIER_DATA, CARRIER_LONGEST_PREFIX

from leadcap.errors import InvalidPhone, MissingPhone, NotMobile, RegionNotAllowed

MAX_LENGTH = 32
# Persian (U+06F0…) and Arabic-Indic (U+0660…) digits, read as ASCII digits.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# What people put between digits; anything else (letters, "ext.", ";") is not a phone number.
_SHAPE = re.compile(r"\+?[0-9 ()\-.\u00a0]+")
_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# The types carrier.name_for_number answers for (its _is_mobile); any other type gets "".
_CARRIER_TYPES = frozenset({*_MOBILE, PhoneNumberType.PAGER})
# libphonenumber's English carrier names mix two schemes: brands (Irancell, Rightel, TeleKish,
# Aptel) and company codes (IR-MCI, MTCE). carrier_of gives the brand throughout, the name its
# Persian data gives too (همراه اول, اسپادان), so a CRM or an export sees one scheme.
CARRIER_BRANDS = {"IR-MCI": "Hamrah-e Aval", "MTCE": "Espadan"}
# carrier_of's fast path: "+" and 7 to 15 ASCII digits, no leading zero (the shape E.164 has).
_PLUS_DIGITS = re.compile(r"\+[1-9][0-9]{6,14}")

# Keep every compiled metadata pattern instead of asking re's bounded cache each time:
# number_type() gets ~25% cheaper (more for country codes shared by several regions).
phonenumbers.enable_pattern_cache()


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
    fast = _fast_mobile(text, default_region)
    if fast is not None:
        if allowed_regions is not None and fast.region not in allowed_regions:
            raise RegionNotAllowed("We cannot accept mobile numbers from that country yet.")
        return fast
    return _parsed(text, default_region=default_region, allowed_regions=allowed_regions)


def _parsed(text: str, *, default_region: str, allowed_regions: frozenset[str] | None) -> Phone:
    """normalise's general path, through phonenumbers: every shape and every error."""
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


@dataclass(frozen=True, slots=True)
class _Desc:
    """One PhoneNumberDesc as phonenumbers' `_is_number_matching_desc` reads it."""

    lengths: frozenset[int]  # empty: any length (the general description's already held)
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, desc: PhoneNumberDesc | None) -> _Desc | None:
        if desc is None or not desc.national_number_pattern:
            return None  # phonenumbers' _match_national_number: never matches
        return cls(frozenset(desc.possible_length), re.compile(desc.national_number_pattern))

    def matches(self, national: str) -> bool:
        return (not self.lengths or len(national) in self.lengths) and self.pattern.fullmatch(
            national
        ) is not None


@dataclass(frozen=True, slots=True)
class _Shortcut:
    """What normalise's fast path knows of the default region; see `_shortcut`."""

    region: str
    country_code: str  # its digits
    national_prefix: str  # "" when the region has none
    international_prefix: re.Pattern[str]
    general: _Desc
    local_only: frozenset[int]  # national lengths phonenumbers will not strip a prefix down to
    before_mobile: tuple[_Desc, ...]  # the types phonenumbers' _number_type_helper tries first
    mobile: _Desc

    def is_mobile(self, national: str) -> bool:
        """`number_type` is MOBILE or FIXED_LINE_OR_MOBILE (only ever True when it is)."""
        return (
            self.general.matches(national)
            and len(national) not in self.local_only
            and not any(desc.matches(national) for desc in self.before_mobile)
            and self.mobile.matches(national)
        )


@functools.cache
def _shortcut(region: str) -> _Shortcut | None:
    """The default region's fast-path data, or None for a region whose metadata needs the
    general parser: a country code shared with other regions (the region then depends on the
    digits), a national prefix read by a pattern or rewritten by a transform rule."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if (
        metadata is None
        or metadata.country_code is None
        or metadata.general_desc is None
        or COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code) != (region,)
    ):
        return None
    prefix = metadata.national_prefix or ""
    general, mobile = _Desc.of(metadata.general_desc), _Desc.of(metadata.mobile)
    if (
        metadata.national_prefix_transform_rule
        or (metadata.national_prefix_for_parsing or "") != prefix
        or (prefix and not prefix.isdigit())
        or not metadata.international_prefix
        or general is None
        or mobile is None
    ):
        return None
    before = (
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
    )
    return _Shortcut(
        region=region,
        country_code=str(metadata.country_code),
        national_prefix=prefix,
        international_prefix=re.compile(metadata.international_prefix),
        general=general,
        local_only=frozenset(metadata.general_desc.possible_length_local_only),
        before_mobile=tuple(desc for desc in map(_Desc.of, before) if desc is not None),
        mobile=mobile,
    )


def _fast_mobile(text: str, default_region: str) -> Phone | None:
    """The answer of `_parsed` for a plain mobile of the default region, without phonenumbers'
    general parser (two thirds of a lead's validation CPU); None whenever it might differ.

    It takes three digit-only shapes: "+<country code><national>", "<national prefix>
    <national>" and "<national>", and reads them as phonenumbers' parse does when nothing else
    applies: no international dialling prefix, no country code in front of a national-looking
    number, and a national number that is not itself stripped of a prefix nor starts with 0
    (both left to the general path). Then the number is a mobile if it matches the general
    description, no type phonenumbers checks before mobile, and the mobile description. Anything
    else, and every number that is not a mobile, goes the general way, which also words the
    error. tests/leadcap/intake/test_phone_fast.py holds the two equal over generated numbers.
    """
    shortcut = _shortcut(default_region)
    if shortcut is None:
        return None
    if text[0] == "+":
        if not text[1:].isdigit() or not text.startswith(shortcut.country_code, 1):
            return None
        national = text[1 + len(shortcut.country_code) :]
    else:
        if (
            not text.isdigit()
            or text.startswith(shortcut.country_code)
            or shortcut.international_prefix.match(text)
        ):
            return None
        prefix = shortcut.national_prefix
        national = text[len(prefix) :] if prefix and text.startswith(prefix) else text
    if (
        not national
        or national[0] == "0"
        or (shortcut.national_prefix and national.startswith(shortcut.national_prefix))
    ):
        return None
    if not shortcut.is_mobile(national):
        return None
    return Phone(f"+{shortcut.country_code}{national}", shortcut.region)


def carrier_of(e164: str) -> str | None:
    """The mobile operator's English name for an E.164 number (its brand: CARRIER_BRANDS), or
    None if unknown.

    Exactly `carrier.name_for_number(phonenumbers.parse(e164, None), "en") or None` (and raises
    what parse raises) with CARRIER_BRANDS applied, at a quarter to a half of its cost: called
    once per row the worker writes.

    That answer has two parts. The carrier name itself depends only on the first digits (the
    carrier data is keyed by prefixes of the E.164 digits, and a country code's keys are at
    most `_carrier_prefix_length(cc)` long), so it is cached by those digits. But it is only
    given when the number's type is mobile, fixed-line-or-mobile or pager, and the type
    depends on every digit, so that check runs for every number; a number with the right
    prefix but one digit too many is not a mobile and has no carrier.

    What is skipped is `parse`: for "+<country code><national number>" whose national number
    parse would leave as it is (no leading zero, and the national-prefix-for-parsing pattern of
    the country's main region does not match its start), parse yields exactly that country
    code and national number, so the PhoneNumber is built directly. Anything else goes the
    slow way. tests/leadcap/intake/test_phone_properties.py holds the two equal over many numbers.
    """
    number = _as_parsed(e164)
    if number is None:
        name = carrier.name_for_number(phonenumbers.parse(e164, None), "en")
        return CARRIER_BRANDS.get(name, name) or None
    if phonenumbers.number_type(number) not in _CARRIER_TYPES:
        return None
    digits = e164[1:]  # == format_number(number, E164)[1:], as built above
    return _carrier_for_prefix(digits[: _carrier_prefix_length(number.country_code)]) or None


def _as_parsed(e164: str) -> PhoneNumber | None:
    """`phonenumbers.parse(e164, None)` when the input is one whose result is known without the
    general parser (see carrier_of), else None."""
    if not _PLUS_DIGITS.fullmatch(e164):
        return None
    for length in (1, 2, 3):  # country codes are prefix-free: the first match is the one
        country_code = int(e164[1 : 1 + length])
        if country_code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None  # parse raises INVALID_COUNTRY_CODE: let it
    national = e164[1 + length :]
    prefix = _national_prefix_pattern(country_code)
    if national[0] == "0" or prefix is None or prefix.match(national):
        return None  # leading zeros, an unknown region, or a prefix parse may strip: slow path
    return PhoneNumber(country_code=country_code, national_number=int(national))


@functools.cache
def _national_prefix_pattern(country_code: int) -> re.Pattern[str] | None:
    """The pattern parse strips national prefixes with, for the country code's main region; one
    that never matches when the region has none; None when there is no metadata."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return None
    return re.compile(metadata.national_prefix_for_parsing or r"(?!)")


@functools.cache
def _carrier_prefix_length(country_code: int) -> int:
    """How many leading E.164 digits decide the carrier name of a number with this country code:
    the longest carrier-data key that could be a prefix of such a number (one that starts
    with the code, or a shorter one that the code starts with)."""
    code = str(country_code)
    return max(
        (len(key) for key in CARRIER_DATA if key.startswith(code) or code.startswith(key)),
        default=0,
    )


@functools.lru_cache(maxsize=16384)
def _carrier_for_prefix(digits: str) -> str:
    """The carrier name lookup of phonenumbers' `_prefix_description_for_number` for English:
    the longest prefix with an English name wins ("" if none), as its brand. Its language
    fallback for "en" with no script or region comes down to `names.get("en")`."""
    for length in range(min(CARRIER_LONGEST_PREFIX, len(digits)), 0, -1):
        names = CARRIER_DATA.get(digits[:length])
        if names is not None:
            name = names.get("en")
            if name is not None:
                return CARRIER_BRANDS.get(name, str(name))
    return ""


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
