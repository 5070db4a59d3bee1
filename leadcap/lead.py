"""What a lead is, as every part names it: the attribution fields a submission may carry and the
statuses a lead can have. The SQL spells the same (the leads columns, the CHECK on leads.status):
tests compare them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

UTM_KEYS = ("source", "medium", "campaign", "term", "content")
Status = Literal["new", "contacted", "qualified", "converted", "rejected", "unverified", "verified"]
STATUSES: tuple[str, ...] = get_args(Status)


@dataclass(frozen=True, slots=True)
class Consent:
    """A consent text as a visitor was shown it (leadcap/landing/consent.py decides which): the
    version its submission records, and the text kept once per version (consent_texts)."""

    version: str  # 32 hex digits: sha256 of the language and the text
    lang: str
    text: str
