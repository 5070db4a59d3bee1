"""Notifications: each new or verified lead as a message in a Telegram or Bale chat, or an email.

They ride the webhook outbox (leadcap/webhooks/): a channel is an endpoint of another kind
(migration 0009), so its deliveries are written in the lead's own transaction, claimed, retried
with jitter and isolated by a breaker exactly as a webhook's are, and never delay the intake.
This package adds only what differs: the text (`message`, plain functions), how it is sent
(`bots` for the Bot APIs, `mail` for SMTP: each a Transport of leadcap/webhooks/transport.py)
and what the `leadcap notify` commands do (`channels`).
"""

from __future__ import annotations

BOTS = ("telegram", "bale")
KINDS = (*BOTS, "email")
EVENTS = ("lead.created", "lead.verified")  # a lead to call; lead.erased is for systems, not chats
