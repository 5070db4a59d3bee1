"""Test data: distinct valid phone numbers, digit-script conversions, request bodies."""

from __future__ import annotations

import itertools
import random

_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_counter = itertools.count(random.randrange(1_000_000))


def mobile() -> str:
    """A fresh, valid IR mobile number in national form (09…), distinct within a run."""
    return f"0912{next(_counter) % 10_000_000:07d}"


def e164(national: str) -> str:
    return "+98" + national[1:]


def persian(text: str) -> str:
    return text.translate(_PERSIAN)


def arabic_indic(text: str) -> str:
    return text.translate(_ARABIC_INDIC)
