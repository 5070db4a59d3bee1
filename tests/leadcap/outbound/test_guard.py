"""The SSRF guard on its own: which addresses it refuses (IPv4 inside IPv6 judged by the address
inside), and its two checks, the resolver's and the socket factory's, that the outbound client
puts in front of every guarded connection."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from leadcap.outbound import guard


async def test_the_resolver_hands_over_only_checked_addresses() -> None:
    with pytest.raises(guard.AddressRefused):
        await guard.GuardedResolver(allow_private=False).resolve("localhost", 80)
    results = await guard.GuardedResolver(allow_private=True).resolve("localhost", 80)
    assert results and all(r["hostname"] == "localhost" for r in results)
    # aiohttp connects to `host`, never to the name again: it must be the checked address itself
    assert {guard.refusal(ipaddress.ip_address(r["host"])) for r in results} == {"loopback"}
    assert all(r["flags"] & socket.AI_NUMERICHOST for r in results)


@pytest.mark.parametrize(
    "addr_info",
    [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:169.254.169.254", 80, 0, 0)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%1", 80, 0, 1)),
    ],
)
def test_the_socket_factory_refuses_a_non_public_address(addr_info: guard.AddrInfo) -> None:
    with pytest.raises(guard.AddressRefused):
        guard.guarded_socket(allow_private=False)(addr_info)


def test_the_socket_factory_opens_a_socket_for_a_public_or_allowed_address() -> None:
    public = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", 443))
    loopback = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))
    for addr_info, allow in ((public, False), (loopback, True)):
        sock = guard.guarded_socket(allow_private=allow)(addr_info)
        sock.close()
    with pytest.raises(guard.AddressRefused):
        guard.guarded_socket(allow_private=True)((socket.AF_UNIX, socket.SOCK_STREAM, 0, "", ("/x",)))


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("100.64.0.1", "not-global"),
        # IPv6 forms that carry an IPv4 address: the address inside decides.
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 of 169.254.169.254
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 (RFC 6052) of 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("64:ff9b:1::a00:1", "private"),  # local-use NAT64 (RFC 8215): a private network's own
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo to client 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"),  # Teredo to client 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "teredo"),  # Teredo to client 8.8.8.8
    ],
)
def test_the_guard_refuses_non_public_addresses(address: str, reason: str) -> None:
    assert guard.refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"]
)
def test_the_guard_lets_public_addresses_through(address: str) -> None:
    assert guard.refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "address", ["2002:7f00:1::", "2002:a00:1::", "64:ff9b::a00:1", "2001:0:4136:e378:8000:63bf:80ff:fffe"]
)
def test_the_connect_time_check_refuses_ipv4_inside_ipv6(address: str) -> None:
    """The socket factory's check, on the very address aiohttp is about to connect to."""
    factory = guard.guarded_socket(allow_private=False)
    with pytest.raises(guard.AddressRefused):
        factory((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, 80, 0, 0)))
    allowed = guard.guarded_socket(allow_private=True)(
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, 80))
    )
    allowed.close()
