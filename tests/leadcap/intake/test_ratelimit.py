from __future__ import annotations

from leadcap.intake.ratelimit import LocalLimiter, Quota, Verdict, verdict
from leadcap.settings import RateLimit


def test_quota_from_window() -> None:
    q = Quota.from_window(limit=10, count=3, oldest_age_ms=15_000, window_s=60)
    assert (q.remaining, q.reset_s) == (7, 45)
    assert q.headers() == {"RateLimit-Limit": "10", "RateLimit-Remaining": "7", "RateLimit-Reset": "45"}


def test_reset_rounds_up_and_never_negative() -> None:
    assert Quota.from_window(limit=1, count=1, oldest_age_ms=59_001, window_s=60).reset_s == 1
    assert Quota.from_window(limit=1, count=1, oldest_age_ms=70_000, window_s=60).reset_s == 0
    assert Quota.from_window(limit=5, count=0, oldest_age_ms=None, window_s=60).reset_s == 0


def test_retry_after_is_at_least_one_second() -> None:
    assert Quota(limit=1, remaining=0, reset_s=0).retry_after == 1
    assert Quota(limit=1, remaining=0, reset_s=12).retry_after == 12


THREE_IN_10S = RateLimit(3, 10)


def test_local_limiter_is_a_true_sliding_window() -> None:
    limiter = LocalLimiter()
    for t in (0, 1000, 2000):
        assert not limiter.hit([("a", THREE_IN_10S)], t).refused
    counted = limiter.hit([("a", THREE_IN_10S)], 9_999)
    assert counted.refused == 1 and counted.quota.remaining == 0 and counted.quota.reset_s == 1
    assert counted.retry_after == 1
    assert not limiter.hit([("a", THREE_IN_10S)], 10_000).refused  # the request at t=0 has left
    assert limiter.hit([("a", THREE_IN_10S)], 10_001).refused
    assert not limiter.hit([("b", THREE_IN_10S)], 10_001).refused  # buckets are separate


def test_local_limiter_forgets_the_oldest_buckets() -> None:
    limiter = LocalLimiter(max_buckets=2)
    one = RateLimit(1, 60)
    limiter.hit([("a", one)], 0)
    limiter.hit([("b", one)], 0)
    limiter.hit([("c", one)], 0)
    assert not limiter.hit([("a", one)], 1).refused  # "a" was evicted, so it starts afresh


def test_a_request_counts_in_every_window_or_in_none() -> None:
    """A visitor's window and its address's shared one: the shared one refuses, the visitor's
    quota is the one reported, and a refused request is counted in neither."""
    limiter = LocalLimiter()
    shared = RateLimit(2, 60)
    assert not limiter.hit([("v1", THREE_IN_10S), ("ip", shared)], 0).refused
    assert not limiter.hit([("v2", THREE_IN_10S), ("ip", shared)], 1000).refused
    counted = limiter.hit([("v3", THREE_IN_10S), ("ip", shared)], 2000)
    assert counted.refused == 2
    assert counted.quota == Quota(limit=3, remaining=3, reset_s=0)  # v3's own: nothing counted
    assert counted.retry_after == 58  # until the shared window's oldest (t=0) leaves it
    assert not limiter.hit([("v3", THREE_IN_10S)], 2000).refused  # v3 alone was not charged


def test_verdict_reports_the_first_window_and_waits_for_the_refusing_one() -> None:
    limits = [RateLimit(10, 60), RateLimit(600, 60)]
    allowed = verdict(limits, count=4, age_ms=30_000, refused=0, refused_age_ms=None)
    assert allowed == Verdict(Quota(limit=10, remaining=6, reset_s=30))
    refused = verdict(limits, count=4, age_ms=30_000, refused=2, refused_age_ms=59_500)
    assert (refused.refused, refused.retry_after, refused.quota.limit) == (2, 1, 10)
