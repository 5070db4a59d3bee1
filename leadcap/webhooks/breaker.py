"""Per-endpoint isolation: a concurrency cap and a circuit breaker, so that one slow or dead
endpoint holds only its own slots and never delays another endpoint's deliveries."""

from __future__ import annotations

from dataclasses import dataclass

FAILURES_TO_OPEN = 5  # consecutive failed attempts that open the breaker
MAX_COOLDOWN_S = 30.0


@dataclass
class Breaker:
    """Closed: up to `cap` sends in flight. Open: none until the cooldown ends. Then half-open:
    one probe; its success closes the breaker, its failure opens it again."""

    cap: int
    cooldown_s: float = MAX_COOLDOWN_S
    in_flight: int = 0
    failures: int = 0
    open_until: float = 0.0
    peak: int = 0  # the most sends it ever had in flight at once

    @property
    def tripped(self) -> bool:
        """Open or half-open: too many failures in a row."""
        return self.failures >= FAILURES_TO_OPEN

    def is_open(self, now: float) -> bool:
        """No send may start (the cooldown after repeated failures is running)."""
        return self.failures >= FAILURES_TO_OPEN and now < self.open_until

    def room(self, now: float) -> int:
        """How many more sends may start now."""
        if self.failures >= FAILURES_TO_OPEN:
            if now < self.open_until:
                return 0
            return max(0, 1 - self.in_flight)  # half-open: a single probe
        return max(0, self.cap - self.in_flight)

    def started(self) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    def finished(self, ok: bool, now: float) -> None:
        self.in_flight -= 1
        if ok:
            self.failures = 0
            return
        self.failures += 1
        if self.failures >= FAILURES_TO_OPEN:
            self.open_until = now + self.cooldown_s
