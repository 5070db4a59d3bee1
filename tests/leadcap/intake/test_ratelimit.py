from __future__ import annotations

from leadcap.intake.ratelimit import LocalLimiter, Quota


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


def test_local_limiter_is_a_true_sliding_window() -> None:
    limiter = LocalLimiter(limit=3, window_s=10)
    for t in (0, 1000, 2000):
        assert limiter.hit("a", t)[0]
    allowed, quota = limiter.hit("a", 9_999)
    assert not allowed and quota.remaining == 0 and quota.reset_s == 1
    assert limiter.hit("a", 10_000)[0]  # the request at t=0 has left the window
    assert not limiter.hit("a", 10_001)[0]
    assert limiter.hit("b", 10_001)[0]  # buckets are separate


def test_local_limiter_forgets_the_oldest_buckets() -> None:
    limiter = LocalLimiter(limit=1, window_s=60, max_buckets=2)
    limiter.hit("a", 0)
    limiter.hit("b", 0)
    limiter.hit("c", 0)
    assert limiter.hit("a", 1)[0]  # "a" was evicted, so it starts afresh
