"""The least-privilege PostgreSQL roles, made by deploy/postgres/10-leadcap-roles.sh (the postgres
image's init script) on a real server: the app role (web, worker) reads and writes leadcap's tables
and can do nothing else; the owner role (the migrate service) owns the schema."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.deploy import helpers
from tests.deploy.conftest import Stack


@pytest.fixture
async def app(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.roles.app_url)
    yield conn
    await conn.close()


async def refused(conn: asyncpg.Connection, sql: str) -> bool:
    """True when PostgreSQL refuses `sql` for lack of a privilege (rolled back either way)."""
    try:
        async with conn.transaction():
            await conn.execute(sql)
    except asyncpg.InsufficientPrivilegeError:
        return True
    return False


async def test_the_app_role_is_no_superuser_and_owns_nothing(app: asyncpg.Connection, stack: Stack) -> None:
    role = await app.fetchrow(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert role is not None and not any(role.values())
    owners = await app.fetch("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert [r["tableowner"] for r in owners] == [stack.roles.owner]


async def test_the_app_role_reads_and_writes_the_tables(app: asyncpg.Connection) -> None:
    async with app.transaction():
        await app.execute(
            "INSERT INTO leads (id, phone, region, first_submitted_at, last_submitted_at)"
            " VALUES (gen_random_uuid(), '+989120000999', 'IR', now(), now())"
        )
        phone = "'+989120000999'"
        assert await app.execute(f"UPDATE leads SET status = 'contacted' WHERE phone = {phone}") == "UPDATE 1"
        assert await app.execute(f"DELETE FROM leads WHERE phone = {phone}") == "DELETE 1"
        await app.fetchval("SELECT count(*) FROM submissions")


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE stolen (x int)",
        "CREATE TEMP TABLE scratch (x int)",
        "DROP TABLE leads",
        "ALTER TABLE leads ADD COLUMN x int",
        "TRUNCATE leads",
        "CREATE INDEX leads_x ON leads (region)",
        "INSERT INTO schema_migrations (name) VALUES ('9999_fake')",
        "DELETE FROM schema_migrations",
        "SELECT * FROM schema_migrations",
        "CREATE ROLE intruder",
        "CREATE SCHEMA intruder",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    ],
)
async def test_the_app_role_cannot_change_the_schema(app: asyncpg.Connection, sql: str) -> None:
    assert await refused(app, sql)


async def test_tables_a_later_migration_creates_are_usable_by_the_app(
    stack: Stack, app: asyncpg.Connection
) -> None:
    """The owner's default privileges: no GRANT in the migration, no setting naming the role."""
    owner = await asyncpg.connect(stack.roles.owner_url)
    try:
        await owner.execute("CREATE TABLE later (id bigserial PRIMARY KEY, note text)")
        await app.execute("INSERT INTO later (note) VALUES ('ok')")  # the sequence too
        assert await app.fetchval("SELECT note FROM later") == "ok"
        assert await refused(app, "DROP TABLE later")
    finally:
        await owner.execute("DROP TABLE IF EXISTS later")
        await owner.close()


def test_the_init_script_makes_schema_migrations_as_leadcap_migrate_does() -> None:
    """The script creates the table before the app's default grants: the two must agree."""
    text = (helpers.ROOT / "leadcap" / "stores" / "postgres" / "migrate.py").read_text()
    found = re.search(r'"(CREATE TABLE IF NOT EXISTS schema_migrations \()"\s*"([^"]*)"', text)
    assert found, "migrate.py no longer creates schema_migrations as this test reads it"
    assert found.group(1) + found.group(2) + ";" in helpers.POSTGRES_INIT.read_text()
