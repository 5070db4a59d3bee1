"""UUIDv7 submission ids: time-ordered, and strictly increasing even inside one millisecond."""

from __future__ import annotations

import itertools
import time
import uuid

import pytest

from leadcap import ids


def test_many_ids_in_one_millisecond_strictly_increase(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = time.time_ns()
    monkeypatch.setattr(ids.time, "time_ns", lambda: frozen)  # every id below shares one ms
    made = [ids.uuid7() for _ in range(5000)]
    assert {ids.uuid7_time_ms(i) for i in made} == {frozen // 1_000_000}
    assert all(a < b for a, b in itertools.pairwise(made))
    assert {(i.version, i.variant) for i in made} == {(7, uuid.RFC_4122)}


def test_ids_made_as_fast_as_possible_strictly_increase_and_carry_their_time() -> None:
    before = time.time_ns() // 1_000_000
    made = [ids.uuid7() for _ in range(20_000)]
    after = time.time_ns() // 1_000_000
    assert all(a < b for a, b in itertools.pairwise(made))
    stamps = [ids.uuid7_time_ms(i) for i in made]
    assert before <= stamps[0] and stamps[-1] <= after
    assert len(stamps) > len(set(stamps))  # many shared a millisecond


def test_an_explicit_time_is_taken_as_given() -> None:
    assert ids.uuid7_time_ms(ids.uuid7(1_700_000_000_123)) == 1_700_000_000_123
