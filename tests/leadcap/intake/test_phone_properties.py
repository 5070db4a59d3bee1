"""Properties of the phone rules over generated input (hypothesis)."""

from __future__ import annotations

import re

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import carrier

from leadcap.errors import PhoneError
from leadcap.intake import phone

IR = frozenset({"IR"})
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
# Valid mobiles of other countries: only the region check stands between them and a lead.
FOREIGN_MOBILES = [
    phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    for region in ("GB", "US", "DE", "TR", "AE", "IQ", "AF")
    if (example := phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE))
]
# Text shaped like an Iranian number: mobiles, landlines, service numbers and invalid ones.
IR_SHAPED = st.from_regex(r"(\+98|0098|0)?[1-9][0-9]{9}", fullmatch=True)


def assert_allowed_mobile_or_phone_error(raw: object, allowed: frozenset[str] | None) -> None:
    """Either a PhoneError, or what a success promises: E.164 of a valid mobile, in its own
    region, and that region allowed."""
    try:
        got = phone.normalise(raw, default_region="IR", allowed_regions=allowed)
    except PhoneError:
        return
    assert E164.fullmatch(got.e164)
    number = phonenumbers.parse(got.e164, None)
    assert phonenumbers.is_valid_number(number)
    assert phonenumbers.number_type(number) in MOBILE_TYPES
    assert phonenumbers.region_code_for_number(number) == got.region
    assert allowed is None or got.region in allowed


@given(st.one_of(st.text(max_size=40), st.integers(), st.none(), st.floats(), st.lists(st.text(max_size=3))))
def test_anything_is_either_e164_or_a_phone_error(raw: object) -> None:
    assert_allowed_mobile_or_phone_error(raw, None)


@given(
    st.text(alphabet="0123456789+-() .۰۱۲۳۴۵۶۷۸۹", max_size=40) | IR_SHAPED | st.sampled_from(FOREIGN_MOBILES)
)
def test_digit_soup_is_an_allowed_mobile_or_a_phone_error(raw: str) -> None:
    assert_allowed_mobile_or_phone_error(raw, IR)


@st.composite
def written_forms(draw: st.DrawFn) -> tuple[str, str]:
    """A valid IR mobile (national 9XXXXXXXXX) written the many ways people write it."""
    operator = draw(st.sampled_from(["912", "935", "901", "990", "919", "939"]))
    rest = draw(st.text(alphabet="0123456789", min_size=7, max_size=7))
    national = operator + rest
    prefix = draw(st.sampled_from(["0", "", "+98", "0098", "+98 ", "+98-"]))
    sep = draw(st.sampled_from(["", " ", "-", "."]))
    body = f"{national[:3]}{sep}{national[3:6]}{sep}{national[6:]}"
    if draw(st.booleans()) and prefix == "0":
        body = f"({prefix}{national[:3]}) {national[3:6]} {national[6:]}"
        prefix = ""
    text = prefix + body
    script = draw(st.sampled_from([None, PERSIAN, ARABIC]))
    return (text.translate(script) if script else text), "+98" + national


@given(written_forms())
def test_every_written_form_of_a_mobile_is_its_e164(case: tuple[str, str]) -> None:
    text, expected = case
    assert phone.normalise(text, default_region="IR", allowed_regions=IR).e164 == expected


# ---- carrier_of: the fast path gives exactly what the general parser gives ----------------------

# The regions the task named, the ones sharing a country code (+1, +44, +7, +262, +590), and a few
# with leading-zero or national-prefix quirks (IT, AR, MX, RU, CI).
CARRIER_REGIONS = ["IR", "US", "GB", "DE", "IN", "CA", "JE", "GG", "IM", "RU", "KZ", "IT", "FR", "AR", "MX"]
CARRIER_REGIONS += ["BR", "CN", "JP", "AE", "TR", "NG", "AU", "RE", "YT", "GP", "CI", "SG", "PK", "EG", "UA"]
EXAMPLE_TYPES = [
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.PAGER,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
]


