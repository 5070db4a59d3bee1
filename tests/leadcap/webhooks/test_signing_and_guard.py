"""Signatures checked by the standardwebhooks package; the SSRF guard refusing before connecting."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook

from leadcap.outbound import guard
from leadcap.settings import Settings
from leadcap.stores.postgres.webhooks import WebhookStore
from leadcap.webhooks import endpoints, signing
from leadcap.webhooks.sender import Attempt, Sender
from tests.webhook_receiver import receiving


def test_a_signature_verifies_with_the_standardwebhooks_package() -> None:
    secret = signing.new_secret()
    body = b'{"type":"lead.created","data":{"phone":"+989123456789"}}'
    now = int(time.time())
    headers = signing.headers(signing.key_of(secret), "0193a1b2-id", now, body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "lead.created",
        "data": {"phone": "+989123456789"},
    }
    with pytest.raises(Exception, match="signature"):
        Webhook(signing.new_secret()).verify(body, headers)


def test_secrets_are_whsec_base64_of_enough_bytes() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    for bad in ("abc", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError):
            signing.key_of(bad)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://10.0.0.1:{port}/hook",
        "http://[::1]:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://localhost:{port}/hook",
        "http://2130706433:{port}/hook",  # 127.0.0.1 written as one number
        "http://[2002:7f00:1::]:{port}/hook",  # 6to4 of 127.0.0.1
        "http://[2002:a00:1::]:{port}/hook",  # 6to4 of 10.0.0.1
        "http://[64:ff9b::7f00:1]:{port}/hook",  # NAT64 of 127.0.0.1
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/hook",  # Teredo to 127.0.0.1
    ],
)
async def test_the_sender_refuses_before_connecting(url: str) -> None:
    secret = signing.new_secret()
    with receiving(secret) as receiver:
        sender = Sender(allow_private=False)
        try:
            started = time.monotonic()
            attempt = await sender.post(url.format(port=receiver.port), b"{}", {})
        finally:
            await sender.close()
        # 10.0.0.1 would hang until the timeout if it were tried; refused, it returns at once
        assert time.monotonic() - started < 2
        assert attempt.status is None and attempt.error and attempt.error.startswith("refused")
        assert receiver.attempts == 0


async def post_once(url: str, secret: str, event_id: str, body: bytes) -> Attempt:
    """One signed POST by a sender allowed to reach loopback, closed after."""
    sender = Sender(allow_private=True)
    try:
        return await sender.post(
            url, body, signing.headers(signing.key_of(secret), event_id, int(time.time()), body)
        )
    finally:
        await sender.close()


async def test_with_private_allowed_the_sender_reaches_loopback() -> None:
    secret = signing.new_secret()
    body = b'{"type":"lead.created"}'
    with receiving(secret) as receiver:
        attempt = await post_once(receiver.url, secret, "id-1", body)
    assert attempt.ok and receiver.bad == [] and list(receiver.ids()) == ["id-1"]


async def test_a_redirect_is_never_followed() -> None:
    secret = signing.new_secret()
    body = b"{}"
    with receiving(secret) as target:

        def redirect(_: int) -> tuple[int, float, dict[str, str]]:
            return 307, 0.0, {"location": target.url}

        with receiving(secret, redirect) as first:
            attempt = await post_once(first.url, secret, "id-2", body)
    assert attempt.status == 307 and not attempt.ok
    assert first.attempts == 1 and target.attempts == 0


async def test_adding_checks_the_host_too() -> None:
    with pytest.raises(guard.AddressRefused):
        await guard.checked_addresses("localhost", 80, allow_private=False)
    assert await guard.checked_addresses("localhost", 80, allow_private=True)
    with pytest.raises(guard.AddressRefused):
        await guard.checked_addresses("no-such-host.invalid", 80, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:7f00:1::]/",
        "http://[2002:a00:1::]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b::a00:1]/",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
    ],
)
async def test_adding_refuses_ipv4_inside_ipv6(store: WebhookStore, url: str) -> None:
    with pytest.raises(guard.AddressRefused):
        await endpoints.add(store, Settings(webhook_allow_private=False), url, ["lead.created"], None)
    assert await endpoints.listing(store) == []
