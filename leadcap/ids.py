"""Submission ids: UUIDv7 (RFC 9562), so ids sort by the time the web tier accepted them."""

from __future__ import annotations

import os
import time
import uuid

_VERSION_AND_VARIANT = (0x7 << 76) | (0x2 << 62)
_last = 0


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A new UUIDv7: 48 bits of Unix milliseconds, 12 random bits, 2 variant bits, 62 more.

    Within one process ids strictly increase even inside one millisecond (the RFC's monotonic
    method: add one to the previous id). The random tail leaves its top bit clear, so those
    increments have 2**61 of room and never reach the variant bits.
    """
    global _last  # noqa: PLW0603 - the one piece of state the RFC's method needs
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")  # one system call for both random fields
    rand_a = (rand >> 64) & 0xFFF
    rand_b = (rand & 0xFFFF_FFFF_FFFF_FFFF) >> 3
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | rand_a << 64 | rand_b | _VERSION_AND_VARIANT
    if now_ms is None:
        value = max(value, _last + 1)
        _last = value
    return uuid.UUID(int=value)


def uuid7_time_ms(value: uuid.UUID) -> int:
    """The millisecond timestamp a UUIDv7 was made at."""
    return value.int >> 80
