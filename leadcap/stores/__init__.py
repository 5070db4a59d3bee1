"""The only driver code: one folder or module per store (postgres/, redis/, mongo.py), each
translating its driver's errors into StoreError, and postgres/ and redis/ sliced per feature."""

from __future__ import annotations

import time
from collections.abc import Awaitable


async def round_trip_ms(call: Awaitable[object]) -> float:
    """How long `call` (a store's trivial command) took to come back, in ms: every store's ping."""
    started = time.perf_counter()
    await call
    return (time.perf_counter() - started) * 1000
