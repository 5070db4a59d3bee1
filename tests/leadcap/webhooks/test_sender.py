"""The webhook HTTP client: one kept-alive connection per endpoint, and the SSRF guard's two
checks (resolver and socket factory) handing aiohttp only checked addresses."""

from __future__ import annotations

import ipaddress
import socket
import time

import pytest

from leadcap.outbound import guard
from leadcap.webhooks import signing
from leadcap.webhooks.sender import Sender
from tests.webhook_receiver import receiving


async def test_sends_to_one_endpoint_reuse_a_kept_alive_connection() -> None:
    secret = signing.new_secret()
    key = signing.key_of(secret)
    with receiving(secret) as receiver:
        sender = Sender(allow_private=True)
        try:
            for n in range(20):
                body = b'{"n":%d}' % n
                attempt = await sender.post(
                    receiver.url, body, signing.headers(key, f"id-{n}", int(time.time()), body)
                )
                assert attempt.ok, attempt
        finally:
            await sender.close()
    assert receiver.bad == [] and len(receiver.ids()) == 20
    assert receiver.connections_opened == 1


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
