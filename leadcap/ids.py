"""Submission ids: UUIDv7 (RFC 9562), so ids sort by the time the web tier accepted them, and no id
tells another: a lead's id is shown to whoever submits its phone number again."""

from __future__ import annotations

import os
import time
import uuid

_VERSION_AND_VARIANT = (0x7 << 76) | (0x2 << 62)
_RAND_BITS = 74  # rand_a (12 bits) and rand_b (62), read as one counter
_FRESH_BITS = 73  # a millisecond's first id leaves the counter's top bit clear: room for its steps
_STEP_BITS = 55  # each further id in that millisecond is the previous one plus 1 … 2**55
_last = 0


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A new UUIDv7: 48 bits of Unix milliseconds, then 74 random bits (around the version and
    variant bits).

    Within one process ids strictly increase even inside one millisecond, by the RFC's "monotonic
    random" method (section 6.2, method 2): the first id of a millisecond has fresh random bits,
    each later one adds a fresh random step of up to 2**55 to the previous one. Adding 1, as
    before, made a neighbour's id its owner's + 1, guessable by anyone who saw one id. A step
    never overflows in practice (2**18 ids would have to share one millisecond); if one would, the
    id moves to the next millisecond with fresh bits, which the RFC allows.
    """
    global _last  # noqa: PLW0603 - the one piece of state the RFC's method needs
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(16), "big")  # one system call for the fresh bits and the step
    counter = rand >> (128 - _FRESH_BITS)
    if now_ms is None:
        last_ms = _last >> 80
        if ms <= last_ms:  # the same millisecond, or the clock went back: continue after the last id
            step = (rand & ((1 << _STEP_BITS) - 1)) + 1
            ms, counter = last_ms, _counter(_last) + step
            if counter >> _RAND_BITS:
                ms += 1
                counter = rand >> (128 - _FRESH_BITS)
    value = (
        (ms & 0xFFFF_FFFF_FFFF) << 80
        | (counter >> 62) << 64
        | (counter & ((1 << 62) - 1))
        | _VERSION_AND_VARIANT
    )
    if now_ms is None:
        _last = value
    return uuid.UUID(int=value)


def _counter(value: int) -> int:
    """The 74 random bits of an id as one number (rand_a above rand_b)."""
    return ((value >> 64) & 0xFFF) << 62 | (value & ((1 << 62) - 1))


def uuid7_time_ms(value: uuid.UUID) -> int:
    """The millisecond timestamp a UUIDv7 was made at."""
    return value.int >> 80
