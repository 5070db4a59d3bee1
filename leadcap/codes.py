"""One-time codes: made from `secrets`, kept only as an HMAC, read in any of three digit scripts.

Pure functions, no I/O. The HMAC binds a code to its submission id, so the same five digits
sent to two visitors hash differently, and a copy of Redis tells nothing without the key
(which lives outside Redis: LEADCAP_VERIFY_KEY, or a file in the data folder).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

LENGTH = 5
MAX_TRIES = 5
# ASCII, Persian (U+06F0…) and Arabic-Indic (U+0660…) digits all read as 0-9.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_SPACING = str.maketrans("", "", " \u200c\u200f\u200e\u2066\u2069-")


def new_code() -> str:
    """Five random digits, leading zeros kept."""
    return f"{secrets.randbelow(10**LENGTH):0{LENGTH}d}"


def digest(key: bytes, submission_id: str, code: str) -> str:
    """The HMAC-SHA256 of a code under the server key, bound to its submission id."""
    return hmac.new(key, f"{submission_id}:{code}".encode(), hashlib.sha256).hexdigest()


def read(text: object) -> str | None:
    """The code a visitor typed as five ASCII digits, or None when it cannot be one."""
    if not isinstance(text, str) or len(text) > 32:
        return None
    code = text.translate(_DIGITS).translate(_SPACING)
    if len(code) != LENGTH or not code.isascii() or not code.isdigit():
        return None
    return code


def matches(key: bytes, submission_id: str, code: str, stored: str) -> bool:
    """Whether `code` is the one whose HMAC is `stored`, compared in constant time."""
    return hmac.compare_digest(digest(key, submission_id, code), stored)