def slow_carrier(e164: str) -> str | BaseException | None:
    """What carrier_of was before the fast path: the general parser, then the carrier lookup."""
    try:
        name = carrier.name_for_number(phonenumbers.parse(e164, None), "en")
        return phone.CARRIER_BRANDS.get(name, name) or None  # its brand: one naming scheme
    except phonenumbers.NumberParseException as exc:
        return exc


def fast_carrier(e164: str) -> str | BaseException | None:
    try:
        return phone.carrier_of(e164)
    except phonenumbers.NumberParseException as exc:
        return exc


def same(e164: str) -> bool:
    slow, fast = slow_carrier(e164), fast_carrier(e164)
    if isinstance(slow, BaseException) or isinstance(fast, BaseException):
        return type(slow) is type(fast) and str(slow) == str(fast)
    return slow == fast


def examples(regions: list[str]) -> list[str]:
    found = []
    for region in regions:
        for kind in EXAMPLE_TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return found


def variations(e164: str) -> list[str]:
    """Every one-digit change of the number, and the number a digit shorter and longer."""
    out = [e164[:-1], e164 + "0", e164 + "7"]
    for i in range(1, len(e164)):
        out.extend(e164[:i] + d + e164[i + 1 :] for d in "0123456789" if d != e164[i])
    return out


def test_carrier_fast_path_is_exact_for_every_region_example_and_its_one_digit_neighbours() -> None:
    numbers = examples(sorted(phonenumbers.SUPPORTED_REGIONS))
    assert len(numbers) > 400
    wrong = [n for e164 in numbers for n in [e164, *variations(e164)] if not same(n)]
    assert wrong == []


def test_carrier_fast_path_is_exact_on_two_digit_changes_to_the_named_regions_mobile_prefixes() -> None:
    checked = named = 0
    for e164 in examples(CARRIER_REGIONS):
        for i in range(2, min(len(e164), 9)):  # the digits that pick the carrier
            for j in range(i + 1, min(len(e164), 9)):
                for a in "0123456789":
                    for b in "0369":
                        n = e164[:i] + a + e164[i + 1 : j] + b + e164[j + 1 :]
                        assert same(n), n
                        checked += 1
                        named += isinstance(fast_carrier(n), str)
    assert checked > 10_000 and named > 1_000  # the comparison saw many numbers with a carrier


def test_carrier_of_known_operators() -> None:
    assert phone.carrier_of("+989123456789") == "Hamrah-e Aval"
    assert phone.carrier_of("+98912345678") is None  # the prefix of a carrier, but one digit short
    assert phone.carrier_of("+9891234567890") is None  # and one digit long
    assert phone.carrier_of("+982188888888") is None  # a landline


@st.composite
def mutated_mobiles(draw: st.DrawFn) -> str:
    """A region's example mobile with a few digits changed, dropped or added."""
    region = draw(st.sampled_from(CARRIER_REGIONS))
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    digits = list(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:])
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(1, len(digits) - 1))
        op = draw(st.sampled_from(["set", "set", "set", "drop", "add"]))
        if op == "drop" and len(digits) > 2:
            del digits[i]
        elif op == "add":
            digits.insert(i, draw(st.sampled_from("0123456789")))
        else:
            digits[i] = draw(st.sampled_from("0123456789"))
    return "+" + "".join(digits)


@settings(max_examples=2000)
@given(mutated_mobiles())
def test_carrier_fast_path_is_exact_on_mutated_mobiles(e164: str) -> None:
    assert same(e164)


@settings(max_examples=1000)
@given(st.from_regex(r"\+[0-9]{1,17}", fullmatch=True) | st.text(alphabet="+0123456789 -", max_size=20))
def test_carrier_fast_path_is_exact_on_any_digits(e164: str) -> None:
    assert same(e164)
