"""GET /api/v1/leads, built in process by create_app() on a database and Redis of its own: keys
(401, 403, revocation), the per-key rate limit (429), use counts, hostile query strings (400/422,
never 500), the export's columns and filters, and paging through 10,000 leads while more commit
out of id order, with no lead twice and none missed."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from leadcap import settings as settings_module
from leadcap.campaign import export
from leadcap.errors import ConfigError
from leadcap.ids import uuid7
from leadcap.intake.submission import Submission
from leadcap.readapi import apikeys
from leadcap.readapi.query import encode_cursor
from leadcap.stores.postgres import Postgres
from leadcap.stores.postgres.leads import write_submissions
from tests import factories, servers
from tests.servers import wait_for

REDIS_DB = 11  # its own Redis database (each module that flushes one has its own)
PATH = "/api/v1/leads"
TZ = "Asia/Tehran"


@pytest.fixture(scope="module")
def own_env(module_env: dict[str, str]) -> dict[str, str]:
    return {
        **module_env,
        "LEADCAP_TIMEZONE": TZ,
        "LEADCAP_API_RATE_LIMIT": "100000/minute",
        "LEADCAP_LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="module")
async def api(own_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with servers.in_process(own_env) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
async def store(module_db: str) -> AsyncIterator[Postgres]:
    postgres = await Postgres.open(module_db, max_size=8)
    yield postgres
    await postgres.close()


@pytest.fixture(scope="module")
async def key(store: Postgres) -> str:
    return await apikeys.add(store, "reader", (apikeys.READ_LEADS,))


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def submissions(n: int, *, at_ms: int | None = None, **fields: Any) -> list[Submission]:
    """`n` new leads' first submissions, ids in the order they were made (at `at_ms`, or now)."""
    phones = [factories.e164(factories.mobile()) for _ in range(n)]
    return [Submission(id=uuid7(at_ms), phone=phone, region="IR", **fields) for phone in phones]


async def record(store: Postgres, batch: Sequence[Submission]) -> None:
    """Through the worker's own write (LeadStore.record: one statement, its own transaction)."""
    await store.leads.record(batch)


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert set(body["error"]) == {"code", "message"}, body  # field only on phone errors


# -- keys ------------------------------------------------------------------------------------------


async def test_a_key_is_kept_only_as_a_keyed_hash(store: Postgres, module_db: str) -> None:
    made = await apikeys.add(store, "hash-check", (apikeys.READ_LEADS,))
    assert made.startswith("leadcap_") and len(made) == len("leadcap_") + 43
    conn = await asyncpg.connect(module_db)
    try:
        row = await conn.fetchrow("SELECT * FROM api_keys WHERE name = 'hash-check'")
    finally:
        await conn.close()
    assert row is not None
    assert made not in " ".join(str(v) for v in row.values())  # nowhere in clear
    assert bytes(row["digest"]) == apikeys.digest(made) and len(row["digest"]) == 32
    assert row["hint"] == made[: apikeys.HINT_CHARS]


