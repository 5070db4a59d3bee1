"""Who is asking: the client address behind trusted proxies, and the rate-limit bucket it counts in."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from leadcap.settings import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> IPAddress | None:
    """Cached: every request parses its peer (and hops), and a client sends many; building the
    address costs ~10x a cache hit. Addresses are immutable, so sharing them is safe."""
    text = text.strip().strip("[]")
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def within(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    """Whether the address lies in any of the networks (of its own IP version)."""
    return any(address.version == net.version and address in net for net in networks)


def client_address(peer: str, forwarded_for: str | None, proxies: Sequence[IPNetwork]) -> IPAddress | None:
    """The client's address: the socket peer, unless that peer is a trusted proxy.

    Behind trusted proxies, X-Forwarded-For is read from the right and the first address
    that is not itself a trusted proxy wins, so a client cannot choose its own address by
    sending the header: whatever it wrote sits to the left of what our proxies appended.
    """
    address = _parse(peer)
    if address is None or not proxies or not forwarded_for or not within(address, proxies):
        return address
    for hop in reversed(forwarded_for.split(",")):
        hop_address = _parse(hop)
        if hop_address is None:
            return address  # a garbled chain: trust no further than the last good hop
        address = hop_address
        if not within(address, proxies):
            break
    return address


@functools.lru_cache(maxsize=4096)
def bucket(address: IPAddress | None) -> str:
    """The rate-limit bucket: an IPv4 address, or the /64 an IPv6 address belongs to."""
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
