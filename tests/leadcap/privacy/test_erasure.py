"""Erasure against the real stores: every trace of the number goes, from each table, each Redis
key and each request-log entry; other numbers keep theirs; the audit trail stays without it."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import pytest

from leadcap import keys
from leadcap.errors import UsageError
from leadcap.ids import uuid7
from leadcap.intake.submission import Submission
from leadcap.notify import channels
from leadcap.privacy import erasure
from leadcap.settings import Settings
from leadcap.stores.mongo import Bucket, Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from leadcap.webhooks import signing
from leadcap.webhooks.delivery import Deliverer
from tests.bot_api import bot_api
from tests.factories import arabic_indic, e164, mobile
from tests.webhook_receiver import receiving

pytestmark = pytest.mark.asyncio


def submission(phone: str, *, at_ms: int | None = None) -> Submission:
    return Submission(id=uuid7(at_ms), phone=phone, region="IR", source="hero", utm={"campaign": "fall"})


async def seed(postgres: Postgres, redis: Redis, mongo: Mongo, phone: str) -> tuple[uuid.UUID, list[str]]:
    """A lead as the running system leaves it: two submissions (and their events and deliveries),
    a dead letter, an audit row, Redis keys, request-log entries. Return its id and submissions."""
    first, second = submission(phone), submission(phone)
    await postgres.leads.record([first])
    await postgres.leads.record([second])
    lead_id = first.id
    await postgres.campaign.change_status(lead_id, "contacted", by="ali")
    poison = submission(phone).to_message()
    await postgres.dead_letters.bury(uuid.UUID(poison["id"]), orjson.dumps(poison), "refused for good")
    sids = [str(first.id), str(second.id)]
    raw = redis.client_for_tests()
    now_ms = int(time.time() * 1000)
    await raw.set(keys.dedupe(phone), sids[1])
    for sid in sids:
        await raw.hset(keys.verification(sid), mapping={"phone": phone, "t": "x"})
        await raw.hset(keys.verification_code(sid), mapping={"h": "x", "tries": 0})
        await raw.set(keys.verification_wait(sid), "1")
    for budget in keys.sms_phone_budgets(phone):
        await raw.zadd(budget, {f"{sids[0]}:ab": now_ms})
    now = datetime.now(UTC)
    await mongo.write(
        Bucket(
            [
                {"kind": "request", "time": now, "submission_id": sids[0], "task_state": "queued"},
                {"kind": "task", "time": now, "submission_id": sids[0], "task_state": "done"},
                {"kind": "request", "time": now, "duplicate_of": sids[0]},
                {"kind": "request", "time": now, "submission_id": sids[1]},
            ]
        )
    )
    return lead_id, sids


async def rows_holding(pool: asyncpg.Pool, phone: str) -> dict[str, int]:
    """Rows of every table in the schema whose text (bytea as hex included) holds the number."""
    digits = phone.lstrip("+")
    hexed = phone.encode().hex()
    found = {}
    for table in await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
        name = table["tablename"]
        n = await pool.fetchval(
            f'SELECT count(*) FROM "{name}" t WHERE t::text LIKE $1 OR t::text LIKE $2',
            f"%{digits}%",
            f"%{hexed}%",
        )
        if n:
            found[name] = n
    return found


async def redis_keys_naming(redis: Redis, *needles: str) -> list[str]:
    """Every key whose name or value (strings, hashes, sorted sets) holds one of `needles`."""
    raw = redis.client_for_tests()
    hits = []
    async for name in raw.scan_iter(count=1000):
        kind = (await raw.type(name)).decode()
        if kind == "string":
            content = [await raw.get(name)]
        elif kind == "hash":
            content = list((await raw.hgetall(name)).values())
        elif kind == "zset":
            content = await raw.zrange(name, 0, -1)
        else:
            content = []
        text = name.decode() + " " + " ".join(c.decode() for c in content if c is not None)
        if any(n in text for n in needles):
            hits.append(name.decode())
    return sorted(hits)


async def log_entries(mongo: Mongo) -> list[dict[str, Any]]:
    return [e async for b in mongo.logs_for_tests().find({}) for e in b["entries"]]


async def test_erase_removes_every_trace_and_keeps_the_others(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    pool = postgres.pool_for_tests()
    endpoint = await postgres.webhooks.add_endpoint(
        "http://a.example/h", signing.new_secret(), ["lead.created", "lead.erased"]
    )
    phone, other = e164(mobile()), e164(mobile())
    lead_id, sids = await seed(postgres, redis, mongo, phone)
    other_id, other_sids = await seed(postgres, redis, mongo, other)
    assert await rows_holding(pool, phone)  # the check sees the number where it is
    assert await redis_keys_naming(redis, phone, *sids)

    erased = await erasure.erase_number(postgres, redis, mongo, phone, by="cli:test")

    assert erased.leads == 1 and erased.lead_ids == [lead_id]
    assert erased.rows == {
        "webhook_deliveries": 1,
        "webhook_events": 1,
        "dead_letters": 1,
        "submissions": 2,
        "leads": 1,
    }
    assert erased.request_logs == 4
    assert await rows_holding(pool, phone) == {}
    assert await redis_keys_naming(redis, phone, *sids) == []
    entries = await log_entries(mongo)
    assert not [e for e in entries if {e.get("submission_id"), e.get("duplicate_of")} & set(sids)]
    assert await mongo.logs_for_tests().count_documents({"submission_ids": {"$in": sids}}) == 0

    # the other number keeps everything
    assert await pool.fetchval("SELECT count(*) FROM submissions WHERE phone = $1", other) == 2
    assert await pool.fetchval("SELECT count(*) FROM leads WHERE id = $1", other_id) == 1
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 1
    assert set(await rows_holding(pool, other)) == {"leads", "submissions", "webhook_events", "dead_letters"}
    assert len(await redis_keys_naming(redis, other, *other_sids)) == 2 + 3 * 2 + 1  # budgets, vf, dedupe
    assert len([e for e in entries if {e.get("submission_id"), e.get("duplicate_of")} & set(other_sids)]) == 4

    # the audit trail stays, without the number, and says who erased
    trail = await pool.fetch(
        "SELECT old_status, new_status, changed_by FROM lead_status_changes WHERE lead_id = $1 ORDER BY id",
        lead_id,
    )
    assert [tuple(r) for r in trail] == [("new", "contacted", "ali"), ("contacted", "erased", "cli:test")]

    # lead.erased: id, campaign, erased_at; no number; a delivery to the subscribed endpoint
    event = await pool.fetchrow("SELECT id, data FROM webhook_events WHERE type = 'lead.erased'")
    data = orjson.loads(event["data"])
    assert set(data) == {"id", "campaign", "erased_at"}
    assert data["id"] == str(lead_id) and data["campaign"] == "default"
    assert datetime.fromisoformat(data["erased_at"]) <= datetime.now(UTC)
    assert (
        await pool.fetchval("SELECT endpoint_id FROM webhook_deliveries WHERE event_id = $1", event["id"])
        == endpoint
    )

    # run twice: nothing more to remove, no second event
    again = await erasure.erase_number(postgres, redis, mongo, phone, by="cli:test")
    assert again.leads == 0 and sum(again.rows.values()) == 0 and again.request_logs == 0
    assert again.redis_keys == 0
    assert await pool.fetchval("SELECT count(*) FROM webhook_events WHERE type = 'lead.erased'") == 1


async def test_with_campaign_the_numbers_sms_budgets_stay(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    phone = e164(mobile())
    _, sids = await seed(postgres, redis, mongo, phone)
    await erasure.erase_number(postgres, redis, mongo, phone, by="t", campaign="default")
    assert await redis_keys_naming(redis, phone, *sids) == sorted(keys.sms_phone_budgets(phone))
    assert await rows_holding(postgres.pool_for_tests(), phone) == {}


async def test_a_number_reads_in_any_spelling_the_form_accepts() -> None:
    settings = Settings()
    national = mobile()
    for spelling in (national, arabic_indic(national), "+98 " + national[1:], "0098" + national[1:]):
        assert erasure.parse_phone(spelling, settings) == e164(national)
    for hostile in ("abc", "", "0912", "+1 202 555 0100x" * 3, "02112345678", "\x00" * 10):
        with pytest.raises(UsageError):
            erasure.parse_phone(hostile, settings)


async def two_campaigns(postgres: Postgres, redis: Redis, phone: str, slug: str) -> dict[str, list[str]]:
    """The number's lead in `default` and in `slug`: a submission each, its dedupe key and its
    verification keys, as the intake leaves them. Return each campaign's submission ids."""
    if not await postgres.campaigns.known(slug):
        await postgres.campaigns.add(slug, {"title": slug}, None)
    raw = redis.client_for_tests()
    sids: dict[str, list[str]] = {}
    for campaign in ("default", slug):
        one = Submission(id=uuid7(), phone=phone, region="IR", campaign=campaign)
        await postgres.leads.record([one])
        sids[campaign] = [str(one.id)]
        await raw.set(keys.dedupe(phone, campaign), str(one.id))
        await raw.hset(keys.verification(str(one.id)), mapping={"phone": phone, "t": "x"})
        poison = Submission(id=uuid7(), phone=phone, region="IR", campaign=campaign, utm={"campaign": slug})
        await postgres.dead_letters.bury(poison.id, orjson.dumps(poison.to_message()), "refused")
    for budget in keys.sms_phone_budgets(phone):
        await raw.zadd(budget, {"x:ab": int(time.time() * 1000)})
    return sids