async def test_missing_wrong_or_revoked_keys_get_401(
    api: httpx.AsyncClient, store: Postgres, key: str
) -> None:
    assert (await api.get(PATH, headers=bearer(key))).status_code == 200
    wrong = "leadcap_" + "A" * 43  # well-formed, never issued
    for headers in ({}, {"authorization": "Bearer"}, {"authorization": key}, bearer("nope"), bearer(wrong)):
        answer = await api.get(PATH, headers=headers)
        assert_error(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"].startswith("Bearer")
    doomed = await apikeys.add(store, "doomed", (apikeys.READ_LEADS,))
    assert (await api.get(PATH, headers=bearer(doomed))).status_code == 200
    await apikeys.revoke(store, "doomed")
    assert_error(await api.get(PATH, headers=bearer(doomed)), 401, "unauthorized")
    assert (await api.get(PATH, headers=bearer(key))).status_code == 200  # the others go on


async def test_a_key_without_the_scope_gets_403(api: httpx.AsyncClient, store: Postgres) -> None:
    scopeless = await apikeys.add(store, "no-scope", ())
    assert_error(await api.get(PATH, headers=bearer(scopeless)), 403, "forbidden")


async def test_each_key_has_its_own_rate_limit(own_env: dict[str, str], store: Postgres) -> None:
    first = await apikeys.add(store, "limited-1", (apikeys.READ_LEADS,))
    second = await apikeys.add(store, "limited-2", (apikeys.READ_LEADS,))
    limited = {**own_env, "LEADCAP_API_RATE_LIMIT": "3/minute"}
    async with servers.in_process(limited) as url, httpx.AsyncClient(base_url=url) as http:
        remaining = []
        for _ in range(3):
            answer = await http.get(PATH, headers=bearer(first))
            assert answer.status_code == 200
            assert answer.headers["ratelimit-limit"] == "3"
            remaining.append(answer.headers["ratelimit-remaining"])
        assert remaining == ["2", "1", "0"]
        refused = await http.get(PATH, headers=bearer(first))
        assert_error(refused, 429, "rate_limited")
        assert refused.headers["ratelimit-remaining"] == "0"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert 0 < int(refused.headers["ratelimit-reset"]) <= 60
        assert (await http.get(PATH, headers=bearer(second))).status_code == 200  # per key


async def test_a_keys_limit_holds_across_web_processes(own_env: dict[str, str], store: Postgres) -> None:
    """The window lives in Redis, so two web processes share it (a process that fell back to its own
    count would let a key make its limit again on every process)."""
    shared = await apikeys.add(store, "shared-limit", (apikeys.READ_LEADS,))
    limited = {**own_env, "LEADCAP_API_RATE_LIMIT": "3/minute"}
    async with (
        servers.in_process(limited) as one,
        servers.in_process(limited) as two,
        httpx.AsyncClient(base_url=one) as first,
        httpx.AsyncClient(base_url=two) as second,
    ):
        assert (await first.get(PATH, headers=bearer(shared))).status_code == 200
        assert (await first.get(PATH, headers=bearer(shared))).status_code == 200
        third = await second.get(PATH, headers=bearer(shared))
        assert third.status_code == 200 and third.headers["ratelimit-remaining"] == "0"
        assert_error(await second.get(PATH, headers=bearer(shared)), 429, "rate_limited")


async def test_every_use_is_counted_and_listed(
    api: httpx.AsyncClient, store: Postgres, own_env: dict[str, str]
) -> None:
    counted = await apikeys.add(store, "counted", (apikeys.READ_LEADS,))
    for _ in range(7):
        assert (await api.get(PATH, headers=bearer(counted))).status_code == 200
    assert (await api.get(PATH + "?limit=0", headers=bearer(counted))).status_code == 400  # a use too

    async def flushed() -> dict[str, Any] | None:
        rows = {r["name"]: r for r in await apikeys.listing(store)}
        return rows["counted"] if rows["counted"]["uses"] == 8 else None

    assert await wait_for(flushed, 10), "8 uses never reached api_keys"
    listed = servers.leadcap("api-keys", "list", "--json", env=own_env)
    assert listed.returncode == 0, listed.stderr
    assert counted not in listed.stdout  # the key never prints again
    row = next(r for r in json.loads(listed.stdout) if r["name"] == "counted")
    assert row["uses"] == 8 and row["state"] == "live" and row["last_used_at"]
    assert row["last_used_at"].endswith("+03:30")  # in LEADCAP_TIMEZONE


def test_the_command_line_adds_lists_and_revokes(own_env: dict[str, str]) -> None:
    added = servers.leadcap("api-keys", "add", "crm-sync", env=own_env)
    assert added.returncode == 0, added.stderr
    printed = [line for line in added.stdout.splitlines() if line.startswith("leadcap_")]
    assert len(printed) == 1 and len(printed[0]) == len("leadcap_") + 43
    again = servers.leadcap("api-keys", "add", "crm-sync", env=own_env)
    assert again.returncode == 2 and "revoke it first" in again.stderr
    for bad in (("api-keys", "add", "no spaces"), ("api-keys", "add", "x", "--scope", "leads:write")):
        refused = servers.leadcap(*bad, env=own_env)
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    table = servers.leadcap("api-keys", "list", env=own_env)
    assert table.returncode == 0 and "crm-sync" in table.stdout and printed[0] not in table.stdout
    assert servers.leadcap("api-keys", "revoke", "crm-sync", env=own_env).returncode == 0
    assert servers.leadcap("api-keys", "revoke", "crm-sync", env=own_env).returncode == 2
    # the name is free again once its key is revoked
    assert servers.leadcap("api-keys", "add", "crm-sync", env=own_env).returncode == 0


# -- the query string ------------------------------------------------------------------------------


def forged(packed: bytes) -> str:
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


HOSTILE: list[tuple[str, int, str]] = [
    ("since=yesterdayish", 400, "invalid_query"),
    ("since=2026-13-45", 400, "invalid_query"),
    ("since=0001-01-01", 400, "invalid_query"),  # before year 1 in UTC
    ("until=9999-12-31", 400, "invalid_query"),  # its end of day is past year 9999
    ("since=2026-01-01T00:00:00%2B99:00", 400, "invalid_query"),
    ("since=%00", 400, "invalid_query"),
    ("until=" + "9" * 5000, 400, "invalid_query"),
    ("status=won", 400, "invalid_query"),
    ("status=new%00", 400, "invalid_query"),
    ("campaign=Fall!", 400, "invalid_query"),
    ("campaign=fall", 422, "unknown_campaign"),
    ("limit=0", 400, "invalid_query"),
    ("limit=-1", 400, "invalid_query"),
    ("limit=1001", 400, "invalid_query"),
    ("limit=1e3", 400, "invalid_query"),
    ("limit=" + "9" * 40, 400, "invalid_query"),
    ("limit=%D9%A1%D9%A0", 400, "invalid_query"),  # ١٠: digits, but not ASCII ones
    ("cursor=garbage", 400, "invalid_query"),
    ("cursor=", 400, "invalid_query"),
    ("cursor=" + forged(b"\x01" + b"\x00" * 23), 400, "invalid_query"),  # one byte short
    ("cursor=" + forged(b"\x02" + b"\x00" * 24), 400, "invalid_query"),  # another version
    ("cursor=" + forged(b"\x01" + b"\xff" * 24), 400, "invalid_query"),  # past xid8
    ("cursor=" + encode_cursor(2**62, uuid.uuid4()), 400, "invalid_query"),  # not yet committed
    ("sinse=2026-01-01", 400, "invalid_query"),
    ("%E2%80%AEevil%3Cb%3E=1", 400, "invalid_query"),
    ("since=", 400, "invalid_query"),
    ("status=new&status=contacted", 400, "invalid_query"),
]


@pytest.mark.parametrize(("query", "status", "code"), HOSTILE)
async def test_hostile_query_strings_get_the_contract_s_errors(
    api: httpx.AsyncClient, key: str, query: str, status: int, code: str
) -> None:
    assert_error(await api.get(f"{PATH}?{query}", headers=bearer(key)), status, code)


async def test_an_unknown_parameter_s_name_is_shown_defused(api: httpx.AsyncClient, key: str) -> None:
    answer = await api.get(f"{PATH}?%E2%80%AEevil%3Cb%3E=1", headers={**bearer(key), "accept-language": "en"})
    message = answer.json()["error"]["message"]
    assert "evil" in message and "<" not in message and "\u202e" not in message


async def test_the_export_s_columns_and_filters(api: httpx.AsyncClient, store: Postgres, key: str) -> None:
    """Each filter selects what `export-leads` selects with the same values, row for row."""
    batch = submissions(30, source="=cmd", utm={"campaign": "fall"})
    await record(store, batch)
    ids = [str(s.id) for s in batch]
    async with store.pool_for_tests().acquire() as conn:
        await conn.execute("UPDATE leads SET status = 'contacted' WHERE id = ANY($1::uuid[])", ids[:10])
    tz = ZoneInfo(TZ)
    cases = [
        {},
        {"status": "contacted"},
        {"since": "today", "until": "today"},
        {"since": "yesterday", "until": "yesterday"},
        {"since": "2020-01-01T00:00:00Z", "status": "new"},
    ]
    for given in cases:
        where = export.filters(given.get("since"), given.get("until"), given.get("status"), tz=tz)
        expected = {r["id"]: r async for r in export.stream(store, where, tz=tz)}
        seen = await read_all(api, key, given)
        assert {r["id"]: r for r in seen} == expected, given
        assert all(tuple(r) == export.COLUMNS for r in seen)
    mine = {r["id"]: r for r in await read_all(api, key, {})}
    assert mine[ids[0]]["source"] == "'=cmd"  # formula-safe, as the export writes it
    assert mine[ids[0]]["first_submitted_at"].endswith("+03:30")


async def test_campaign_filters_by_any_added_slug(api: httpx.AsyncClient, store: Postgres, key: str) -> None:
    """One number in two campaigns is two leads; `campaign=` picks each campaign's own, an
    archived campaign's leads stay readable, and a slug never added stays 422."""
    await store.campaigns.add("spring", {"title": "Spring"}, None)
    phone = factories.e164(factories.mobile())
    default, spring = (
        Submission(id=uuid7(), phone=phone, region="IR", campaign=c) for c in ("default", "spring")
    )
    await record(store, [default, spring])
    by_spring = await read_all(api, key, {"campaign": "spring"})
    assert [(r["id"], r["campaign"]) for r in by_spring] == [(str(spring.id), "spring")]
    by_default = {r["id"] for r in await read_all(api, key, {"campaign": "default"})}
    assert str(default.id) in by_default and str(spring.id) not in by_default
    await store.campaigns.archive("spring")
    assert [r["id"] for r in await read_all(api, key, {"campaign": "spring"})] == [str(spring.id)]
    assert_error(
        await api.get(PATH, params={"campaign": "autumn"}, headers=bearer(key)), 422, "unknown_campaign"
    )


async def read_all(
    api: httpx.AsyncClient, key: str, params: dict[str, str], *, limit: int = 500
) -> list[dict[str, Any]]:
    """Every lead the API shows for `params`, page by page, until it says there is no more."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        answer = await api.get(PATH, params=query, headers=bearer(key))
        assert answer.status_code == 200, answer.text
        page = answer.json()
        seen += page["leads"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return seen


# -- paging while leads arrive ---------------------------------------------------------------------


async def test_paging_while_leads_commit_out_of_id_order_skips_none(
    api: httpx.AsyncClient, store: Postgres, key: str, module_db: str
) -> None:
    """10,000 leads, then more committing all through the read: batches made in id order but
    committed in shuffled order by 8 concurrent writers, and one batch of low ids held open
    while later ids commit. The reader is held back rather than stepping past the open batch,
    and in the end has read every lead exactly once."""
    before = {r["id"] for r in await read_all(api, key, {})}
    first = submissions(10_000)
    for start in range(0, len(first), 500):
        await record(store, first[start : start + 500])

    # A batch whose ids come before the later ones (submitted an hour ago: a message a dead
    # worker left, reclaimed now), written by the worker's own statement in a transaction that
    # stays open while later batches commit. An hour back its campaign rollup rows are not the
    # later batches' ones, so they do not wait for it.
    held_batch = submissions(50, at_ms=int(time.time() * 1000) - 3_600_000)
    later = submissions(3_000)
    held = await asyncpg.connect(module_db)
    transaction = held.transaction()
    await transaction.start()
    await write_submissions(held, held_batch)
    batches = [later[i : i + 60] for i in range(0, len(later), 60)]
    random.Random(29).shuffle(batches)
    for batch in batches[:5]:  # committed now, with ids after the held ones: out of id order
        await record(store, batch)
    committed_early = {str(s.id) for b in batches[:5] for s in b}
    queue: asyncio.Queue[list[Submission]] = asyncio.Queue()
    for batch in batches[5:]:
        queue.put_nowait(batch)

    async def writer() -> None:
        while not queue.empty():
            await record(store, queue.get_nowait())
            await asyncio.sleep(0)  # let the reader interleave

    writers = [asyncio.create_task(writer()) for _ in range(8)]
    seen: list[str] = []
    cursor: str | None = None
    released = False
    read_before_release: set[str] = set()
    while True:
        query = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        answer = await api.get(PATH, params=query, headers=bearer(key))
        assert answer.status_code == 200, answer.text
        page = answer.json()
        seen += [r["id"] for r in page["leads"]]
        cursor = page["next_cursor"]
        if page["has_more"]:
            continue
        if not released:
            # Everything before the open batch is read; nothing after it is shown yet, though
            # some of it committed: an id-ordered reader would have stepped past the open batch.
            read_before_release = set(seen)
            count = "SELECT count(*) FROM leads WHERE id = ANY($1::uuid[])"
            assert await store.pool_for_tests().fetchval(count, list(committed_early)) == 300
            await transaction.commit()
            await held.close()
            released = True
            continue
        if all(w.done() for w in writers):
            break
        await asyncio.wait(writers, timeout=0.05)  # wait for a writer rather than spin
    await asyncio.gather(*writers)
    # one more page after everything committed: nothing new and nothing lost
    last = (await api.get(PATH, params={"cursor": cursor}, headers=bearer(key))).json()
    seen += [r["id"] for r in last["leads"]]
    assert len(seen) == len(set(seen)), "a lead came twice"
    everything = {str(s.id) for s in (*first, *held_batch, *later)}
    assert not everything - set(seen), f"{len(everything - set(seen))} leads were skipped"
    assert set(seen) == everything | before
    # and the reader waited at the open batch: everything before it, nothing after it
    assert {str(s.id) for s in first} <= read_before_release
    assert not ({str(s.id) for s in held_batch} | committed_early) & read_before_release


def test_the_api_limit_is_a_setting_of_its_own() -> None:
    assert settings_module.parse({"API_RATE_LIMIT": "5/second"}).api_rate_limit.limit == 5
    with pytest.raises(ConfigError) as refused:
        settings_module.parse({"API_RATE_LIMIT": "ten/minute"})
    assert refused.value.variable == "LEADCAP_API_RATE_LIMIT"  # not the intake's LEADCAP_RATE_LIMIT


# -- the documented nightly sync -------------------------------------------------------------------


def documented_sync() -> str:
    """The Python block of docs/read-api.md, as a reader would copy it."""
    text = (servers.ROOT / "docs" / "read-api.md").read_text()
    start = text.index("```python\n") + len("```python\n")
    return text[start : text.index("```", start)]


async def test_the_documented_nightly_sync_reads_each_lead_once(
    api: httpx.AsyncClient, store: Postgres, key: str, tmp_path: Path
) -> None:
    script = tmp_path / "nightly_sync.py"
    script.write_text(documented_sync())
    output = tmp_path / "leads.jsonl"
    env = {
        **os.environ,
        "LEADCAP_URL": str(api.base_url).rstrip("/"),
        "LEADCAP_API_KEY": key,
        "SYNC_STATE": str(tmp_path / "cursor.txt"),
        "SYNC_OUTPUT": str(output),
    }

    async def sync() -> None:
        run = await asyncio.create_subprocess_exec(
            sys.executable, str(script), env=env, stderr=asyncio.subprocess.PIPE
        )
        _, err = await run.communicate()
        assert run.returncode == 0, err.decode()

    await record(store, submissions(1_200))
    await sync()
    first_night = [json.loads(line)["id"] for line in output.read_text().splitlines()]
    tonight = submissions(700)
    await record(store, tonight)
    await sync()
    ids = [json.loads(line)["id"] for line in output.read_text().splitlines()]
    assert ids[: len(first_night)] == first_night
    assert ids[len(first_night) :] == [str(s.id) for s in tonight]  # only what came since, in order
    async with store.pool_for_tests().acquire() as conn:
        assert set(ids) == {str(i) for i in await conn.fetchval("SELECT array_agg(id) FROM leads")}
    assert len(ids) == len(set(ids))
