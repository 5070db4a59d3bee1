"""`leadcap leads erase`: hostile input is a usage error (exit 2, one line, no traceback), a
declined confirmation erases nothing, and an erase prints what it removed, store by store."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from typer.testing import CliRunner

from cli import main
from leadcap.ids import uuid7
from leadcap.intake.submission import Submission
from leadcap.stores.postgres import Postgres
from tests import servers
from tests.factories import e164, mobile, persian
from tests.servers import Stores

REDIS_DB = 7  # this module's own Redis database


@pytest.fixture(scope="module")
def own_env(env: dict[str, str], stores: Stores) -> dict[str, str]:
    url = asyncio.run(servers.migrated_database(stores.database))
    return {**env, "LEADCAP_DATABASE_URL": url, "LEADCAP_REDIS_URL": servers.on_db(stores.redis, REDIS_DB)}


def erase(*args: str, env: dict[str, str], stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main.app, ["leads", "erase", *args], env=env, input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def lead_count(env: dict[str, str], phone: str) -> int:
    async def go() -> int:
        conn = await asyncpg.connect(env["LEADCAP_DATABASE_URL"])
        try:
            return int(await conn.fetchval("SELECT count(*) FROM leads WHERE phone = $1", phone))
        finally:
            await conn.close()

    return asyncio.run(go())


def record(env: dict[str, str], phone: str, campaign: str = "default") -> None:
    async def go() -> None:
        postgres = await Postgres.open(env["LEADCAP_DATABASE_URL"], max_size=1)
        try:
            if not await postgres.campaigns.known(campaign):
                await postgres.campaigns.add(campaign, {"title": campaign}, None)
            await postgres.leads.record([Submission(id=uuid7(), phone=phone, region="IR", campaign=campaign)])
        finally:
            await postgres.close()

    asyncio.run(go())


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("not a number", "--yes"), "PHONE"),
        (("0912", "--yes"), "PHONE"),
        (("02112345678", "--yes"), "PHONE"),  # a landline was never a lead
        (("9" * 200, "--yes"), "PHONE"),
        ((mobile(), "--campaign", "spring", "--yes"), "--campaign"),
    ],
)
def test_hostile_input_exits_2_with_one_line(
    own_env: dict[str, str], args: tuple[str, ...], said: str
) -> None:
    code, out, err = erase(*args, env=own_env)
    assert code == 2, (out, err)
    assert "Traceback" not in out + err and said in err.replace("\n", " ")


def test_a_declined_confirmation_erases_nothing(own_env: dict[str, str]) -> None:
    national = mobile()
    record(own_env, e164(national))
    code, out, err = erase(national, env=own_env, stdin="n\n")
    assert code == 1 and "nothing erased" in err
    shown = e164(national)[:5]
    assert shown in out and e164(national) not in out + err  # asked with the number masked
    assert lead_count(own_env, e164(national)) == 1


def test_erase_prints_what_it_removed_and_runs_twice(own_env: dict[str, str]) -> None:
    national = mobile()
    record(own_env, e164(national))
    code, out, err = erase(persian(national), "--yes", env=own_env)  # any spelling the form takes
    assert code == 0, err
    assert "1 lead" in out and "1 submissions" in out and "1 leads" in out
    assert "redis:" in out and "request logs:" in out
    assert e164(national) not in out + err
    assert lead_count(own_env, e164(national)) == 0
    code, out, _ = erase(national, "--yes", "--campaign", "default", env=own_env)
    assert code == 0 and "0 leads" in out


def test_campaign_erases_that_campaigns_lead_only(own_env: dict[str, str]) -> None:
    national = mobile()
    record(own_env, e164(national))
    record(own_env, e164(national), "spring")
    code, out, err = erase(national, "--yes", "--campaign", "spring", env=own_env)
    assert code == 0, err
    assert "1 lead" in out and e164(national) not in out + err
    assert lead_count(own_env, e164(national)) == 1  # the default campaign's stays
    code, _, err = erase(national, "--yes", "--campaign", "autumn", env=own_env)
    assert code == 2 and "--campaign" in err and "Traceback" not in err
    assert lead_count(own_env, e164(national)) == 1
