"""How long to wait before retrying: exponential backoff with full jitter and a cap.

Every retry loop in leadcap (group-commit writes, the worker's reconnect to the broker, the
landing cache's reconnect to Redis) takes its delay from `delay`. Plain doubling makes every
worker that saw the same outage retry in lockstep, so the store that just came back takes all
of them at the same instant; full jitter (a uniform draw from zero up to the doubled value,
as in AWS's "Exponential Backoff And Jitter") spreads them over the whole interval, and the cap
keeps a long outage from pushing the next try minutes away.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def ceiling(attempt: int, *, base: float, cap: float) -> float:
    """The longest wait before retry number `attempt` (1-based): base doubled per try, capped."""
    # Bound the exponent first: 2.0 ** 2000 overflows long before the cap could apply.
    return float(min(cap, base * 2.0 ** min(max(attempt - 1, 0), 62)))


def delay(
    attempt: int, *, base: float = 0.1, cap: float = 5.0, draw: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before retry number `attempt` (1-based): uniform in [0, ceiling].

    `draw` returns a float in [0, 1); it is a parameter only so tests can pin it.
    """
    return draw() * ceiling(attempt, base=base, cap=cap)
