"""Dead letters: where a message PostgreSQL refuses for good goes, so it blocks nothing and hides
nothing.

The invariant: a lead message is acknowledged (and so leaves the stream) only after PostgreSQL
committed it, either as a submission (the normal path) or as a row of `dead_letters` holding the
message and the error that refused it. Nothing is dropped; nothing bounces between workers
forever.

When a message is buried:

* PostgreSQL refused it *written alone*: a batch refused for good is rewritten one message at a
  time (GroupCommit), so the good neighbours of a poison message land and only the message at
  fault comes here. A transient failure (PostgreSQL down) never buries anything: it is retried.
* The worker cannot read it (no id, a phone that is not E.164, utm not an object...): it could
  never be written, so it comes here without trying.

Burying, in this order: clear the phone's dedupe key if it still names this submission (else a
clean submission of the same phone inside the window is answered `duplicate` with the id of a
lead that is in neither `leads` nor the queue), commit the dead letter (a redelivered one only
counts another failure), count it (keys.STATS_DEAD_LETTERS, scraped as
leadcap_dead_letters_total), then the caller acks. A failure before the commit leaves the
message pending, so it is redelivered and buried again; clearing the key twice is harmless.

`retry` writes a dead letter through the worker's own statement (write_submissions) and deletes
it in the same transaction: what lands leaves the table; what is refused again stays, with the
new error and one more failure.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from leadcap import keys, slugs
from leadcap.errors import StoreError
from leadcap.intake import shard
from leadcap.intake.submission import Unreadable, read_message
from leadcap.stores import postgres as pg
from leadcap.stores import redis as rd

log = logging.getLogger(__name__)
MAX_ERROR = 1000  # characters of the refusal kept with a dead letter


def _submission_id(message: Mapping[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(message["id"]))
    except (KeyError, ValueError, TypeError):
        return None


def _clean(error: str) -> str:
    """The error as PostgreSQL text can hold it (no NUL), bounded."""
    return error.replace("\x00", "\\0")[:MAX_ERROR]


async def bury(
    postgres: pg.Postgres,
    redis: rd.Redis,
    message: Mapping[str, Any],
    error: str,
    *,
    shards: Sequence[rd.Redis] = (),
) -> int:
    """Move a refused message into dead_letters with its error; return the dead letter's id.
    The dedupe key of the phone and its campaign is cleared on its shard (one of `shards`, when the intake has
    several), the counter kept on `redis` (the first server).

    Raises StoreError when Redis or PostgreSQL fails: the message must then stay unacknowledged.
    """
    submission_id = _submission_id(message)
    phone = message.get("phone")
    campaign = message.get("campaign", slugs.DEFAULT)
    readable = isinstance(campaign, str) and slugs.well_formed(campaign)
    if submission_id is not None and isinstance(phone, str) and readable:
        owner = shards[shard.of(phone, len(shards))] if shards else redis
        await owner.intake.forget_dedupe(phone, campaign, str(submission_id))
    raw = orjson.dumps(dict(message), default=str)
    dead_id = await postgres.dead_letters.bury(submission_id, raw, _clean(error))
    log.error("submission %s moved to dead letter %d: %s", submission_id, dead_id, error)
    try:
        await redis.workers.count(keys.STATS_DEAD_LETTERS)
    except StoreError as exc:  # the dead letter is safe; only the counter misses one
        log.warning("dead letter %d not counted: %s", dead_id, exc.reason)
    return dead_id


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One row of dead_letters, with its message decoded where it is JSON."""

    id: int
    submission_id: uuid.UUID | None
    message: dict[str, Any] | None
    error: str
    failures: int
    first_failed_at: datetime
    last_failed_at: datetime

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DeadLetter:
        try:
            message = orjson.loads(record["message"])
        except orjson.JSONDecodeError:
            message = None
        return cls(
            id=record["id"],
            submission_id=record["submission_id"],
            message=message if isinstance(message, dict) else None,
            error=record["error"],
            failures=record["failures"],
            first_failed_at=record["first_failed_at"],
            last_failed_at=record["last_failed_at"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "submission_id": str(self.submission_id) if self.submission_id else None,
            "message": self.message,
            "error": self.error,
            "failures": self.failures,
            "first_failed_at": self.first_failed_at.isoformat(),
            "last_failed_at": self.last_failed_at.isoformat(),
        }


async def listed(postgres: pg.Postgres, ids: Sequence[int] | None = None) -> list[DeadLetter]:
    """Every dead letter (or those of `ids`), oldest first."""
    return [DeadLetter.from_record(r) for r in await postgres.dead_letters.listing(ids)]


@dataclass(slots=True)
class Retried:
    """What `retry` did with each dead letter it was given."""

    landed: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # still dead, with the new error
    missing: list[int] = field(default_factory=list)  # no such dead letter


async def retry(postgres: pg.Postgres, ids: Sequence[int] | None = None) -> Retried:
    """Write dead letters (all, or those of `ids`) through the normal write path.

    Each one that lands is deleted in the same transaction; each one refused again stays with
    its new error. Raises StoreError when PostgreSQL is unreachable.
    """
    letters = await listed(postgres, ids)
    result = Retried(missing=sorted(set(ids or ()) - {d.id for d in letters}))
    for letter in letters:
        try:
            item = read_message(letter.message or {})
        except Unreadable as exc:
            await _refused_again(postgres, letter.id, str(exc))
            result.refused[letter.id] = str(exc)
            continue
        try:
            await postgres.dead_letters.land(letter.id, item)
        except StoreError as exc:
            if exc.transient:
                raise
            await _refused_again(postgres, letter.id, exc.reason)
            result.refused[letter.id] = exc.reason
            continue
        result.landed.append(letter.id)
    return result


async def _refused_again(postgres: pg.Postgres, dead_id: int, error: str) -> None:
    await postgres.dead_letters.refuse_again(dead_id, _clean(error))
