"""Retry rules, as plain functions: exponential backoff with full jitter, for a retry window.

Attempt n (1-based) failed → the next one waits a random time between 0 and
min(cap, 2^(n-1) s): ceilings 1, 2, 4, … 2048 s, then the cap (LEADCAP_WEBHOOK_BACKOFF_CAP_SECONDS,
default 3600). A failure after the retry window (LEADCAP_WEBHOOK_RETRY_WINDOW_SECONDS, default
86400: 24 hours, counted from the first attempt or the latest replay) marks the delivery failed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from leadcap import retry

BASE_S = 1.0
TIMEOUT_S = 10.0  # a 2xx must arrive within this (the spec's 10 s)
LEASE_S = TIMEOUT_S + 20.0  # a claimed row is due again after this, if its worker died


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str  # "delivered", "pending" (retry after delay_s) or "failed"
    delay_s: float = 0.0
    disable_endpoint: bool = False


def ceiling(attempt: int, cap_s: float) -> float:
    """The longest wait after failed attempt `attempt`."""
    return retry.ceiling(attempt, base=BASE_S, cap=cap_s)


def delay(attempt: int, cap_s: float, rng: random.Random | None = None) -> float:
    """Full jitter: uniform between 0 and the ceiling, so retries of many events spread out."""
    return retry.delay(attempt, base=BASE_S, cap=cap_s, draw=(rng or random).random)


def verdict(
    status: int | None,
    *,
    attempt: int,
    age_s: float,
    window_s: float,
    cap_s: float,
    retry_after_s: float | None = None,
    disable: bool = False,
) -> Verdict:
    """What happens to a delivery after attempt `attempt` answered `status` (None: no answer),
    `age_s` seconds into its retry window. `retry_after_s`: the receiver said when to come back
    (a bot API's 429), which is honoured, never shortened. `disable`: the receiver refuses for
    good (a bot blocked or removed from its chat)."""
    if status is not None and 200 <= status < 300:
        return Verdict("delivered")
    if status == 410 or disable:  # Gone: the receiver asks us to stop; the endpoint is disabled
        return Verdict("failed", disable_endpoint=True)
    if age_s >= window_s:
        return Verdict("failed")
    if retry_after_s is not None:
        return Verdict("pending", retry_after_s + delay(attempt, 1.0))  # plus up to a second of jitter
    return Verdict("pending", delay(attempt, cap_s))
