"""`leadcap dead-letters list|retry` against a database of its own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from leadcap.ids import uuid7
from leadcap.intake.submission import Submission
from leadcap.ops import deadletters
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests import factories, servers
from tests.servers import Stores


@pytest.fixture
async def database(stores: Stores) -> AsyncIterator[tuple[str, Postgres]]:
    url = await servers.migrated_database(stores.database)
    postgres = await Postgres.open(url)
    yield url, postgres
    await postgres.close()


def fresh(**fields: object) -> Submission:
    return Submission(id=uuid7(), phone=factories.e164(factories.mobile()), region="IR", **fields)  # type: ignore[arg-type]


def cli(stores: Stores, url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = servers.base_env(stores, tmp_path / "data", LEADCAP_DATABASE_URL=url)
    result = servers.leadcap("dead-letters", *args, env=env)
    return result.returncode, result.stdout, result.stderr


async def test_list_then_retry_one(
    database: tuple[str, Postgres], stores: Stores, redis: Redis, tmp_path: Path
) -> None:
    url, postgres = database
    # A message refused earlier for a reason since fixed (a constraint, a column, a bug).
    fixed = fresh(source="hero", utm={"campaign": "fall"})
    dead_id = await deadletters.bury(postgres, redis, fixed.to_message(), "recording submissions failed: X")

    code, out, err = cli(stores, url, tmp_path, "list", "--json")
    assert code == 0, err
    [listed] = [json.loads(line) for line in out.splitlines()]
    assert listed["id"] == dead_id and listed["submission_id"] == str(fixed.id)
    assert listed["message"] == fixed.to_message() and listed["failures"] == 1
    assert "recording submissions failed" in listed["error"]

    code, out, err = cli(stores, url, tmp_path, "list")
    assert code == 0, err
    assert fixed.phone not in out  # the table masks the number
    assert fixed.phone[-2:] in out and str(dead_id) in out

    code, out, err = cli(stores, url, tmp_path, "retry", str(dead_id))
    assert code == 0, out + err
    assert "1 landed" in out
    conn = await asyncpg.connect(url)
    try:
        lead = await conn.fetchrow("SELECT * FROM leads WHERE phone = $1", fixed.phone)
        assert lead is not None and lead["id"] == fixed.id and lead["utm_campaign"] == "fall"
        assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 0
    finally:
        await conn.close()


async def test_retry_all_keeps_what_is_refused_again(
    database: tuple[str, Postgres], stores: Stores, redis: Redis, tmp_path: Path
) -> None:
    url, postgres = database
    good = fresh()
    poison = fresh(source="a\x00b")
    await deadletters.bury(postgres, redis, good.to_message(), "refused once")
    poison_id = await deadletters.bury(postgres, redis, poison.to_message(), "refused once")

    code, out, err = cli(stores, url, tmp_path, "retry", "--all")
    assert code == 1, out + err
    assert "1 landed, 1 refused again" in out
    [left] = await deadletters.listed(postgres)
    assert left.id == poison_id and left.failures == 2 and left.error != "refused once"
    assert left.message == poison.to_message()
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM leads WHERE phone = $1", good.phone) == 1
        assert await conn.fetchval("SELECT count(*) FROM leads WHERE phone = $1", poison.phone) == 0
    finally:
        await conn.close()


async def test_retry_needs_exactly_one_target(
    database: tuple[str, Postgres], stores: Stores, tmp_path: Path
) -> None:
    url, _ = database
    assert cli(stores, url, tmp_path, "retry")[0] == 2
    assert cli(stores, url, tmp_path, "retry", "1", "--all")[0] == 2
    code, _, err = cli(stores, url, tmp_path, "retry", "424242")
    assert code == 1 and "no dead letter with id 424242" in err
    code, out, _ = cli(stores, url, tmp_path, "list", "--json")
    assert code == 0 and out == ""
