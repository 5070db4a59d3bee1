"""The retry schedule and the circuit breaker, as plain functions."""

from __future__ import annotations

import random

from leadcap.webhooks import schedule
from leadcap.webhooks.breaker import FAILURES_TO_OPEN, Breaker
from leadcap.webhooks.delivery import QUEUE_MAX, SEND_BUDGET_S, queue_depth


def test_backoff_doubles_to_the_cap_with_full_jitter() -> None:
    assert [schedule.ceiling(n, 3600) for n in (1, 2, 3, 12, 13, 60)] == [1, 2, 4, 2048, 3600, 3600]
    rng = random.Random(1)
    waits = [schedule.delay(13, 3600, rng) for _ in range(2000)]
    assert 0 <= min(waits) < 100 and 3500 < max(waits) <= 3600  # anywhere from 0 to the ceiling


def test_verdicts() -> None:
    def v(status: int | None, age: float = 10) -> schedule.Verdict:
        return schedule.verdict(status, attempt=3, age_s=age, window_s=86400, cap_s=3600)

    assert v(200).state == v(204).state == "delivered"
    assert v(410) == schedule.Verdict("failed", disable_endpoint=True)
    for status in (None, 301, 404, 429, 500):
        assert v(status).state == "pending" and 0 <= v(status).delay_s <= 4
    assert v(500, age=86400).state == "failed"  # the 24 h window is over
    assert v(200, age=90000).state == "delivered"


def test_a_retry_after_is_waited_in_full_and_a_refusal_disables() -> None:
    def v(**more: object) -> schedule.Verdict:
        return schedule.verdict(429, attempt=1, age_s=10, window_s=86400, cap_s=3600, **more)  # type: ignore[arg-type]

    waits = [v(retry_after_s=30).delay_s for _ in range(200)]
    assert all(30 <= w <= 31 for w in waits) and len(set(waits)) > 1  # never sooner; jittered
    assert v(disable=True) == schedule.Verdict("failed", disable_endpoint=True)
    assert v(retry_after_s=30, disable=False).state == "pending"


def test_breaker_opens_after_repeated_failures_then_probes_once() -> None:
    breaker = Breaker(cap=4, cooldown_s=30)
    assert breaker.room(0) == 4
    for _ in range(FAILURES_TO_OPEN):
        breaker.started()
        breaker.finished(False, 100)
    assert breaker.is_open(110) and breaker.room(110) == 0
    assert breaker.room(131) == 1  # half-open: one probe
    breaker.started()
    assert breaker.room(131) == 0
    breaker.finished(True, 132)
    assert not breaker.tripped and breaker.room(132) == 4 and breaker.peak == 1


def test_the_queue_is_as_deep_as_an_endpoint_sends_within_a_lease() -> None:
    assert SEND_BUDGET_S + schedule.TIMEOUT_S < schedule.LEASE_S  # a queued row's send ends in its lease
    assert queue_depth(8, schedule.TIMEOUT_S) == 8  # slow (or not yet measured): its cap, as before
    assert queue_depth(8, SEND_BUDGET_S / 3) == 24  # three rounds of 8 fit in the budget
    assert queue_depth(8, 0.002) == QUEUE_MAX  # fast: claims take many rows per round trip
    assert queue_depth(1, 0.0) == QUEUE_MAX
