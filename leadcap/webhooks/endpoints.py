"""What the `leadcap webhooks` commands do: add, list, remove and test endpoints, list and replay
deliveries. PostgreSQL only."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from leadcap.errors import LeadcapError, UsageError
from leadcap.outbound import guard
from leadcap.settings import Settings
from leadcap.stores.postgres.webhooks import WebhookStore
from leadcap.webhooks import EVENT_TYPES, signing
from leadcap.webhooks.sender import Attempt, Sender

TEST_EVENT = "webhook.test"


class InvalidEndpoint(LeadcapError):
    """A URL, event type or secret `webhooks add` cannot take."""

    code = "invalid_endpoint"


class RefusedAddress(UsageError, guard.AddressRefused):
    """The SSRF guard refuses the endpoint's host: still the guard's AddressRefused, and a usage
    error (exit 2), as api.md says."""

    code = "address_refused"

    def __init__(self, message: str) -> None:
        LeadcapError.__init__(self, message)  # the whole sentence; UsageError's is "<option> <problem>"
        self.option = "URL"


# Said with a private address: the setting, and that the processes that deliver need it too.
ALLOW_PRIVATE = (
    "to allow private addresses, set LEADCAP_WEBHOOK_ALLOW_PRIVATE=true here and for `leadcap serve`"
    " and `leadcap worker` too (they check every delivery again)"
)


class UnknownWebhook(LeadcapError):
    """No endpoint or delivery has that id."""

    code = "not_found"


@dataclass(frozen=True, slots=True)
class Added:
    id: int
    secret: str
    generated: bool


def check_url(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL without user-info; InvalidEndpoint otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidEndpoint(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint("the URL must be http:// or https:// with a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidEndpoint("the URL must not carry a user name or password (use the signature)")
    return parts.hostname, port


async def add(
    store: WebhookStore, settings: Settings, url: str, events: Sequence[str], secret: str | None
) -> Added:
    """Subscribe `url` to `events`; refuse a private address unless allowed (the SSRF guard)."""
    host, port = check_url(url)
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise InvalidEndpoint(f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    if secret is not None:
        try:
            signing.key_of(secret)
        except ValueError as exc:
            raise InvalidEndpoint(str(exc)) from None
    if not settings.webhook_allow_private:  # checked again at every connection (DNS can change)
        try:
            addresses = await guard.resolve(host, port)
        except guard.AddressRefused as exc:
            raise RefusedAddress(exc.message) from None
        try:
            guard.check(addresses, host)
        except guard.AddressRefused as exc:
            raise RefusedAddress(f"{exc.message}; {ALLOW_PRIVATE}") from None
    chosen = secret or signing.new_secret()
    endpoint_id = await store.add_endpoint(url, chosen, list(dict.fromkeys(events)))
    return Added(endpoint_id, chosen, generated=secret is None)


async def remove(store: WebhookStore, endpoint_id: int) -> None:
    if not await store.remove_endpoint(endpoint_id):
        raise UnknownWebhook(f"no webhook endpoint has id {endpoint_id}")


async def listing(store: WebhookStore) -> list[dict[str, Any]]:
    """Every endpoint, without its secret."""
    return [
        {
            "id": e.id,
            "url": e.url,
            "events": list(e.events),
            "enabled": e.enabled,
            "disabled_reason": e.disabled_reason,
            "created_at": e.created_at.isoformat() if e.created_at else None,
        }
        for e in await store.endpoints()
    ]


async def test(store: WebhookStore, settings: Settings, endpoint_id: int) -> Attempt:
    """Send one signed `webhook.test` event to the endpoint now, through the SSRF guard."""
    endpoint = await store.endpoint(endpoint_id)
    if endpoint is None:
        raise UnknownWebhook(f"no webhook endpoint has id {endpoint_id}")
    body = (
        f'{{"type":"{TEST_EVENT}","timestamp":"{time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}",'
        f'"data":{{"endpoint_id":{endpoint.id}}}}}'
    ).encode()
    headers = signing.headers(signing.key_of(endpoint.secret), f"test_{uuid.uuid4()}", int(time.time()), body)
    sender = Sender(allow_private=settings.webhook_allow_private, max_connections=1)
    try:
        return await sender.post(endpoint.url, body, headers)
    finally:
        await sender.close()


async def replay(store: WebhookStore, delivery_id: int | None, *, failed: bool) -> list[int]:
    """Make one delivery, or every failed one, due again now."""
    replayed = await store.replay([delivery_id] if delivery_id is not None else [], failed=failed)
    if delivery_id is not None and delivery_id not in replayed:
        raise UnknownWebhook(f"no delivery {delivery_id} to an enabled endpoint")
    return replayed
