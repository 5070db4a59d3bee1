"""Consent (issue 28): a campaign that asks for it refuses a POST without `"consent": true`
(422 consent_required, in the visitor's language), records the version of the text shown in
the page's language, keeps each text once, and the export, the read API's rows and the webhook
`data` carry the lead's latest. A campaign that asks for none changes nothing. The app is built
in process by create_app() on a database and Redis of its own; the queued message is written
by the worker's own statement."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadcap import keys
from leadcap.campaign import export
from leadcap.errors import ConfigError
from leadcap.ids import uuid7
from leadcap.intake.submission import Submission, read_message
from leadcap.landing import campaign as rules
from leadcap.landing import consent
from leadcap.readapi import apikeys
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests import factories, servers
from tests.servers import Stores, on_db

REDIS_DB = 8  # its own Redis database (each module that flushes one has its own)
TEXTS = {
    "fa": "با تماس کارشناسان و نگه‌داری شماره‌ام طبق سیاست حریم خصوصی موافقم.",
    "en": "I agree to be called and to my number being kept under the privacy policy.",
}


def document(texts: dict[str, str] | None) -> dict[str, Any]:
    data = json.loads(rules.DEFAULT_FILE.read_text(encoding="utf-8"))
    for lang, text in (texts or {}).items():
        data["locales"][lang]["consent"] = text
    return data


@pytest.fixture(scope="module")
async def own_db(stores: Stores) -> str:
    return await servers.migrated_database(stores.database)


@pytest.fixture(scope="module")
async def own_redis(stores: Stores) -> AsyncIterator[Redis]:
    async with servers.private_redis(stores.redis, REDIS_DB) as store:
        yield store


@pytest.fixture(scope="module")
async def store(own_db: str) -> AsyncIterator[Postgres]:
    postgres = await Postgres.open(own_db, max_size=4)
    yield postgres
    await postgres.close()


def app_env(
    env: dict[str, str], own_db: str, stores: Stores, folder: Path, texts: dict[str, str] | None, locale: str
) -> dict[str, str]:
    file = folder / f"campaign-{locale}-{bool(texts)}.json"
    file.write_text(json.dumps(document(texts), ensure_ascii=False), encoding="utf-8")
    return {
        **env,
        "LEADCAP_DATABASE_URL": own_db,
        "LEADCAP_REDIS_URL": on_db(stores.redis, REDIS_DB),
        "LEADCAP_CAMPAIGN_FILE": str(file),
        "LEADCAP_LOCALE": locale,
        "LEADCAP_RATE_LIMIT": "100000/minute",
        "LEADCAP_LOG_LEVEL": "WARNING",
    }


async def drain(redis: Redis, store: Postgres) -> list[Submission]:
    """What the worker does with the queued messages: read each, write them in one statement."""
    raw = redis.client_for_tests()
    entries = await raw.xrange(keys.LEAD_STREAM)
    await raw.delete(keys.LEAD_STREAM)
    batch = []
    for _, fields in entries:
        task = json.loads(next(iter(fields.values())))
        batch.append(read_message(task["kwargs"]["submission"]))
    await store.leads.record(batch)
    return batch


@pytest.mark.parametrize("locale", ["fa", "en"])
async def test_consent_required_given_recorded_and_shown(
    env: dict[str, str],
    own_db: str,
    own_redis: Redis,
    store: Postgres,
    stores: Stores,
    tmp_path: Path,
    locale: str,
) -> None:
    settings_env = app_env(env, own_db, stores, tmp_path, TEXTS, locale)
    number = factories.e164(factories.mobile())
    other = "fa" if locale == "en" else "en"
    # an endpoint subscribed, so lead.created events (and their data) are written
    await store.webhooks.add_endpoint(f"https://crm.example/{locale}", "whsec_" + "s" * 32, ["lead.created"])
    async with servers.in_process(settings_env) as url, httpx.AsyncClient(base_url=url) as http:
        for hostile in ({}, {"consent": "true"}, {"consent": 1}, {"consent": None}, {"consent": False}):
            refused = await http.post(
                "/api/leads/", json={"phone": number, **hostile}, headers={"accept-language": locale}
            )
            assert refused.status_code == 422, (hostile, refused.text)
            error = refused.json()["error"]
            assert (error["code"], error["field"]) == ("consent_required", "consent")
            wanted = {"fa": "لطفاً", "en": "Please"}[locale]
            assert wanted in error["message"]
        # the message follows the visitor's language; the version the page's
        other_language = await http.post(
            "/api/leads/", json={"phone": number}, headers={"accept-language": other}
        )
        assert {"fa": "لطفاً", "en": "Please"}[other] in other_language.json()["error"]["message"]
        assert await drain(own_redis, store) == []  # nothing refused was queued
        taken = await http.post("/api/leads/", json={"phone": number, "consent": True})
        assert taken.status_code == 202, taken.text
        # the no-JS form: a ticked checkbox sends any non-empty value; an unticked one nothing
        form = {"content-type": "application/x-www-form-urlencoded"}
        second = factories.e164(factories.mobile())
        unticked = await http.post("/api/leads/", content=f"phone={second}".replace("+", "%2B"), headers=form)
        assert unticked.status_code == 422
        ticked = await http.post(
            "/api/leads/", content=f"phone={second}&consent=on".replace("+", "%2B"), headers=form
        )
        assert ticked.status_code == 303, ticked.text
    written = await drain(own_redis, store)
    shown = consent.version(locale, TEXTS[locale])
    assert {s.phone for s in written} == {number, second}
    assert all(s.consent is not None and s.consent.version == shown for s in written)
    lead = await store.pool_for_tests().fetchrow(
        "SELECT id, consent_version, consent_at FROM leads WHERE phone = $1", number
    )
    assert lead["consent_version"] == shown and lead["consent_at"] is not None
    sub = await store.pool_for_tests().fetchrow(
        "SELECT consent_version FROM submissions WHERE phone = $1", number
    )
    assert sub["consent_version"] == shown
    text = await store.pool_for_tests().fetchrow(
        "SELECT lang, text FROM consent_texts WHERE version = $1", shown
    )
    assert (text["lang"], text["text"]) == (locale, TEXTS[locale])
    # the export's row (the read API and /admin/ use it) and the webhook data carry both
    row = export.row(
        await store.pool_for_tests().fetchrow(
            f"SELECT {', '.join(export.COLUMNS)} FROM leads WHERE phone = $1", number
        )
    )
    assert row["consent_version"] == shown and row["consent_at"].startswith(
        lead["consent_at"].isoformat()[:19]
    )
    # the read API's rows (GET /api/v1/leads)
    key = await apikeys.add(store, f"consent-{locale}", (apikeys.READ_LEADS,))
    async with servers.in_process(settings_env) as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get(
            "/api/v1/leads", headers={"authorization": f"Bearer {key}"}, params={"limit": 500}
        )
    assert page.status_code == 200, page.text
    [mine] = [r for r in page.json()["leads"] if r["phone"] == number]
    assert mine["consent_version"] == shown and mine["consent_at"] is not None
    data = await store.pool_for_tests().fetchval(
        "SELECT data FROM webhook_events WHERE lead_id = $1 AND type = 'lead.created'", lead["id"]
    )
    data = json.loads(data) if isinstance(data, str) else data
    assert data["consent_version"] == shown and data["consent_at"].startswith(
        lead["consent_at"].isoformat()[:19]
    )


async def test_each_text_is_kept_once_and_the_lead_carries_its_latest(store: Postgres) -> None:
    pool = store.pool_for_tests()
    number = factories.e164(factories.mobile())
    first = consent.offered(rules.parse(document(TEXTS)))
    changed = consent.offered(rules.parse(document({**TEXTS, "en": TEXTS["en"] + " Thanks."})))
    assert first["fa"] == changed["fa"] and first["en"].version != changed["en"].version
    assert first["fa"].version != first["en"].version
    before = int(time.time() * 1000) - 60_000  # a minute earlier (times are kept to the millisecond)
    older = [
        Submission(id=uuid7(before + i), phone=number, region="IR", consent=first["en"]) for i in range(3)
    ]
    newer = Submission(id=uuid7(), phone=number, region="IR", consent=changed["en"])  # made last
    await store.leads.record([newer])
    await store.leads.record(older)  # landing late: the lead keeps the later consent
    await store.leads.record(older)  # redelivered: nothing twice
    versions = {first["en"].version, changed["en"].version}
    kept = await pool.fetch("SELECT version, text FROM consent_texts WHERE version = ANY($1)", list(versions))
    assert sorted(r["text"] for r in kept) == sorted([TEXTS["en"], TEXTS["en"] + " Thanks."])
    lead = await pool.fetchrow(
        "SELECT consent_version, consent_at, submissions FROM leads WHERE phone = $1", number
    )
    assert lead["consent_version"] == changed["en"].version and lead["submissions"] == 4
    assert lead["consent_at"] == newer.submitted_at


async def test_without_a_consent_text_nothing_changes(
    env: dict[str, str], own_db: str, own_redis: Redis, store: Postgres, stores: Stores, tmp_path: Path
) -> None:
    number = factories.e164(factories.mobile())
    settings_env = app_env(env, own_db, stores, tmp_path, None, "fa")
    async with servers.in_process(settings_env) as url, httpx.AsyncClient(base_url=url) as http:
        taken = await http.post("/api/leads/", json={"phone": number})
    assert taken.status_code == 202, taken.text
    [message] = [
        json.loads(next(iter(f.values())))["kwargs"]["submission"]
        for _, f in await own_redis.client_for_tests().xrange(keys.LEAD_STREAM)
    ]
    assert "consent" not in message  # the queued message is byte for byte as before
    await drain(own_redis, store)
    lead = await store.pool_for_tests().fetchrow(
        "SELECT consent_version, consent_at FROM leads WHERE phone = $1", number
    )
    assert (lead["consent_version"], lead["consent_at"]) == (None, None)


@pytest.mark.parametrize(
    ("locales", "field"),
    [
        ({"fa": TEXTS["fa"]}, "locales.en.consent is missing"),
        ({"fa": TEXTS["fa"], "en": ""}, "locales.en.consent must be non-empty text"),
        ({"fa": 1, "en": TEXTS["en"]}, "locales.fa.consent must be non-empty text"),
        ({"fa": "a\x07b", "en": TEXTS["en"]}, "locales.fa.consent holds a control character"),
    ],
)
def test_a_bad_consent_text_is_named(locales: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        rules.parse(document(locales))


@pytest.mark.parametrize("lang", ["fa", "en"])
async def test_admin_shows_the_consent_version_and_time(store: Postgres, lang: str) -> None:
    """/admin/'s leads table, from the page query it runs (leadbook.page), rendered by its view."""
    from zoneinfo import ZoneInfo

    from leadcap.campaign import leadbook
    from web.admin import filters, views

    texts = consent.offered(rules.parse(document(TEXTS)))
    given = Submission(
        id=uuid7(),
        phone=factories.e164(factories.mobile()),
        region="IR",
        source="c-" + lang,
        consent=texts[lang],
    )
    plain = Submission(id=uuid7(), phone=factories.e164(factories.mobile()), region="IR", source="c-" + lang)
    await store.leads.record([given, plain])
    tz = ZoneInfo("Asia/Tehran")
    page = await leadbook.page(store, leadbook.Filters(source="c-" + lang))
    html = views.leads(
        lang, "ops", "t", page=page, chosen=filters.read({}, tz), after=None, tz=tz, region="IR"
    )
    version = texts[lang].version
    assert f'<abbr title="{version}"><code>{version[:8]}</code></abbr>' in html
    assert given.submitted_at.astimezone(tz).isoformat() in html  # its time, as a <time>
    assert html.count("<abbr title=") == 1  # the lead without consent shows a dash
    assert {"fa": "رضایت", "en": "Consent"}[lang] in html


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_no_js_page_asks_with_a_labelled_checkbox(lang: str) -> None:
    """The server's own form (no build, or a refused form post): the checkbox, labelled by the
    text, required; after consent_required it is marked invalid and tied to the sentence."""
    from web import campaign as web_campaign
    from web import page

    copy = web_campaign.of(rules.parse(document(TEXTS))).copy(lang)
    shown = page.render(copy)
    assert '<input id="consent" name="consent" type="checkbox" value="1" required>' in shown
    assert f'<label for="consent">{TEXTS[lang]}</label>' in shown
    refused = page.render(copy, error="x", field="consent")
    assert 'required aria-invalid="true" aria-describedby="form-error">' in refused
    assert '<p class="error" role="alert" id="form-error">x</p>' in refused
    assert "aria-invalid" not in page.render(copy, error="x", field="phone")
    plain = web_campaign.of(rules.parse(document(None))).copy(lang)
    assert 'name="consent"' not in page.render(plain)


async def test_another_campaign_asks_with_its_own_text(
    env: dict[str, str], own_db: str, own_redis: Redis, store: Postgres, stores: Stores, tmp_path: Path
) -> None:
    """A campaign beside the default one (`leadcap campaigns add`) asks for its own consent, while
    the default campaign (here without a consent text) asks for none."""
    slug = f"consent-{factories.mobile()[-6:]}"
    await store.campaigns.add(slug, document(TEXTS), None)
    number = factories.e164(factories.mobile())
    settings_env = app_env(env, own_db, stores, tmp_path, None, "en")
    async with servers.in_process(settings_env) as url, httpx.AsyncClient(base_url=url) as http:
        refused = await http.post("/api/leads/", json={"phone": number, "campaign": slug})
        taken = await http.post("/api/leads/", json={"phone": number, "campaign": slug, "consent": True})
        plain = await http.post("/api/leads/", json={"phone": factories.e164(factories.mobile())})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "consent_required"
    assert taken.status_code == 202 and plain.status_code == 202, (taken.text, plain.text)
    written = {s.phone: s for s in await drain(own_redis, store)}
    given = written[number].consent
    assert given is not None and given.version == consent.version("en", TEXTS["en"])
