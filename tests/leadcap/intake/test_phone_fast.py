"""normalise's fast path gives exactly what phonenumbers' general path gives (leadcap/intake/phone.py)."""

from __future__ import annotations

import dataclasses
import random
import re

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from leadcap.errors import PhoneError
from leadcap.intake import phone

Answer = tuple[str, str]  # (e164, region), or (error class, message)


def answer(text: str, region: str, allowed: frozenset[str] | None = None) -> Answer:
    try:
        got = phone.normalise(text, default_region=region, allowed_regions=allowed)
    except PhoneError as error:
        return type(error).__name__, str(error)
    return got.e164, got.region


def general(text: str, region: str, allowed: frozenset[str] | None = None) -> Answer:
    """The same through phonenumbers only (normalise's checks before the parse are shared)."""
    try:
        got = phone._parsed(
            text.translate(phone._DIGITS).strip(), default_region=region, allowed_regions=allowed
        )
    except PhoneError as error:
        return type(error).__name__, str(error)
    return got.e164, got.region


def forms(national: str, country_code: str, prefix: str) -> list[str]:
    """The ways a national number is written; phonenumbers reads some of them as other numbers."""
    return [national, prefix + national, f"+{country_code}{national}", f"00{country_code}{national}",
            country_code + national, "+" + national, "0" + national, "00" + national]  # fmt: skip


def test_the_fast_path_is_taken_for_a_plain_iranian_mobile() -> None:
    # Otherwise every comparison below would be the general path against itself.
    for text in ("09123456789", "9123456789", "+989123456789", "09901234567"):
        assert phone._fast_mobile(text, "IR") == phone.Phone("+98" + text[-10:], "IR")
    assert phone._fast_mobile("02112345678", "IR") is None  # a Tehran landline: the general path says why


def test_every_iranian_three_digit_prefix_in_every_form_matches_phonenumbers() -> None:
    rng = random.Random(17)
    mismatches = []
    for head in range(1000):
        for length in (9, 10, 11):
            for _ in range(2):
                national = f"{head:03d}" + "".join(rng.choice("0123456789") for _ in range(length - 3))
                for text in forms(national, "98", "0"):
                    if answer(text, "IR") != general(text, "IR"):
                        mismatches.append(text)
    assert mismatches == []


def test_every_mobile_prefix_of_iran_with_many_endings_matches_phonenumbers() -> None:
    rng = random.Random(18)
    for head in range(9000, 10000):
        for _ in range(4):
            national = str(head) + f"{rng.randrange(10**6):06d}"
            for text in (national, "0" + national, "+98" + national):
                assert answer(text, "IR") == general(text, "IR"), text


def test_the_region_check_is_the_same_on_the_fast_path() -> None:
    for allowed in (None, frozenset({"IR"}), frozenset({"TR"}), frozenset()):
        assert answer("09123456789", "IR", allowed) == general("09123456789", "IR", allowed)
    assert answer("09123456789", "IR", frozenset({"TR"}))[0] == "RegionNotAllowed"


def _neighbours(national: str) -> list[str]:
    """The number, each one-digit change of it, and it a digit shorter and longer."""
    changed = [
        national[:i] + digit + national[i + 1 :] for i in range(len(national)) for digit in "0123456789"
    ]
    return [national, national[:-1], national + "0", *changed]


@pytest.mark.parametrize("region", sorted(r for r in phonenumbers.SUPPORTED_REGIONS if phone._shortcut(r)))
def test_every_region_with_a_shortcut_matches_phonenumbers_near_its_examples(region: str) -> None:
    """The fast path is general (the default region is a setting): held equal for every region
    that has one, on every type's example number and its one-digit neighbours."""
    shortcut = phone._shortcut(region)
    assert shortcut is not None
    for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        national = phonenumbers.national_significant_number(example)
        for near in _neighbours(national):
            for text in forms(near, shortcut.country_code, shortcut.national_prefix)[:5]:
                assert answer(text, region) == general(text, region), (region, text)


@given(st.from_regex(r"(\+|00|0)?(98)?[0-9]{6,13}", fullmatch=True))
def test_digit_strings_match_phonenumbers(text: str) -> None:
    assert answer(text, "IR") == general(text, "IR")


def test_a_number_of_a_type_phonenumbers_checks_before_mobile_is_left_to_it() -> None:
    # No region's metadata has such an overlap today; the rule mirrors _number_type_helper's order.
    shortcut = phone._shortcut("IR")
    assert shortcut is not None
    uan_too = phone._Desc(frozenset(), re.compile("912[0-9]{7}"))
    overlapping = dataclasses.replace(shortcut, before_mobile=(*shortcut.before_mobile, uan_too))
    assert shortcut.is_mobile("9123456789") and not overlapping.is_mobile("9123456789")
    assert overlapping.is_mobile("9351234567")
