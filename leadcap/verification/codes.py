"""One-time codes: made from `secrets`, kept only as an HMAC, read in any of three digit scripts;
and the token that binds a lead's code step to the browser that was sent its code.

Pure functions, no I/O. The HMAC binds a code to its submission id, so the same five digits
sent to two visitors hash differently, and a copy of Redis tells nothing without the key
(which lives outside Redis: LEADCAP_VERIFY_KEY, or a file in the data folder). The token is 256
random bits, so a plain SHA-256 of it is all Redis needs to keep: no key is needed to make its
hash useless to whoever reads Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

LENGTH = 5
MAX_TRIES = 5
# ASCII, Persian (U+06F0…) and Arabic-Indic (U+0660…) digits all read as 0-9.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_SPACING = str.maketrans("", "", " \u200c\u200f\u200e\u2066\u2069-")
TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what token_urlsafe(32) gives, and nothing else


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


def new_token() -> str:
    """A new code-step token: 256 random bits in URL-safe base64 (43 characters), so JSON, a form
    field and a cookie all carry it as it is."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def read_token(value: object) -> str | None:
    """The token a client sent, or None when it cannot be one we made (wrong type, length or
    characters): such a value is judged without asking Redis."""
    if isinstance(value, str) and _TOKEN.fullmatch(value):
        return value
    return None


def token_digest(token: str) -> str:
    """What Redis keeps of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()
