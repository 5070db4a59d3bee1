"""The Wilson interval of a variant's conversion, and when one variant is said to convert better."""

from __future__ import annotations

import pytest

from leadcap.campaign import intervals


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Reference values: Wilson (1927) score interval, z = 1.96 (e.g. statsmodels
        # proportion_confint(method="wilson")).
        (0, 10, 0.0, 0.27754),
        (5, 10, 0.23659, 0.76341),
        (10, 10, 0.72246, 1.0),
        (81, 263, 0.25529, 0.36621),
    ],
)
def test_wilson_interval_matches_reference_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    found = intervals.wilson(successes, trials)
    assert found == pytest.approx((low, high), abs=1e-5)


def test_wilson_with_no_trials_knows_nothing_and_refuses_nonsense() -> None:
    assert intervals.wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        intervals.wilson(3, 2)


def test_a_variant_converts_better_only_when_its_interval_is_above_every_other() -> None:
    clear = [("a", intervals.wilson(10, 1000)), ("b", intervals.wilson(60, 1000))]
    assert intervals.better(clear) == "b"
    # 5 % against 6 % on 1,000 visitors each: the intervals overlap, no call yet.
    assert intervals.better([("a", intervals.wilson(50, 1000)), ("b", intervals.wilson(60, 1000))]) is None
    # Above one, overlapping another: still no call.
    three = [*clear, ("c", intervals.wilson(55, 1000))]
    assert intervals.better(three) is None
    # Touching ends are an overlap.
    assert intervals.better([("a", (0.1, 0.2)), ("b", (0.2, 0.3))]) is None
    assert intervals.better([("a", (0.1, 0.2))]) is None and intervals.better([]) is None