async def test_campaign_erases_only_that_campaigns_lead(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    """One number in two campaigns: `--campaign spring` takes spring's lead, submission, dedupe
    key (dd:spring:<phone>) and verification; default's lead, its dedupe key, its verification
    and the number's SMS budgets stay, and lead.erased names spring."""
    pool = postgres.pool_for_tests()
    phone = e164(mobile())
    sids = await two_campaigns(postgres, redis, phone, "spring")
    erased = await erasure.erase_number(postgres, redis, mongo, phone, by="t", campaign="spring")
    assert erased.leads == 1 and erased.rows["submissions"] == 1 and erased.rows["dead_letters"] == 1
    left = await pool.fetch("SELECT campaign FROM leads WHERE phone = $1", phone)
    assert [r["campaign"] for r in left] == ["default"]
    assert [
        r["campaign"] for r in await pool.fetch("SELECT campaign FROM submissions WHERE phone = $1", phone)
    ] == ["default"]
    assert await redis_keys_naming(redis, phone, *sids["default"], *sids["spring"]) == sorted(
        [keys.dedupe(phone), keys.verification(sids["default"][0]), *keys.sms_phone_budgets(phone)]
    )
    event = await pool.fetchval(
        "SELECT data FROM webhook_events WHERE type = 'lead.erased' AND lead_id = $1",
        uuid.UUID(sids["spring"][0]),
    )
    assert orjson.loads(event)["campaign"] == "spring"
    # A submission to default accepted before the erase still lands; one to spring does not.
    late_default = Submission(id=uuid7(int(time.time() * 1000) - 1000), phone=phone, region="IR")
    late_spring = Submission(id=late_default.id, phone=phone, region="IR", campaign="spring")
    await postgres.leads.record([late_spring])
    await postgres.leads.record([late_default])
    assert (
        await pool.fetchval("SELECT submissions FROM leads WHERE phone = $1 AND campaign = 'default'", phone)
        == 2
    )
    assert await pool.fetchval("SELECT count(*) FROM leads WHERE phone = $1", phone) == 1


async def test_without_campaign_every_campaigns_lead_and_dedupe_key_go(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    phone = e164(mobile())
    sids = await two_campaigns(postgres, redis, phone, "summer")
    erased = await erasure.erase_number(postgres, redis, mongo, phone, by="t")
    assert erased.leads == 2
    assert await rows_holding(postgres.pool_for_tests(), phone) == {}
    assert await redis_keys_naming(redis, phone, *sids["default"], *sids["summer"]) == []


async def test_campaign_must_be_one_ever_added(postgres: Postgres) -> None:
    for hostile in ("autumn", "Fall!", "x" * 500, "", "default\n"):
        with pytest.raises(UsageError):
            await erasure.check_campaign(postgres, hostile)
    await postgres.campaigns.add("winter", {"title": "w"}, None)
    await postgres.campaigns.archive("winter")  # its leads stay, so they can still be erased
    for known in ("default", "winter", None):
        assert await erasure.check_campaign(postgres, known) == known


async def test_a_submission_accepted_before_the_erase_does_not_land(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    """The rule both writers apply (the worker's run is tests/leadcap/privacy/test_race.py)."""
    pool = postgres.pool_for_tests()
    phone = e164(mobile())
    in_flight = submission(phone)  # accepted, not yet written
    await erasure.erase_number(postgres, redis, mongo, phone, by="t")
    await postgres.leads.record([in_flight])
    await postgres.leads.mark_verified([in_flight])
    assert await rows_holding(pool, phone) == {}
    later = submission(phone, at_ms=int(time.time() * 1000) + 5)  # the owner comes back
    await postgres.leads.record([later])
    assert await pool.fetchval("SELECT id FROM leads WHERE phone = $1", phone) == later.id


async def test_lead_erased_reaches_its_subscribers_signed_without_the_number(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    """The receiver checks every signature with the standardwebhooks package; an endpoint not
    subscribed to lead.erased gets nothing, and the number's lead.created, still pending for
    the slow endpoint, is never sent after the erase."""
    pool = postgres.pool_for_tests()
    settings = Settings(webhook_allow_private=True, webhook_backoff_cap_seconds=1)
    phone = e164(mobile())
    with receiving(signing.new_secret()) as crm, receiving(signing.new_secret()) as other:
        await postgres.webhooks.add_endpoint(crm.url, crm.secret, ["lead.erased"])
        await postgres.webhooks.add_endpoint(other.url, other.secret, ["lead.created"])
        lead = submission(phone)
        await postgres.leads.record([lead])  # other's lead.created waits: no loop runs yet
        await erasure.erase_number(postgres, redis, mongo, phone, by="t")
        stop = asyncio.Event()
        loop = asyncio.create_task(Deliverer(postgres.webhooks, settings).run(stop))
        try:
            deadline = time.monotonic() + 20
            while not crm.received:
                assert time.monotonic() < deadline, "lead.erased never arrived"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # a stray lead.created to `other` would arrive by now
        finally:
            stop.set()
            await loop
    assert crm.bad == [] and other.received == [] and other.bad == []
    (body,) = [r["body"] for r in crm.received]
    assert body["type"] == "lead.erased" and body["data"]["id"] == str(lead.id)
    assert set(body["data"]) == {"id", "campaign", "erased_at"}
    assert phone.lstrip("+") not in orjson.dumps(crm.received).decode()
    assert await pool.fetchval("SELECT state FROM webhook_deliveries") == "delivered"


async def test_erasure_reaches_the_notification_outbox(
    postgres: Postgres, redis: Redis, mongo: Mongo
) -> None:
    """A chat's pending message of an erased number goes with it: the loop, run afterwards,
    sends only the other lead's."""
    pool = postgres.pool_for_tests()
    phone, kept = e164(mobile()), submission(e164(mobile()))
    async with bot_api() as api:
        token = "123456789:AAHfakeTokenForTestsOnly_abcdef"
        await channels.add(postgres.webhooks, "bale", token=token, chat="-1")
        await postgres.leads.record([submission(phone)])  # its message waits: no loop runs yet
        assert await pool.fetchval("SELECT count(*) FROM webhook_deliveries") == 1
        await erasure.erase_number(postgres, redis, mongo, phone, by="t")
        assert await pool.fetchval("SELECT count(*) FROM webhook_deliveries") == 0
        await postgres.leads.record([kept])
        settings = Settings(locale="en", bale_base_url=api.base_url, notify_interval_seconds=0.1)
        stop = asyncio.Event()
        deliverer = Deliverer(postgres.webhooks, settings, transports=channels.transports(settings))
        loop = asyncio.create_task(deliverer.run(stop))
        try:
            deadline = time.monotonic() + 20
            while not api.messages:
                assert time.monotonic() < deadline, "the kept lead's message never arrived"
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await loop
    assert len(api.requests) == 1 and f"*** {kept.phone[-4:]}" in api.messages[0].text
