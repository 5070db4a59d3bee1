"""The SSRF guard: an endpoint's host is resolved when it is added and at every connection, and
loopback, private, link-local, multicast, unspecified and other non-public addresses (IPv4 and
IPv6, IPv4-mapped included) are refused unless LEADCAP_WEBHOOK_ALLOW_PRIVATE=true.

The check lives inside the HTTP client's network backend, so the address that was checked is the
address that is connected to: there is no second DNS lookup an attacker could answer differently
(DNS rebinding), and no connection is ever opened to a refused address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

from leadcap.errors import LeadcapError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(LeadcapError):
    """The endpoint's host is, or resolves to, an address webhooks may not reach."""

    code = "address_refused"


def refusal(address: IPAddress) -> str | None:
    """Why `address` may not be reached (a category, e.g. "loopback"), or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
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


class GuardedBackend(httpcore.AnyIOBackend):
    """httpcore's network backend, resolving and checking the host itself and then connecting
    to the checked address (never to the name, which would be resolved again)."""

    def __init__(self, *, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await checked_addresses(host, port, allow_private=self.allow_private)
        error: Exception | None = None
        for address in addresses:
            try:
                return await super().connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # addresses is never empty
        raise error

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("webhooks never connect to a unix socket")
