from __future__ import annotations

import phonenumbers
import pytest

from leadcap.errors import InvalidPhone, MissingPhone, NotMobile, RegionNotAllowed
from leadcap.intake import phone
from tests.servers import ROOT

IR = frozenset({"IR"})

SAME_NUMBER = [
    "09123456789",
    "9123456789",
    "+989123456789",
    "00989123456789",
    "0912 345 6789",
    "0912-345-6789",
    "(0912) 345 6789",
    "۰۹۱۲۳۴۵۶۷۸۹",
    "٠٩١٢٣٤٥٦٧٨٩",
    "۰۹۱۲ ۳۴۵ ۶۷۸۹",
    "+98 912 345 6789",
    "  09123456789  ",
    "0912.345.6789",
    "+۹۸۹۱۲۳۴۵۶۷۸۹",
]


@pytest.mark.parametrize("raw", SAME_NUMBER)
def test_every_written_form_is_the_same_e164(raw: str) -> None:
    assert phone.normalise(raw, default_region="IR", allowed_regions=IR) == phone.Phone("+989123456789", "IR")


@pytest.mark.parametrize("raw", [None, "", "   ", "\t"])
def test_absent_or_blank_is_missing(raw: object) -> None:
    with pytest.raises(MissingPhone):
        phone.normalise(raw, default_region="IR", allowed_regions=IR)


@pytest.mark.parametrize(
    "raw",
    [
        123456789,
        9123456789.0,
        ["09123456789"],
        {"n": 1},
        True,
        "abc",
        "0912345678",  # one digit short
        "091234567890",  # one digit long
        "0912-ABC-6789",  # vanity letters are not accepted
        "09123456789 ext. 12",
        "09123456789;",
        "+",
        "0" * 33,
        "0912 345 6789" + " " * 20,  # 33 characters as sent
        "+999123456789",
        "٠٩١٢٣٤٥٦٧٨",  # short, in Arabic-Indic digits
    ],
)
def test_not_a_valid_number_is_invalid(raw: object) -> None:
    with pytest.raises(InvalidPhone):
        phone.normalise(raw, default_region="IR", allowed_regions=IR)


def test_length_is_counted_as_sent() -> None:
    thirty_two = "0912 345 6789".ljust(32)
    assert phone.normalise(thirty_two, default_region="IR", allowed_regions=IR).e164 == "+989123456789"


@pytest.mark.parametrize("raw", ["02188888888", "+982188888888", "021 8888 8888"])
def test_a_landline_is_not_a_mobile(raw: str) -> None:
    with pytest.raises(NotMobile):
        phone.normalise(raw, default_region="IR", allowed_regions=IR)


@pytest.mark.parametrize("raw", ["+447911123456", "+4915123456789", "+14155552671"])
def test_a_foreign_mobile_is_refused_unless_allowed(raw: str) -> None:
    with pytest.raises(RegionNotAllowed):
        phone.normalise(raw, default_region="IR", allowed_regions=IR)
    assert phone.normalise(raw, default_region="IR", allowed_regions=None).e164 == raw


def test_allowed_regions_is_a_list() -> None:
    got = phone.normalise("+447400123456", default_region="IR", allowed_regions=frozenset({"IR", "GB"}))
    assert got == phone.Phone("+447400123456", "GB")


def test_default_region_reads_national_numbers() -> None:
    assert phone.normalise("07400 123456", default_region="GB", allowed_regions=None).e164 == "+447400123456"


def test_carrier_is_looked_up() -> None:
    assert phone.carrier_of("+989123456789") == "Hamrah-e Aval"
    assert phone.carrier_of("+989351234567") == "Irancell"


def test_iranian_carriers_are_named_by_one_scheme_their_brands() -> None:
    """libphonenumber's English names mix brands (Irancell) with company codes (IR-MCI, MTCE);
    every name carrier_of gives is the brand, as its Persian name (همراه اول, اسپادان) is, and
    docs/export.md lists them all."""
    from phonenumbers.carrierdata import CARRIER_DATA

    named = {
        key: phone.carrier_of(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
        for key in CARRIER_DATA
        if key.startswith("98")
        and (example := phonenumbers.parse("+" + key.ljust(12, "5"), None))
        and phonenumbers.is_valid_number(example)
    }
    brands = {"Hamrah-e Aval", "Irancell", "Rightel", "Espadan", "TeleKish", "Aptel"}
    assert set(named.values()) <= brands and len(set(named.values())) >= 4, named
    docs = (ROOT / "docs" / "export.md").read_text()
    assert all(f"`{brand}`" in docs for brand in brands)
    assert "IR-MCI" not in docs and "MTCE" not in docs


def test_the_phonenumbers_internals_carrier_of_reads_are_still_there() -> None:
    """carrier_of skips phonenumbers' public path and reads its data directly (see its docstring);
    pyproject caps phonenumbers below the next major. A release that moves or reshapes what it
    reads fails here first, rather than as a wrong carrier in an export."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberType, carrier
    from phonenumbers.carrierdata import CARRIER_DATA, CARRIER_LONGEST_PREFIX

    # Keys: leading E.164 digits; values: {language: name}; the longest key bounds the search.
    assert CARRIER_DATA["9891"] == {"en": "IR-MCI", "fa": "همراه اول"}
    assert max(len(key) for key in CARRIER_DATA) == CARRIER_LONGEST_PREFIX
    assert COUNTRY_CODE_TO_REGION_CODE[98] == ("IR",)
    # The national-prefix pattern parse strips, from the country code's main region's metadata.
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(98, "IR")
    assert metadata is not None and metadata.national_prefix_for_parsing == "0"
    # carrier.name_for_number answers only for these types (carrier_of's _CARRIER_TYPES).
    answered = {kind for kind in PhoneNumberType.values() if carrier._is_mobile(kind)}
    assert answered == {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.PAGER}
    assert callable(phonenumbers.enable_pattern_cache)
