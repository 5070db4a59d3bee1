"""What the `leadcap notify` commands do: add, list, remove and test channels, and the
transports the worker's delivery loop sends them with. PostgreSQL only (and the channel, for
`test`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from leadcap import slugs
from leadcap.errors import LeadcapError, UsageError
from leadcap.notify import BOTS, EVENTS, KINDS, message
from leadcap.notify.bots import Bot
from leadcap.notify.mail import Mail, server_of
from leadcap.settings import Settings
from leadcap.stores.postgres.campaigns import CampaignFileStore
from leadcap.stores.postgres.webhooks import CHANNEL_KINDS, WebhookStore
from leadcap.webhooks.sender import Attempt
from leadcap.webhooks.transport import Transport

TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{8,128}")  # <bot id>:<secret>, as both APIs issue them
CHAT = re.compile(r"-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,63}")  # a chat id, or a public @name
ADDRESS = re.compile(
    r"[^@\s<>,;\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}|[^@\s<>,;\"']{1,64}@localhost"
)


class UnknownChannel(LeadcapError):
    """No notification channel has that id."""

    code = "not_found"


def style(settings: Settings) -> message.Style:
    """How this install writes leads: its language, zone, region and /admin/ address."""
    return message.Style(
        settings.locale,
        ZoneInfo(settings.timezone),
        settings.default_region,
        public_url=settings.public_url,
    )


def transports(settings: Settings) -> dict[str, Transport]:
    """The delivery loop's transports for every channel kind (webhooks are its own)."""
    shown, every = style(settings), settings.notify_interval_seconds
    return {
        "telegram": Bot("telegram", settings.telegram_base_url, shown, interval_s=every),
        "bale": Bot("bale", settings.bale_base_url, shown, interval_s=every),
        "email": Mail(shown, interval_s=every),
    }


def _events(events: Sequence[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise UsageError("--event", f"must be one of {', '.join(EVENTS)}, got {', '.join(unknown)}")
    return list(dict.fromkeys(events))


async def add(
    store: WebhookStore,
    kind: str,
    *,
    token: str | None = None,
    chat: str | None = None,
    smtp: str | None = None,
    to: str | None = None,
    events: Sequence[str] = ("lead.created",),
    campaign: str | None = None,
    campaigns: CampaignFileStore | None = None,
    full_phone: bool = False,
) -> int:
    """Add a channel; UsageError (exit 2) names the option that cannot be taken. Never echoes a
    token or password. `campaign`: only that campaign's leads, one ever added (`campaigns` is
    where it is looked up; an archived one is taken, its leads can still change) or `default`."""
    if kind not in KINDS:
        raise UsageError("KIND", f"must be one of {', '.join(KINDS)}")
    chosen = _events(events)
    if campaign is not None and not (
        slugs.well_formed(campaign)
        and (campaign == slugs.DEFAULT or (campaigns and await campaigns.known(campaign)))
    ):
        raise UsageError("--campaign", f"names no campaign: {campaign[:40]!r} (see `leadcap campaigns list`)")
    if kind in BOTS:
        if not token or not TOKEN.fullmatch(token):
            raise UsageError("--token", "must be a bot token as BotFather issues it (<digits>:<letters>)")
        if not chat or not CHAT.fullmatch(chat):
            raise UsageError("--chat", "must be a chat id (a number, negative for groups) or @channelname")
        url, secret, target = None, token, chat
    else:
        if not smtp:
            raise UsageError("--smtp", "is required for email (smtp://user@host:587?from=leads@example.com)")
        if not to or not ADDRESS.fullmatch(to):
            raise UsageError("--to", "must be one email address")
        url, secret = _without_password(smtp)
        target = to
    return await store.add_channel(
        kind, url=url, secret=secret, chat=target, events=chosen, full_phone=full_phone, campaign=campaign
    )


def _without_password(smtp: str) -> tuple[str, str]:
    """(the SMTP URL without its password, the password or ''): they are stored apart."""
    try:
        server_of(smtp)
        parts = urlsplit(smtp)
        password = unquote(parts.password or "")
        host = parts.hostname or ""
        netloc = (f"{parts.username}@" if parts.username else "") + (f"[{host}]" if ":" in host else host)
        netloc += f":{parts.port}" if parts.port else ""
    except ValueError as exc:
        raise UsageError("--smtp", str(exc) if "password" not in str(exc) else "is not a valid URL") from None
    return urlunsplit((parts.scheme, netloc, "", parts.query, "")), password


async def remove(store: WebhookStore, channel_id: int) -> None:
    if not await store.remove_endpoint(channel_id, CHANNEL_KINDS):
        raise UnknownChannel(f"no notification channel has id {channel_id}")


async def listing(store: WebhookStore) -> list[dict[str, Any]]:
    """Every channel and its state, never its token or password."""
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "to": e.chat,
            "smtp": e.url or None,
            "events": list(e.events),
            "campaign": e.campaign or "all",
            "full_phone": e.full_phone,
            "enabled": e.enabled,
            "state": "enabled" if e.enabled else f"disabled: {e.disabled_reason or 'by an operator'}",
            "created_at": e.created_at.isoformat() if e.created_at else None,
        }
        for e in await store.endpoints(CHANNEL_KINDS)
    ]


async def test(store: WebhookStore, settings: Settings, channel_id: int) -> Attempt:
    """Send a short test message to the channel now (whatever its state)."""
    endpoint = await store.endpoint(channel_id, CHANNEL_KINDS)
    if endpoint is None:
        raise UnknownChannel(f"no notification channel has id {channel_id}")
    transport = transports(settings)[endpoint.kind]
    text = message.test_text(style(settings))
    try:
        if isinstance(transport, Bot):
            return await transport.post(endpoint, text)
        assert isinstance(transport, Mail)
        return await transport.deliver(endpoint, lambda server: _test_mail(server.sender, server.to, text))
    finally:
        await transport.close()


def _test_mail(sender: str, to: str, text: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, text
    mail.set_content(text)
    return mail
