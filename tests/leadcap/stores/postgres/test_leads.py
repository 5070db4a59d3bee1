"""Recording submissions in a real PostgreSQL: idempotent, one lead per phone, enrichment."""

from __future__ import annotations

import asyncio
import re

import asyncpg
import orjson

from leadcap.intake.submission import Submission, read_body, validate
from leadcap.lead import STATUSES, UTM_KEYS
from leadcap.stores.postgres import Postgres
from tests import factories


def sub(phone: str, **body: object) -> Submission:
    draft = read_body("application/json", orjson.dumps({"phone": phone, **body}))
    return validate(draft, default_region="IR", allowed_regions=None)


async def test_record_is_idempotent_on_submission_id(postgres: Postgres, pg: asyncpg.Pool) -> None:
    s = sub(factories.mobile(), source="hero", utm={"campaign": "fall"})
    await postgres.leads.record([s])
    await postgres.leads.record([s])
    await postgres.leads.record([s, s])
    lead = await pg.fetchrow("SELECT * FROM leads WHERE phone = $1", s.phone)
    assert lead["submissions"] == 1 and lead["id"] == s.id
    assert (lead["region"], lead["carrier"], lead["status"]) == ("IR", "Hamrah-e Aval", "new")
    assert (lead["source"], lead["utm_campaign"]) == ("hero", "fall")
    rows = await pg.fetch("SELECT * FROM submissions WHERE phone = $1", s.phone)
    assert len(rows) == 1 and rows[0]["processed_at"] >= rows[0]["submitted_at"]


async def test_the_same_submission_twice_in_one_batch_counts_once(
    postgres: Postgres, pg: asyncpg.Pool
) -> None:
    s = sub(factories.mobile())
    await postgres.leads.record([s, s, s])
    assert await pg.fetchval("SELECT submissions FROM leads WHERE phone = $1", s.phone) == 1


async def test_one_lead_per_phone_first_touch_kept(postgres: Postgres, pg: asyncpg.Pool) -> None:
    number = factories.mobile()
    first, second, third = sub(number, source="ad"), sub(number, source="footer"), sub(number)
    await postgres.leads.record([second, first])
    created = await pg.fetchrow("SELECT * FROM leads WHERE phone = $1", first.phone)
    assert created["updated_at"] == created["created_at"]  # one transaction: one now()
    await postgres.leads.record([third])
    lead = await pg.fetchrow("SELECT * FROM leads WHERE phone = $1", first.phone)
    assert lead["submissions"] == 3 and lead["source"] == "ad" and lead["id"] == first.id
    assert lead["first_submitted_at"] == first.submitted_at
    assert lead["last_submitted_at"] == third.submitted_at
    # A later submission touches the lead; a redelivered one changes nothing, not even updated_at.
    assert lead["created_at"] == created["created_at"] and lead["updated_at"] > created["updated_at"]
    await postgres.leads.record([third, first])
    again = await pg.fetchrow("SELECT * FROM leads WHERE phone = $1", first.phone)
    assert (again["submissions"], again["updated_at"]) == (3, lead["updated_at"])


async def test_concurrent_batches_count_exactly(postgres: Postgres, pg: asyncpg.Pool) -> None:
    numbers = [factories.mobile() for _ in range(20)]
    batches = [[sub(n) for n in numbers] for _ in range(6)]
    # Every batch also replays the first batch: redeliveries across workers must not count.
    await asyncio.gather(*(postgres.leads.record(b + batches[0]) for b in batches))
    counts = await pg.fetch(
        "SELECT submissions FROM leads WHERE phone = ANY($1::text[])", [factories.e164(n) for n in numbers]
    )
    assert sorted(r["submissions"] for r in counts) == [6] * 20


async def test_recent_submission_for_degraded_dedupe(postgres: Postgres) -> None:
    s = sub(factories.mobile())
    assert await postgres.leads.recent_submission(s.phone, 600) is None
    await postgres.leads.record([s])
    assert await postgres.leads.recent_submission(s.phone, 600) == s.id
    assert await postgres.leads.recent_submission(s.phone, 0) is None


async def test_the_status_check_allows_exactly_the_python_statuses(pg: asyncpg.Pool) -> None:
    checks = await pg.fetch(
        "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint"
        " WHERE conrelid = 'leads'::regclass AND contype = 'c'"
    )
    (status_check,) = [c["def"] for c in checks if "status" in c["def"]]
    assert tuple(re.findall(r"'([a-z_]+)'::text", status_check)) == STATUSES


async def test_both_tables_have_a_column_for_each_utm_key(pg: asyncpg.Pool) -> None:
    for table in ("leads", "submissions"):
        columns = await pg.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = $1 AND column_name LIKE 'utm%' ORDER BY ordinal_position",
            table,
        )
        assert [c["column_name"] for c in columns] == [f"utm_{key}" for key in UTM_KEYS], table


async def test_one_lead_per_campaign_and_phone(postgres: Postgres, pg: asyncpg.Pool) -> None:
    """The same number in two campaigns is two leads; twice in one campaign is one. Webhook data
    and the submissions carry the slug."""
    number = factories.mobile()
    spring = [sub(number, campaign="spring"), sub(number, campaign="spring")]
    default = sub(number)
    await postgres.leads.record([*spring, default])
    leads = {r["campaign"]: r for r in await pg.fetch("SELECT * FROM leads WHERE phone = $1", default.phone)}
    assert set(leads) == {"spring", "default"}
    assert (leads["spring"]["submissions"], leads["default"]["submissions"]) == (2, 1)
    assert leads["spring"]["id"] == spring[0].id and leads["default"]["id"] == default.id
    kept = await pg.fetch("SELECT campaign FROM submissions WHERE phone = $1 ORDER BY id", default.phone)
    assert sorted(r["campaign"] for r in kept) == ["default", "spring", "spring"]
    data = await pg.fetchval(
        "SELECT data FROM webhook_events WHERE lead_id = $1 AND type = 'lead.created'", spring[0].id
    )
    assert data is None or orjson.loads(data)["campaign"] == "spring"  # an event only with an endpoint
    row = await pg.fetchrow("SELECT * FROM leads WHERE id = $1", spring[0].id)
    built = orjson.loads(
        await pg.fetchval("SELECT webhook_lead_data(l) FROM leads l WHERE id = $1", row["id"])
    )
    assert built["campaign"] == "spring"
    # degraded mode's dedupe looks within one campaign only
    assert await postgres.leads.recent_submission(default.phone, 600, "spring") == spring[0].id
    assert await postgres.leads.recent_submission(default.phone, 600) == default.id
    assert await postgres.leads.recent_submission(default.phone, 600, "fall") is None


async def test_verified_per_campaign(postgres: Postgres, pg: asyncpg.Pool) -> None:
    number = factories.mobile()
    spring, default = sub(number, campaign="spring"), sub(number)
    await postgres.leads.mark_verified([spring])
    await postgres.leads.record([spring, default])
    rows = await pg.fetch(
        "SELECT campaign, status FROM leads WHERE phone = $1 ORDER BY campaign", spring.phone
    )
    assert [(r["campaign"], r["status"]) for r in rows] == [("default", "new"), ("spring", "verified")]


async def test_rollups_count_per_slug(postgres: Postgres, pg: asyncpg.Pool) -> None:
    slug = f"roll-{factories.mobile()[-6:]}"
    await postgres.leads.record([sub(factories.mobile(), campaign=slug) for _ in range(3)])
    counted = await pg.fetchval(
        "SELECT sum(new_leads) FROM campaign_rollups WHERE dim = 'slug' AND key = $1", slug
    )
    assert counted == 3
