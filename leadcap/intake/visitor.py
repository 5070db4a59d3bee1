"""The visitor cookie: a browser that loaded the page is counted as itself, not as its address.

Mobile carriers put many phones behind one public address, so a limit per address turns real
viewers away the moment a campaign works. `GET /` gives a browser without a valid cookie a new
one (`leadcap_v`), signed here with LEADCAP_VISITOR_KEY: minting and checking are an HMAC in
process, never a Redis round trip. The cookie holds a random id and the time it was made, nothing
about the person.

Who a POST counts as (`counted_in`): with a valid cookie, the visitor (LEADCAP_RATE_LIMIT) and all
visitors of its address together (LEADCAP_SHARED_IP_LIMIT); without one (missing, forged,
expired, another key's), its address, exactly as before visitors existed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from leadcap import keyfile
from leadcap.errors import ConfigError
from leadcap.settings import RateLimit, Settings

COOKIE = "leadcap_v"
MAX_AGE_S = 86_400  # the contract's 24 h
SKEW_S = 300  # a cookie made by a web process whose clock runs ahead is still good
KEY_FILE = "visitor.key"
_VERSION = "1"
_ID_BYTES = 12  # 96 random bits: no two browsers of a campaign share one
_MAC_BYTES = 16
_PERSON = b"leadcap-visitor\x00"
MAX_COOKIE = 64  # a longer value is not ours, whatever it says


def _mac(key: bytes, body: str) -> bytes:
    return hmac.digest(key, _PERSON + body.encode("ascii"), "sha256")[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint(key: bytes, now_s: int) -> str:
    """A new cookie value: `1.<id>.<made, unix seconds in hex>.<mac>`."""
    body = f"{_VERSION}.{_b64(secrets.token_bytes(_ID_BYTES))}.{now_s:x}"
    return f"{body}.{_b64(_mac(key, body))}"


def read(key: bytes, value: str | None, now_s: int) -> str | None:
    """The visitor id of a cookie value this key signed less than 24 h ago; None for anything else
    (missing, malformed, forged, signed by another key, expired, or made in the future)."""
    if not value or len(value) > MAX_COOKIE:
        return None
    body, dot, mac_text = value.rpartition(".")
    parts = body.split(".")
    if not dot or len(parts) != 3 or parts[0] != _VERSION:
        return None
    try:
        mac = base64.urlsafe_b64decode(mac_text + "=" * (-len(mac_text) % 4))
        made = int(parts[2], 16)
        ascii_body = body.isascii()
    except (ValueError, binascii.Error):
        return None
    if not ascii_body or not hmac.compare_digest(mac, _mac(key, body)):
        return None
    if not now_s - MAX_AGE_S < made <= now_s + SKEW_S:
        return None
    return parts[1]


def set_cookie(value: str) -> str:
    """The Set-Cookie header of a new cookie. Not Secure: the site may be served over plain http
    (the HTTPS edge redirects browsers anyway); HttpOnly: no script needs it."""
    return f"{COOKIE}={value}; Max-Age={MAX_AGE_S}; Path=/; HttpOnly; SameSite=Lax"


# The kinds of window a POST can be refused by, as the campaign view counts them.
VISITOR = "visitor"
SHARED = "shared"
ADDRESS = "address"


@dataclass(frozen=True, slots=True)
class Window:
    """One sliding window a request counts in: its kind, its bucket name and its limit."""

    kind: str
    bucket: str
    limit: RateLimit


def counted_in(
    address_bucket: str, visitor_id: str | None, *, rate_limit: RateLimit, shared_limit: RateLimit
) -> tuple[Window, ...]:
    """The windows a request counts in, the one its RateLimit-* headers report first: a visitor's
    own and its address's shared ceiling, or (no valid cookie) its address alone. The bucket
    names never collide: an address bucket (an IP, a /64 or `unknown`) is never `visitor:…` or
    `shared:…`."""
    if visitor_id is None:
        return (Window(ADDRESS, address_bucket, rate_limit),)
    return (
        Window(VISITOR, "visitor:" + visitor_id, rate_limit),
        Window(SHARED, "shared:" + address_bucket, shared_limit),
    )


def scoped(windows: tuple[Window, ...], scope: str) -> tuple[Window, ...]:
    """The same windows counted apart under `scope` (the code step's own, `v:`)."""
    return tuple(Window(w.kind, scope + w.bucket, w.limit) for w in windows)


def load_key(settings: Settings) -> bytes:
    """The cookie's HMAC key: LEADCAP_VISITOR_KEY, or (outside production) one generated once
    into the data folder, shared by every process that uses that folder."""
    if settings.visitor_key:
        return settings.visitor_key.encode()
    if settings.production:
        raise ConfigError("LEADCAP_VISITOR_KEY", "is required to serve when LEADCAP_ENV=production")
    return keyfile.generated(Path(settings.data_dir), KEY_FILE)
