"""How one kind of endpoint is sent to. The delivery loop (delivery.py) claims, paces, isolates
and records for every kind alike; a Transport only turns claimed events into one send.

A webhook is one signed POST per event (`Signed`). A notification channel (leadcap/notify/) is
one message per group of events: `batch` claims at most go into one send, and `interval_s` is
the least time between two sends to one endpoint (a chat's rate limit), so a burst of leads
becomes a few messages rather than hundreds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from leadcap.stores.postgres.webhooks import Claim, Endpoint
from leadcap.webhooks import signing
from leadcap.webhooks.sender import Attempt, Sender


class Transport(Protocol):
    batch: int  # claims per send
    interval_s: float  # least seconds between two sends to one endpoint (0: no pacing)
    cap: int  # sends in flight per endpoint

    async def send(self, endpoint: Endpoint, claims: Sequence[Claim]) -> Attempt:
        """Send `claims` (at most `batch`) to `endpoint`; report, never raise, a failure."""
        ...

    async def close(self) -> None: ...


class Signed:
    """Webhooks: each event a signed POST (Standard Webhooks), `cap` in flight per endpoint."""

    batch = 1
    interval_s = 0.0

    def __init__(self, *, allow_private: bool, cap: int, max_connections: int) -> None:
        self.cap = cap
        self.sender = Sender(allow_private=allow_private, max_connections=max_connections)

    async def send(self, endpoint: Endpoint, claims: Sequence[Claim]) -> Attempt:
        (claim,) = claims
        body = claim.body()
        try:
            key = signing.key_of(endpoint.secret)
        except ValueError as exc:  # a secret that is not whsec_ base64: retried, and logged
            return Attempt(None, f"bad secret: {exc}", 0.0)
        headers = signing.headers(key, str(claim.event_id), int(time.time()), body)
        return await self.sender.post(endpoint.url, body, headers)

    async def close(self) -> None:
        await self.sender.close()
