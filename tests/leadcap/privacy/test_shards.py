"""Erasure and retention with a sharded intake: a number's dedupe key and queue entry live on its
own Redis server (two of the suite's embedded Valkeys, LEADCAP_REDIS_URL listing both)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from leadcap import keys
from leadcap.ids import uuid7
from leadcap.intake import shard
from leadcap.privacy import erasure, retention
from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from tests.factories import e164, mobile


@pytest.fixture
async def two(shard_urls: list[str]) -> AsyncIterator[list[Redis]]:
    stores = [Redis.open(url) for url in shard_urls]
    for store in stores:
        await store.client_for_tests().flushall()
    yield stores
    for store in stores:
        await store.client_for_tests().flushall()
        await store.close()


def phone_on(index: int) -> str:
    return next(p for p in (e164(mobile()) for _ in range(1000)) if shard.of(p, 2) == index)


async def test_erase_removes_the_dedupe_key_on_the_numbers_shard(
    postgres: Postgres, mongo: Mongo, two: list[Redis]
) -> None:
    phone = phone_on(1)
    accepted = str(uuid7())  # queued on shard 1, not yet written
    await two[1].client_for_tests().set(keys.dedupe(phone), accepted)
    erased = await erasure.erase_number(postgres, two[0], mongo, phone, by="t", shards=two)
    assert not await two[1].client_for_tests().exists(keys.dedupe(phone))
    assert erased.redis_keys == 1


async def test_marks_wait_for_what_any_shard_still_holds(postgres: Postgres, two: list[Redis]) -> None:
    pool = postgres.pool_for_tests()
    long_ago, just_now = datetime.now(UTC) - timedelta(days=2), datetime.now(UTC)
    await postgres.privacy.mark(["+989120000001", "+989120000002"], [long_ago, just_now])
    stream = two[1].client_for_tests()
    old_entry = f"{int(long_ago.timestamp() * 1000) - 3_600_000 * 2}-0"
    await stream.xadd(keys.LEAD_STREAM, {"data": "x"}, id=old_entry)  # accepted before both, on shard 1
    assert await retention.prune_marks(postgres, two[0], shards=two) == 0
    await stream.delete(keys.LEAD_STREAM)
    assert await retention.prune_marks(postgres, two[0], shards=two) == 1
    assert await pool.fetchval("SELECT count(*) FROM lead_erasures") == 1
