"""PostgreSQL for webhooks: endpoints, claims, outcomes, listings. Driver errors become StoreError.

An endpoint has a `kind`: `webhook`, or a notification channel (`telegram`, `bale`, `email`;
migration 0009). Both share the outbox, the claims and the outcomes.

The webhook domain (leadcap/webhooks/: schedules, signing, the delivery loop) calls these methods
and never sees the pool (Postgres hands it to WebhookStore)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from leadcap.stores.postgres.connection import translated
from leadcap.stores.postgres.sql import arrays, query

WEBHOOK = "webhook"
CHANNEL_KINDS = ("telegram", "bale", "email")  # notification channels (leadcap/notify/)


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: int
    url: str  # "" for a bot channel (its base address is a setting)
    secret: str  # a webhook's whsec_ secret, a bot's token, an SMTP password
    events: tuple[str, ...]
    enabled: bool = True
    disabled_reason: str | None = None
    created_at: datetime | None = None
    kind: str = WEBHOOK
    chat: str | None = None  # a bot's chat id, an email's To address
    full_phone: bool = False
    campaign: str | None = None


_COLUMNS = (
    "id, coalesce(url, '') AS url, secret, events, enabled, disabled_reason, created_at,"
    " kind, chat, full_phone, campaign"
)
_ENABLED_ENDPOINTS = f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE enabled ORDER BY id"  # noqa: S608
_ENDPOINTS_OF_KINDS = f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE kind = ANY ($1) ORDER BY id"  # noqa: S608


def _endpoint(row: asyncpg.Record) -> Endpoint:
    return Endpoint(**{**dict(row), "events": tuple(row["events"])})


@dataclass(frozen=True, slots=True)
class Claim:
    """One claimed attempt: what to send, and the attempt number that finishing must match."""

    id: int
    endpoint_id: int
    attempts: int
    age_s: float
    event_id: uuid.UUID
    type: str
    occurred_at: datetime
    data: str  # the event's data as JSON text, embedded in the body as is

    def body(self) -> bytes:
        """The request body; the same bytes on every attempt of this event."""
        head = orjson.dumps({"type": self.type, "timestamp": self.occurred_at.isoformat()})
        return head[:-1] + b',"data":' + self.data.encode() + b"}"


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: int
    attempts: int
    state: str
    delay_s: float
    status: int | None
    error: str | None


async def add_lead_event(
    conn: asyncpg.Connection | PoolConnectionProxy, event_type: str, lead_id: uuid.UUID
) -> None:
    """Put a `event_type` event (e.g. lead.verified) for a lead into the outbox, on `conn`.

    Call it inside the transaction that makes the change the event announces, so the event
    commits with it or not at all (lead.created needs no call: record_submissions.sql writes it).
    """
    async with translated(f"adding a {event_type} event"):
        await conn.execute(query("webhook_lead_event"), event_type, lead_id)


class WebhookStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool  # the store's own pool, handed over by Postgres

    async def enabled_endpoints(self) -> list[Endpoint]:
        """Every enabled endpoint of every kind: what the delivery loop sends to."""
        async with translated("reading webhook endpoints"):
            rows = await self._pool.fetch(_ENABLED_ENDPOINTS)
        return [_endpoint(r) for r in rows]

    async def endpoints(self, kinds: Sequence[str] = (WEBHOOK,)) -> list[Endpoint]:
        """The endpoints of `kinds` (webhooks unless told), enabled or not."""
        async with translated("listing webhook endpoints"):
            rows = await self._pool.fetch(_ENDPOINTS_OF_KINDS, list(kinds))
        return [_endpoint(r) for r in rows]

    async def endpoint(self, endpoint_id: int, kinds: Sequence[str] = (WEBHOOK,)) -> Endpoint | None:
        return next((e for e in await self.endpoints(kinds) if e.id == endpoint_id), None)

    async def add_channel(
        self,
        kind: str,
        *,
        url: str | None,
        secret: str,
        chat: str,
        events: Sequence[str],
        full_phone: bool,
        campaign: str | None,
    ) -> int:
        """Add a notification channel (migration 0009's kinds); return its id."""
        async with translated("adding a notification channel"):
            value = await self._pool.fetchval(
                "INSERT INTO webhook_endpoints (kind, url, secret, chat, events, full_phone, campaign)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                kind,
                url,
                secret,
                chat,
                list(events),
                full_phone,
                campaign,
            )
        return int(value)

    async def add_endpoint(self, url: str, secret: str, events: Sequence[str]) -> int:
        async with translated("adding a webhook endpoint"):
            value = await self._pool.fetchval(
                "INSERT INTO webhook_endpoints (url, secret, events) VALUES ($1, $2, $3) RETURNING id",
                url,
                secret,
                list(events),
            )
        return int(value)

    async def remove_endpoint(self, endpoint_id: int, kinds: Sequence[str] = (WEBHOOK,)) -> bool:
        async with translated("removing a webhook endpoint"):
            status = await self._pool.execute(
                "DELETE FROM webhook_endpoints WHERE id = $1 AND kind = ANY ($2)", endpoint_id, list(kinds)
            )
        return bool(status.endswith(" 1"))

    async def disable_endpoint(self, endpoint_id: int, reason: str) -> None:
        async with translated("disabling a webhook endpoint"):
            await self._pool.execute(query("webhook_disable"), endpoint_id, reason)

    async def claim(self, room: Mapping[int, int], lease_s: float) -> list[Claim]:
        """Claim up to room[endpoint] due deliveries per endpoint (FOR UPDATE SKIP LOCKED)."""
        wanted = {k: v for k, v in room.items() if v > 0}
        if not wanted:
            return []
        async with translated("claiming webhook deliveries"):
            rows = await self._pool.fetch(
                query("webhook_claim"), list(wanted), list(wanted.values()), lease_s
            )
        return [Claim(**dict(r)) for r in rows]

    async def take_turns(self, channel_ids: Sequence[int], hold_s: float) -> set[int]:
        """The channels (of `channel_ids`) with something due whose turn this worker took now."""
        if not channel_ids:
            return set()
        async with translated("pacing notification channels"):
            rows = await self._pool.fetch(query("webhook_pace"), list(channel_ids), hold_s)
        return {r["id"] for r in rows}

    async def next_turn(self, channel_id: int, after_s: float) -> None:
        """The channel's next message may start `after_s` seconds from now, from any worker."""
        async with translated("pacing a notification channel"):
            await self._pool.execute(
                "UPDATE webhook_endpoints SET paced_until = now() + make_interval(secs => $2::float8)"
                " WHERE id = $1",
                channel_id,
                after_s,
            )

    async def finish(self, outcomes: Sequence[Outcome]) -> None:
        """Record the outcomes of many attempts in one statement."""
        if not outcomes:
            return
        async with translated("recording webhook outcomes"):
            await self._pool.execute(
                query("webhook_finish"),
                *arrays(outcomes, "delivery_id", "attempts", "state", "delay_s", "status", "error"),
            )

    async def figures(self) -> dict[str, float]:
        """Pending deliveries, how many are due, and how long the oldest due one has waited."""
        async with translated("reading the webhook backlog"):
            row = await self._pool.fetchrow(query("webhook_figures"))
        assert row is not None
        return {"pending": row["pending"], "due": row["due"], "oldest_due_s": row["oldest_due_s"]}

    async def deliveries(self, *, failed_only: bool, limit: int) -> list[dict[str, Any]]:
        async with translated("listing webhook deliveries"):
            rows = await self._pool.fetch(query("webhook_deliveries"), failed_only, limit)
        return [dict(r) for r in rows]

    async def replay(self, delivery_ids: Sequence[int], *, failed: bool) -> list[int]:
        """Make deliveries due again now; return the ids that were (of enabled endpoints only)."""
        async with translated("replaying webhook deliveries"):
            rows = await self._pool.fetch(query("webhook_replay"), list(delivery_ids), failed)
        return [r["id"] for r in rows]
