"""Properties of the phone rules over generated input (hypothesis)."""

from __future__ import annotations

import contextlib
import re

from hypothesis import given
from hypothesis import strategies as st

from leadcap import phone
from leadcap.errors import PhoneError

IR = frozenset({"IR"})
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@given(st.one_of(st.text(max_size=40), st.integers(), st.none(), st.floats(), st.lists(st.text(max_size=3))))
def test_anything_is_either_e164_or_a_phone_error(raw: object) -> None:
    try:
        got = phone.normalise(raw, default_region="IR", allowed_regions=None)
    except PhoneError:
        return
    assert E164.fullmatch(got.e164) and got.region


@given(st.text(alphabet="0123456789+-() .۰۱۲۳۴۵۶۷۸۹", max_size=40))
def test_digit_soup_never_escapes_the_error_family(raw: str) -> None:
    with contextlib.suppress(PhoneError):
        phone.normalise(raw, default_region="IR", allowed_regions=IR)


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
