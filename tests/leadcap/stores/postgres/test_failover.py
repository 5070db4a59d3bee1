"""PostgreSQL with a standby, through one multi-host URL (`target_session_attrs=read-write`):
leadcap writes to whichever host is the primary, waits out a switch (transient errors, never a
crash) and writes to the promoted standby after it, having lost nothing written before."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from leadcap.errors import StoreError
from leadcap.intake.submission import Submission
from leadcap.stores.postgres import Postgres
from leadcap.stores.postgres.migrate import migrate
from tests import replicated, servers
from tests.leadcap.intake.test_accept import submission
from tests.replicated import PostgresPair
from tests.servers import wait_for


async def recorded(store: Postgres, submissions: list[Submission]) -> bool:
    """Whether the submissions were written now; a failure must be a transient one."""
    try:
        await store.leads.record(submissions)
    except StoreError as exc:
        assert exc.transient
        return False
    return True


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresPair]:
    with replicated.postgres_pair(tmp_path_factory.mktemp("pg-pair")) as running:
        yield running


async def test_a_standby_promoted_takes_the_writes_and_nothing_written_is_lost(pair: PostgresPair) -> None:
    database = (await servers.create_database(pair.primary.url)).rsplit("/", 1)[1]

    async def on_standby() -> bool:  # asyncpg moves past a host only if it cannot be reached at all
        try:
            await (await asyncpg.connect(pair.url(database, pair.standby_port))).close()
        except asyncpg.InvalidCatalogNameError:
            return False
        return True

    assert await wait_for(on_standby, 30)
    # The standby listed first: read-write makes leadcap skip it while it is a standby.
    url = pair.url(database, pair.standby_port, pair.primary_port, target_session_attrs="read-write")
    await migrate(url)  # migrations take the same URL
    store = await Postgres.open(url, max_size=4)
    try:
        before = [submission() for _ in range(20)]
        await store.leads.record(before)
        port = await store.pool_for_tests().fetchval("SELECT inet_server_port()")
        assert port == pair.primary_port

        stopped_at = time.monotonic()
        pair.primary.stop()  # a fast shutdown: the primary is gone, the standby still read-only
        with pytest.raises(StoreError) as gap:  # a transient StoreError, never a driver's exception
            await store.leads.record([submission()])
        assert gap.value.transient
        # Every host listed answers, none writable (here: only the standby): transient as well.
        standby_only = await Postgres.open(
            pair.url(database, pair.standby_port, target_session_attrs="read-write")
        )
        try:
            with pytest.raises(StoreError) as none_writable:
                await standby_only.leads.record([submission()])
            assert none_writable.value.transient
        finally:
            await standby_only.close()
        pair.promote()
        after = [submission() for _ in range(20)]

        assert await wait_for(lambda: recorded(store, after), 30)
        resumed_s = time.monotonic() - stopped_at
        pool = store.pool_for_tests()
        assert await pool.fetchval("SELECT inet_server_port()") == pair.standby_port
        ids = [s.id for s in before + after]
        assert await pool.fetchval("SELECT count(*) FROM submissions WHERE id = ANY($1::uuid[])", ids) == 40
        print(f"\npostgres switch: writes resumed {resumed_s:.2f}s after the primary stopped")
    finally:
        await store.close()


@pytest.fixture
def fresh_pair(tmp_path: Path) -> Iterator[PostgresPair]:
    with replicated.postgres_pair(tmp_path) as running:
        yield running


async def test_a_primary_made_read_only_in_place_is_left_for_the_promoted_standby(
    fresh_pair: PostgresPair,
) -> None:
    """The old primary keeps running but refuses writes (fenced with default_transaction_read_only):
    the pool's open connections to it are dropped at its first refusal, and the next write goes to
    the promoted standby."""
    pair = fresh_pair
    database = (await servers.create_database(pair.primary.url)).rsplit("/", 1)[1]
    url = pair.url(database, pair.primary_port, pair.standby_port, target_session_attrs="read-write")
    await migrate(url)
    store = await Postgres.open(url, max_size=2)
    try:
        before = [submission() for _ in range(10)]
        await store.leads.record(before)
        admin = await asyncpg.connect(pair.url("postgres", pair.primary_port))
        try:
            await admin.execute("ALTER SYSTEM SET default_transaction_read_only = on")
            await admin.execute("SELECT pg_reload_conf()")
        finally:
            await admin.close()
        assert await wait_for(lambda: on_standby_count(pair, database, len(before)), 30)
        pair.promote()
        after = [submission() for _ in range(10)]

        assert await wait_for(lambda: recorded(store, after), 15), (
            "leadcap kept writing to the read-only server"
        )
        pool = store.pool_for_tests()
        assert await pool.fetchval("SELECT inet_server_port()") == pair.standby_port
        ids = [s.id for s in before + after]
        assert await pool.fetchval("SELECT count(*) FROM submissions WHERE id = ANY($1::uuid[])", ids) == 20
    finally:
        await store.close()


async def on_standby_count(pair: PostgresPair, database: str, n: int) -> bool:
    """Whether the standby replayed at least `n` submissions (so promoting it loses none)."""
    try:
        conn = await asyncpg.connect(pair.url(database, pair.standby_port))
    except asyncpg.InvalidCatalogNameError:
        return False
    try:
        return bool(await conn.fetchval("SELECT count(*) FROM submissions") >= n)
    finally:
        await conn.close()
