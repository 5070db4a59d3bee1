"""How the browser reached leadcap: over HTTPS or not, and at a loopback name or not.

Both decide what a cookie can do. A browser keeps a `Secure` cookie only from an HTTPS page, or
from plain HTTP at a loopback name (http://localhost, http://127.0.0.1, http://[::1]: "potentially
trustworthy" origins), so /admin/ signs in only there (web/admin/routes.py) and the code step's
cookie is `Secure` whenever the page is HTTPS (web/code_cookie.py).
"""

from __future__ import annotations

import ipaddress
import re

from sanic import Request

from leadcap.intake import clientip
from leadcap.settings import Settings

# A Host header: a bracketed IPv6 address or a DNS name / IPv4 address, then an optional port.
_HOST = re.compile(r"\[(?P<v6>[0-9A-Fa-f:.]{2,45})\]|(?P<name>[A-Za-z0-9.-]{1,253})")
_PORT = re.compile(r"(?::[0-9]{1,5})?")


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS: directly, or as a trusted proxy says.

    X-Forwarded-Proto counts only from a peer in LEADCAP_TRUSTED_PROXIES (nginx at the edge, which
    sets it from its own connection, or from a balancer it trusts): from anyone else, a client
    could claim HTTPS for itself.
    """
    if request.scheme == "https":
        return True
    settings: Settings = request.app.ctx.settings
    peer = clientip.client_address(request.ip, None, settings.trusted_proxies)
    return (
        peer is not None
        and clientip.within(peer, settings.trusted_proxies)
        and request.headers.get("x-forwarded-proto", "").strip().lower() == "https"
    )


def host_name(request: Request) -> str | None:
    """The host the browser asked for (the Host header without its port, lower case), or None
    for a header that is no host."""
    raw = request.headers.get("host", "")
    found = _HOST.match(raw)
    if found is None or not _PORT.fullmatch(raw, found.end()):
        return None
    return (found.group("v6") or found.group("name")).lower()


def loopback_host(request: Request) -> bool:
    """Whether the browser asked for this machine by a loopback name: `localhost` (or a name
    under it), an address in 127.0.0.0/8, or ::1.

    The Host header decides, not the peer's address: a browser's cookie rules follow the address
    in its own address bar, and behind a proxy every peer is the proxy. A client that sends a
    loopback Host from elsewhere only deceives itself (the cookie stays `Secure`)."""
    name = host_name(request)
    if name is None:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
