"""The webhook sender: one kept-alive connection per endpoint (the guard it posts through is
tests/leadcap/outbound/test_guard.py's)."""

from __future__ import annotations

import time

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
