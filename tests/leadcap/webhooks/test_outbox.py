"""The outbox: the group commit writes one lead.created event per new lead, in the lead's own
statement, and a pending delivery per subscribed endpoint."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import asyncpg
import orjson
import pytest

from leadcap.campaign import export
from leadcap.errors import StoreError
from leadcap.intake.submission import Submission, read_body, validate
from leadcap.stores.postgres import Postgres
from leadcap.stores.postgres.webhooks import WebhookStore, add_lead_event
from leadcap.webhooks import signing
from tests import factories


def sub(phone: str, **body: object) -> Submission:
    draft = read_body("application/json", orjson.dumps({"phone": phone, **body}))
    return validate(draft, default_region="IR", allowed_regions=None)


async def test_one_event_per_new_lead_and_none_on_redelivery(postgres: Postgres, wpg: asyncpg.Pool) -> None:
    first = sub(factories.mobile(), source="hero", utm={"campaign": "fall"})
    again = sub("0" + first.phone[3:])
    await postgres.leads.record([first])
    await postgres.leads.record([first])  # the same message redelivered
    await postgres.leads.record([first, again])  # the same phone submitted again: no new lead
    events = await wpg.fetch("SELECT * FROM webhook_events")
    assert len(events) == 1
    event = events[0]
    assert (event["type"], event["lead_id"]) == ("lead.created", first.id)
    data = orjson.loads(event["data"])
    assert data["phone"] == first.phone and data["id"] == str(first.id)
    assert (data["status"], data["source"], data["utm_campaign"]) == ("new", "hero", "fall")
    assert data["submissions"] == 1
    assert data["first_submitted_at"].endswith("+00:00")


async def test_a_delivery_per_subscribed_endpoint(
    postgres: Postgres, store: WebhookStore, wpg: asyncpg.Pool
) -> None:
    created = await store.add_endpoint("http://a.example/h", signing.new_secret(), ["lead.created"])
    both = await store.add_endpoint(
        "http://b.example/h", signing.new_secret(), ["lead.created", "lead.verified"]
    )
    await store.add_endpoint("http://c.example/h", signing.new_secret(), ["lead.verified"])
    gone = await store.add_endpoint("http://d.example/h", signing.new_secret(), ["lead.created"])
    await store.disable_endpoint(gone, "answered 410 Gone")
    batch = [sub(factories.mobile()) for _ in range(5)]
    await postgres.leads.record(batch)
    rows = await wpg.fetch("SELECT endpoint_id, count(*) AS n FROM webhook_deliveries GROUP BY 1")
    assert {r["endpoint_id"]: r["n"] for r in rows} == {created: 5, both: 5}


async def test_no_event_without_its_lead(postgres: Postgres, store: WebhookStore, wpg: asyncpg.Pool) -> None:
    """A batch PostgreSQL refuses writes neither leads nor events nor deliveries."""
    await store.add_endpoint("http://a.example/h", signing.new_secret(), ["lead.created"])
    good = sub(factories.mobile())
    bad = Submission(id=sub(factories.mobile()).id, phone=sub(factories.mobile()).phone, region=None)  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        await postgres.leads.record([good, bad])
    counts = await wpg.fetchrow(
        "SELECT (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM webhook_events) AS events,"
        " (SELECT count(*) FROM webhook_deliveries) AS deliveries"
    )
    assert tuple(counts) == (0, 0, 0)
    await postgres.leads.record([good])
    counts = await wpg.fetchrow(
        "SELECT (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM webhook_events) AS events,"
        " (SELECT count(*) FROM webhook_deliveries) AS deliveries"
    )
    assert tuple(counts) == (1, 1, 1)


async def test_another_event_joins_the_transaction_of_its_change(
    postgres: Postgres, store: WebhookStore, wpg: asyncpg.Pool
) -> None:
    """lead.verified (written by phone verification) commits with its change, or not at all."""
    verified = await store.add_endpoint("http://a.example/h", signing.new_secret(), ["lead.verified"])
    await store.add_endpoint("http://b.example/h", signing.new_secret(), ["lead.created"])
    lead = sub(factories.mobile())
    await postgres.leads.record([lead])
    async with wpg.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await add_lead_event(conn, "lead.verified", lead.id)
                raise RuntimeError("the change failed")
        assert await conn.fetchval("SELECT count(*) FROM webhook_events WHERE type = 'lead.verified'") == 0
        async with conn.transaction():
            await add_lead_event(conn, "lead.verified", lead.id)
    event = await wpg.fetchrow("SELECT * FROM webhook_events WHERE type = 'lead.verified'")
    assert event["lead_id"] == lead.id and orjson.loads(event["data"])["phone"] == lead.phone
    rows = await wpg.fetch("SELECT endpoint_id FROM webhook_deliveries WHERE event_id = $1", event["id"])
    assert [r["endpoint_id"] for r in rows] == [verified]


async def test_lead_created_carries_the_status_the_lead_has(postgres: Postgres, wpg: asyncpg.Pool) -> None:
    """With LEADCAP_VERIFY=sms the lead is written `unverified`: its lead.created says so, never
    `new` (a CRM would call a number nobody confirmed). A later submission of the same phone,
    sent with verification off, changes neither the lead nor its one event."""
    waiting = dataclasses.replace(sub(factories.mobile()), verify=True)
    plain = sub(factories.mobile())
    await postgres.leads.record([waiting, plain])
    await postgres.leads.record([sub("0" + waiting.phone[3:])])
    rows = await wpg.fetch("SELECT lead_id, data FROM webhook_events WHERE type = 'lead.created'")
    sent = {r["lead_id"]: orjson.loads(r["data"])["status"] for r in rows}
    held = {r["id"]: r["status"] for r in await wpg.fetch("SELECT id, status FROM leads")}
    assert sent == held == {waiting.id: "unverified", plain.id: "new"}


async def test_every_lead_event_carries_the_export_columns(postgres: Postgres, wpg: asyncpg.Pool) -> None:
    """lead.created and lead.verified carry one payload, built in one place (migration 0008's
    webhook_lead_data): the lead's export columns, times in UTC, verified_at once it is set."""
    lead = dataclasses.replace(sub(factories.mobile(), source="hero", utm={"term": "t"}), verify=True)
    await postgres.leads.record([lead])
    await postgres.leads.mark_verified([lead])
    rows = await wpg.fetch("SELECT type, data FROM webhook_events WHERE lead_id = $1", lead.id)
    sent = {r["type"]: orjson.loads(r["data"]) for r in rows}
    # consent_version and consent_at travel once the lead gave consent (tests/web/test_consent.py),
    # variant once it was shown one (tests/web/test_campaigns_intake.py)
    columns = [c for c in export.COLUMNS if c not in ("consent_version", "consent_at", "variant")]
    assert sorted(sent["lead.created"]) == sorted(c for c in columns if c != "verified_at")
    assert sorted(sent["lead.verified"]) == sorted(columns)
    created, verified = sent["lead.created"], sent["lead.verified"]
    assert (created["status"], verified["status"]) == ("unverified", "verified")
    assert created["source"] == verified["source"] == "hero" and verified["utm_term"] == "t"
    for data in (created, verified):
        assert data["id"] == str(lead.id) and data["phone"] == lead.phone
        assert data["first_submitted_at"] == lead.submitted_at.isoformat(timespec="microseconds")
    row = await wpg.fetchrow("SELECT * FROM leads WHERE id = $1", lead.id)
    assert datetime.fromisoformat(verified["verified_at"]) == row["verified_at"]
