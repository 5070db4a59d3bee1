"""How sure a team can be that one variant of a campaign converts better than another.

Each variant's conversion gets the Wilson score interval at 95 %: unlike the normal
approximation it stays inside [0, 1] and is honest at 0 or few conversions. A variant is said to
convert better only when its interval lies wholly above every other variant's; while any two
overlap the difference may be chance ("no clear difference yet"). Non-overlap is a strict test
(two intervals can overlap a little while a test of the difference would already call it): it
errs on the side of telling a team to wait.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z_95 = 1.96


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a conversion rate (95% for z=1.96); (0, 1) with no trials."""
    if trials <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return (max(0.0, centre - half), min(1.0, centre + half))


def better(intervals: Sequence[tuple[str, tuple[float, float]]]) -> str | None:
    """The name whose interval lies wholly above every other's; None while the top one overlaps
    another (no clear difference yet), or with fewer than two to compare."""
    if len(intervals) < 2:
        return None
    name, (low, _) = max(intervals, key=lambda named: named[1][0])
    others = [high for other, (_, high) in intervals if other != name]
    return name if all(low > high for high in others) else None
