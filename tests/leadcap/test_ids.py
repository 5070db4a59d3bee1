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


def test_neighbours_made_in_one_millisecond_cannot_be_guessed_from_one_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Knowing one id must not give its neighbour (issue 21: a stranger spent a lead's tries by
    adding 1 to his own id). Each step inside one millisecond is a fresh random amount."""
    frozen = time.time_ns()
    monkeypatch.setattr(ids.time, "time_ns", lambda: frozen)
    made = [ids.uuid7() for _ in range(2000)]
    gaps = [b.int - a.int for a, b in itertools.pairwise(made)]
    assert all(gap > 0 for gap in gaps)
    assert len(set(gaps)) == len(gaps)  # no step repeats, so none can be predicted from another
    small = sum(1 for gap in gaps if gap < 2**32)
    assert small <= len(gaps) // 100, f"{small} of {len(gaps)} neighbours are within 2**32 of each other"


def test_the_last_id_of_a_full_millisecond_moves_to_the_next_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the random room of one millisecond ran out, ids still increase (the RFC lets the time
    field move forward) and keep their version and variant."""
    frozen = time.time_ns()
    ms = frozen // 1_000_000
    monkeypatch.setattr(ids.time, "time_ns", lambda: frozen)
    first = ids.uuid7()
    top = (ms << 80) | (0x7 << 76) | (0xFFF << 64) | (0x2 << 62) | (2**62 - 1)
    monkeypatch.setattr(ids, "_last", top)  # the largest id this millisecond can hold
    after = [ids.uuid7() for _ in range(3)]
    assert first.int < top < after[0].int < after[1].int < after[2].int
    assert ids.uuid7_time_ms(after[0]) == ms + 1
    assert {(i.version, i.variant) for i in after} == {(7, uuid.RFC_4122)}
