"""The SSRF guard: an endpoint's host is resolved and checked when it is added and again when it
is sent to, and loopback, private, link-local, multicast, unspecified and other non-public
addresses (IPv4 and IPv6) are refused unless LEADCAP_WEBHOOK_ALLOW_PRIVATE=true.

IPv6 forms that carry an IPv4 address are judged by the address inside, since that is where the
packets end up: IPv4-mapped (::ffff:0:0/96), 6to4 (2002::/16, through a relay) and NAT64's
well-known prefix (64:ff9b::/96, RFC 6052, through the network's translator; a public address
inside passes, as an IPv6-only host with DNS64 needs). Teredo (2001::/32) is refused whatever it
carries (a deprecated tunnel to a client behind NAT), and local-use NAT64 (64:ff9b:1::/48,
RFC 8215) is a private network's own.

The check lives inside the HTTP client (its resolver and its socket factory, sender.py), so the
address that was checked is the address that is connected to: there is no second DNS lookup an
attacker could answer differently (DNS rebinding), and no connection is ever opened to a refused
address. A name's checked addresses are reused for a few seconds (sender.DNS_TTL_S), never an
unchecked one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult

from leadcap.errors import LeadcapError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddrInfo = tuple[Any, Any, int, str, tuple[Any, ...]]  # (family, type, proto, canonname, sockaddr)


class AddressRefused(LeadcapError):
    """The endpoint's host is, or resolves to, an address webhooks may not reach."""

    code = "address_refused"


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
TEREDO = ipaddress.IPv6Network("2001::/32")


def carried(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (IPv4-mapped, 6to4, NAT64, a Teredo client), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.teredo is not None:
        return address.teredo[1]  # (server, client): the packets go to the client
    return None


def refusal(address: IPAddress) -> str | None:
    """Why `address` may not be reached (a category, e.g. "loopback"), or None if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        inside = carried(address)
        if inside is not None and (reason := refusal(inside)):
            return reason
        if address in TEREDO:
            return "teredo"
        if address in NAT64_LOCAL:
            return "private"
        if inside is not None:  # a public IPv4 address inside: reached as that address would be
            return None
    for name in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{name}"):
            return name.replace("_", "-")
    if not address.is_global:  # shared (100.64/10), documentation, benchmarking ranges …
        return "not-global"
    return None


def check(addresses: Iterable[IPAddress], host: str) -> None:
    """Raise AddressRefused if any of `host`'s addresses is refused: a name that mixes public
    and private answers is treated as private."""
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise AddressRefused(f"webhook host {host} resolves to a {reason} address ({address})")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to now (a literal address resolves to itself)."""
    literal = host.strip("[]")
    try:
        return [ipaddress.ip_address(literal)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(literal, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"webhook host {host} does not resolve") from exc
    seen: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    if not seen:
        raise AddressRefused(f"webhook host {host} does not resolve")
    return seen


async def checked_addresses(host: str, port: int, *, allow_private: bool) -> list[IPAddress]:
    """Resolve `host` and apply the guard; return the addresses that may be connected to."""
    addresses = await resolve(host, port)
    if not allow_private:
        check(addresses, host)
    return addresses


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver: resolves a name and applies the guard, so aiohttp only ever holds
    (and caches, for its short DNS TTL) addresses that passed; it connects to those, never to the
    name, which would be resolved again (DNS rebinding)."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await checked_addresses(host, port, allow_private=self.allow_private)
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        return None


def guarded_socket(*, allow_private: bool) -> Callable[[AddrInfo], socket.socket]:
    """aiohttp's socket factory: the last check, on the very address a socket is about to connect
    to (literal addresses in a URL reach aiohttp's connector without the resolver)."""

    def factory(addr_info: AddrInfo) -> socket.socket:
        family, kind, proto, _, sockaddr = addr_info
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise AddressRefused("webhooks connect over TCP/IP only")
        if not allow_private:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            check([address], str(address))
        return socket.socket(family, kind, proto)

    return factory
