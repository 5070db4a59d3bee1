"""/admin/ sign-in throttling against a real Redis: each attempt is counted before its password
is checked, in one atomic step (admin_signin.lua), so parallel attempts cannot outrun the limits."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from leadcap.campaign import admin_sessions
from leadcap.campaign.admin_sessions import MAX_CHECKING, MAX_FAILURES, MAX_NAME_FAILURES, Attempt
from leadcap.errors import RateLimited
from leadcap.stores.redis import Redis


def fresh() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


async def fail(redis: Redis, name: str, bucket: str) -> None:
    attempt = await admin_sessions.begin(redis, name, bucket)
    await admin_sessions.finish(redis, attempt, succeeded=False)


async def refused(redis: Redis, name: str, bucket: str) -> int:
    with pytest.raises(RateLimited) as caught:
        await admin_sessions.begin(redis, name, bucket)
    return caught.value.retry_after


async def test_parallel_attempts_are_counted_before_any_is_checked(redis: Redis) -> None:
    name, bucket = fresh(), "198.51.100.1"

    async def begin() -> Attempt | int:
        try:
            return await admin_sessions.begin(redis, name, bucket)
        except RateLimited as exc:
            return exc.retry_after

    started = await asyncio.gather(*[begin() for _ in range(30)])
    checked = [a for a in started if isinstance(a, Attempt)]
    assert 1 <= len(checked) <= min(MAX_CHECKING, MAX_FAILURES)
    assert all(wait > 0 for wait in started if isinstance(wait, int))
    for attempt in checked:  # all wrong
        await admin_sessions.finish(redis, attempt, succeeded=False)
    # The 30 spent this pair's budget: even the right password is not checked now.
    assert await refused(redis, name, bucket) > 60


async def test_a_name_throttled_at_one_address_signs_in_from_another(redis: Redis) -> None:
    name = fresh()
    for _ in range(MAX_FAILURES):
        await fail(redis, name, "198.51.100.2")
    assert await refused(redis, name, "198.51.100.2") > 60
    right = await admin_sessions.begin(redis, name, "198.51.100.3")
    await admin_sessions.finish(redis, right, succeeded=True)
    assert await refused(redis, name, "198.51.100.2") > 60  # the guessing address stays throttled


async def test_one_address_guessing_many_names_is_throttled(redis: Redis) -> None:
    bucket = "198.51.100.4"
    for _ in range(MAX_FAILURES):
        await fail(redis, fresh(), bucket)
    await refused(redis, fresh(), bucket)


async def test_a_much_higher_ceiling_per_name_across_addresses(redis: Redis) -> None:
    name = fresh()
    spread = MAX_NAME_FAILURES // MAX_FAILURES
    for n in range(spread):
        for _ in range(MAX_FAILURES):
            await fail(redis, name, f"203.0.113.{n}")
    await refused(redis, name, "192.0.2.200")  # a clean address, but the name's ceiling is reached
    other = await admin_sessions.begin(redis, fresh(), "192.0.2.200")  # other names are not
    await admin_sessions.finish(redis, other, succeeded=False)


async def test_a_right_password_gives_its_attempt_back(redis: Redis) -> None:
    name, bucket = fresh(), "198.51.100.5"
    for _ in range(MAX_FAILURES - 1):
        await fail(redis, name, bucket)
    for _ in range(3):  # signing in again and again costs nothing
        right = await admin_sessions.begin(redis, name, bucket)
        await admin_sessions.finish(redis, right, succeeded=True)
    # The pair's failures are cleared; the bucket keeps its own (it may be shared).
    await fail(redis, name, bucket)
    await refused(redis, name, bucket)


async def test_an_attempt_whose_process_died_stops_counting_as_checked(redis: Redis) -> None:
    name = fresh()
    for n in range(MAX_CHECKING):  # begun, never finished
        await admin_sessions.begin(redis, name, f"198.51.100.{10 + n}")
    assert await refused(redis, name, "198.51.100.20") == 1  # others' checks: try again in 1 s
    # The script as it runs CHECKING_S later (its clock is an argument): the two no longer count.
    attempt = admin_sessions._attempt(name, "198.51.100.20")
    later = time.time() + admin_sessions.CHECKING_S + 1
    counted, _ = await redis.campaign.begin_sign_in(
        (*attempt.failures, *attempt.checking),
        (
            later,
            admin_sessions.WINDOW_S,
            attempt.member,
            MAX_FAILURES,
            MAX_NAME_FAILURES,
            MAX_CHECKING,
            admin_sessions.CHECKING_S,
        ),
    )
    assert counted
