"""Notifications through the real delivery loop, real PostgreSQL, and fake Telegram and Bale Bot
APIs (and an SMTP server) on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import time
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import asyncpg
import pytest
from aiosmtpd.controller import Controller

from leadcap.errors import UsageError
from leadcap.ids import uuid7
from leadcap.intake.submission import Submission
from leadcap.notify import channels, message
from leadcap.settings import Settings
from leadcap.stores.postgres import Postgres
from leadcap.stores.postgres.webhooks import WebhookStore
from leadcap.webhooks.delivery import Deliverer
from tests.bot_api import BotApi, bot_api, limited_first, refused
from tests.leadcap.webhooks.test_delivery import record, until

TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghij"
CHAT = "-1001234567890"
INTERVAL_S = 0.3


def settings_for(api: BotApi | None = None, **more: object) -> Settings:
    base = api.base_url if api else "http://127.0.0.1:9"
    return Settings(
        locale="en",
        webhook_backoff_cap_seconds=1,
        telegram_base_url=base,
        bale_base_url=base,
        notify_interval_seconds=INTERVAL_S,
        **more,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def delivering(store: WebhookStore, settings: Settings, loops: int = 1) -> AsyncIterator[None]:
    stop = asyncio.Event()
    deliverers = [Deliverer(store, settings, transports=channels.transports(settings)) for _ in range(loops)]
    tasks = [asyncio.create_task(d.run(stop)) for d in deliverers]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def add(store: WebhookStore, kind: str = "bale") -> int:
    return await channels.add(store, kind, token=TOKEN, chat=CHAT)


def last_four(phone: str) -> str:
    return phone[-4:]


@pytest.mark.parametrize("kind", ["telegram", "bale"])
async def test_a_message_per_lead_with_the_phone_masked(
    postgres: Postgres, store: WebhookStore, kind: str
) -> None:
    async with bot_api() as api:
        await add(store, kind)
        async with delivering(store, settings_for(api)):
            for n in range(1, 4):  # one at a time: each its own message
                (lead,) = await record(postgres, 1)
                await until(lambda n=n: len(api.messages) == n, 15)  # type: ignore[misc]
                sent = api.messages[-1]
                assert (sent.token, sent.chat_id) == (TOKEN, CHAT)
                assert sent.text.startswith("New lead")
                assert f"*** {last_four(lead.phone)}" in sent.text
                assert lead.phone not in sent.text and f" {lead.phone[6:9]} " not in sent.text


@pytest.mark.parametrize("loops", [1, 2])  # two workers share a chat's pace, not double it
async def test_a_burst_of_500_leads_is_grouped_within_the_chat_limit(
    postgres: Postgres, store: WebhookStore, wpg: asyncpg.Pool, loops: int
) -> None:
    async with bot_api() as api:
        await add(store)
        async with delivering(store, settings_for(api), loops):
            leads = await record(postgres, 500)

            def lines() -> int:
                return sum(m.text.count("\n• ") or 1 for m in api.messages)

            await until(lambda: lines() >= 500, 120)
    assert lines() == 500  # every lead once
    assert len(api.messages) <= math.ceil(500 / message.MOST) + 2
    gaps = [b.at - a.at for a, b in zip(api.messages, api.messages[1:], strict=False)]
    assert min(gaps) >= INTERVAL_S * 0.95  # never faster than one message per interval per chat
    text = "\n".join(m.text for m in api.messages)
    assert all(f"*** {last_four(lead.phone)}" in text for lead in leads)
    assert await wpg.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'") == 500


async def test_a_429_retry_after_is_honoured(postgres: Postgres, store: WebhookStore) -> None:
    async with bot_api(limited_first(retry_after=2)) as api:
        await add(store)
        async with delivering(store, settings_for(api)):
            await record(postgres, 1)
            await until(lambda: len(api.messages) == 1, 20)
    assert len(api.requests) == 2
    waited = api.requests[1].at - api.requests[0].at
    assert waited >= 2.0  # not a moment sooner than the API asked


async def test_a_403_bot_blocked_disables_the_channel(
    postgres: Postgres, store: WebhookStore, wpg: asyncpg.Pool
) -> None:
    async with bot_api(refused) as api:
        channel = await add(store)
        async with delivering(store, settings_for(api)):
            await record(postgres, 1)

            async def state() -> str:
                (row,) = [r for r in await channels.listing(store) if r["id"] == channel]
                return str(row["state"])

            deadline = time.monotonic() + 15
            while (await state()) == "enabled":
                assert time.monotonic() < deadline, "timed out"
                await asyncio.sleep(0.05)
            assert await state() == "disabled: bale answered 403: Forbidden: bot was blocked by the user"
            # its delivery is failed (recorded just after the channel is disabled), not retried
            while await wpg.fetchval("SELECT state FROM webhook_deliveries") == "pending":
                assert time.monotonic() < deadline, "timed out"
                await asyncio.sleep(0.05)
            assert await wpg.fetchval("SELECT state FROM webhook_deliveries") == "failed"
            await record(postgres, 1)  # a disabled channel is sent nothing more
            assert await wpg.fetchval("SELECT count(*) FROM webhook_deliveries") == 1
    assert len(api.requests) == 1


async def test_the_bot_server_down_then_back_loses_nothing(
    postgres: Postgres, store: WebhookStore, wpg: asyncpg.Pool
) -> None:
    api = await BotApi().start()
    await api.stop()  # its port is known; nothing listens there now
    await add(store)
    async with delivering(store, settings_for(api)):
        leads = await record(postgres, 5)

        async def tried() -> bool:
            return bool(await wpg.fetchval("SELECT count(*) FROM webhook_deliveries WHERE attempts >= 2"))

        deadline = time.monotonic() + 20
        while not await tried():  # it was tried, failed, and is due again
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.05)
        await api.start()
        try:
            await until(lambda: sum(m.text.count("\n• ") or 1 for m in api.messages) >= 5, 30)
        finally:
            await api.stop()
    text = "\n".join(m.text for m in api.messages)
    assert all(text.count(f"*** {last_four(lead.phone)}") == 1 for lead in leads)
    assert await wpg.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'") == 5


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.mails.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message_from_bytes(envelope.content, policy=policy.default),
            )  # type: ignore[attr-defined]
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_email_reaches_an_smtp_server(postgres: Postgres, store: WebhookStore) -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        await channels.add(
            store,
            "email",
            smtp=f"smtp://127.0.0.1:{controller.port}?from=leads@example.com",
            to="sales@example.com",
        )
        async with delivering(store, settings_for()):
            (lead,) = await record(postgres, 1)
            await until(lambda: len(inbox.mails) == 1, 15)
    finally:
        controller.stop()
    sender, recipients, mail = inbox.mails[0]
    assert (sender, recipients) == ("leads@example.com", ["sales@example.com"])
    assert mail["Subject"] == "New lead · default"
    body = mail.get_content()
    assert f"*** {last_four(lead.phone)}" in body and lead.phone not in body


async def test_a_verified_lead_reaches_a_chat_subscribed_to_lead_verified(
    postgres: Postgres, store: WebhookStore
) -> None:
    async with bot_api() as api:
        await channels.add(store, "telegram", token=TOKEN, chat=CHAT, events=["lead.verified"])
        async with delivering(store, settings_for(api)):
            (lead,) = await record(postgres, 1)  # lead.created: this chat did not ask for it
            await postgres.leads.mark_verified([lead])
            await until(lambda: len(api.messages) == 1, 15)
    assert api.messages[0].text.startswith("Phone verified")
    assert f"*** {last_four(lead.phone)}" in api.messages[0].text
    assert len(api.requests) == 1


async def test_a_channel_limited_to_a_campaign_gets_only_its_leads(
    postgres: Postgres, store: WebhookStore
) -> None:
    """One number in two campaigns is two leads: the chat limited to `spring` is told of spring's
    lead only (the message names spring), the chat limited to `default` of default's only."""
    await postgres.campaigns.add("spring", {"title": "Spring"}, None)
    spring_chat, default_chat = "-1001", "-1002"
    for chat, slug in ((spring_chat, "spring"), (default_chat, "default")):
        await channels.add(
            store, "telegram", token=TOKEN, chat=chat, campaign=slug, campaigns=postgres.campaigns
        )
    phone = "+98912" + str(time.time_ns())[-7:]
    leads = [Submission(id=uuid7(), phone=phone, region="IR", campaign=c) for c in ("default", "spring")]
    async with bot_api() as api, delivering(store, settings_for(api)):
        await postgres.leads.record(leads)
        await until(lambda: len(api.messages) == 2, 15)
    by_chat = {m.chat_id: m.text for m in api.messages}
    assert set(by_chat) == {spring_chat, default_chat}
    assert "Campaign: spring" in by_chat[spring_chat] and "Campaign: default" in by_chat[default_chat]
    per_chat = await postgres.pool_for_tests().fetch(
        "SELECT ep.chat, count(*) AS n FROM webhook_deliveries d"
        " JOIN webhook_endpoints ep ON ep.id = d.endpoint_id"
        " WHERE ep.chat = ANY ($1::text[]) GROUP BY ep.chat",
        [spring_chat, default_chat],
    )
    assert {r["chat"]: r["n"] for r in per_chat} == {spring_chat: 1, default_chat: 1}
    for hostile in ("autumn", "Spring!", "x" * 300):
        with pytest.raises(UsageError):
            await channels.add(
                store, "telegram", token=TOKEN, chat=CHAT, campaign=hostile, campaigns=postgres.campaigns
            )
