from __future__ import annotations

import pytest

from leadcap import retry


@pytest.mark.parametrize(("base", "cap"), [(0.1, 5.0), (0.2, 5.0), (1.0, 30.0)])
def test_delays_stay_within_zero_and_the_capped_doubling(base: float, cap: float) -> None:
    for attempt in range(1, 40):
        bound = min(cap, base * 2 ** (attempt - 1))
        for _ in range(50):
            assert 0.0 <= retry.delay(attempt, base=base, cap=cap) <= bound


def test_delays_are_jittered_not_in_lockstep() -> None:
    # Many workers retrying the same attempt must not all wait the same time.
    for attempt in (1, 3, 10):
        delays = {retry.delay(attempt, base=0.2, cap=5.0) for _ in range(100)}
        assert len(delays) > 50


def test_the_cap_holds_for_huge_attempts() -> None:
    assert retry.ceiling(10_000, base=0.1, cap=5.0) == 5.0
    assert retry.delay(10_000, base=0.1, cap=5.0, draw=lambda: 0.999) <= 5.0


def test_full_jitter_spans_the_whole_interval() -> None:
    assert retry.delay(4, base=0.1, cap=5.0, draw=lambda: 0.0) == 0.0
    assert retry.delay(4, base=0.1, cap=5.0, draw=lambda: 0.5) == pytest.approx(0.4)
