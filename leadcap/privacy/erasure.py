"""Erasing numbers from every store, in an order that is safe to repeat and to interrupt.

    1. mark     PostgreSQL: an erasure mark per number (cutoff: now, or for retention the lead's
                last submission). From its commit on, no writer adds a submission of that
                number accepted up to the cutoff (a submission in flight lands as nothing).
                With --campaign the mark is that campaign's and number's (mark_name): a
                submission in flight to the number's other campaigns still lands.
    2. find     PostgreSQL: the ids of the number's submissions, to that campaign only with
                --campaign (plus, from Redis, the ones its dedupe keys name: submissions
                accepted but maybe not yet written).
    3. Redis    the dedupe keys (every campaign's, or that campaign's), the verifications of
                those submissions (a code belongs to one submission, so another campaign's codes
                stay), the number's SMS budgets (kept with --campaign: they are the number's,
                counted across all its campaigns, and erasing them would reset its SMS limit).
    4. logs     the request-log entries naming those submissions (MongoDB).
    5. rows     PostgreSQL, one transaction: every row ERASED_ROWS names, an audit row per lead
                (who erased it), and a lead.erased event per lead.

The rows go last: if Redis or MongoDB fails the erase stops with the number still findable in
PostgreSQL, so running it again finds every trace again. Run twice, the second run finds nothing
and removes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from leadcap import keys, slugs
from leadcap.errors import PhoneError, UsageError
from leadcap.ids import uuid7_time_ms
from leadcap.intake import shard
from leadcap.intake.phone import normalise
from leadcap.settings import Settings
from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis

ERASED_BY_RETENTION = "retention"  # the audit trail's `changed_by` for the daily job


@dataclass
class Erased:
    """What an erase removed, store by store."""

    leads: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    redis_keys: int = 0
    request_logs: int = 0
    lead_ids: list[uuid.UUID] = field(default_factory=list)

    def add(self, other: Erased) -> None:
        self.leads += other.leads
        for table, n in other.rows.items():
            self.rows[table] = self.rows.get(table, 0) + n
        self.redis_keys += other.redis_keys
        self.request_logs += other.request_logs
        self.lead_ids += other.lead_ids

    def lines(self) -> list[str]:
        """One line per store, for the operator."""
        tables = ", ".join(f"{n} {table}" for table, n in self.rows.items())
        return [
            f"postgres: {tables or 'nothing'}",
            f"redis: {self.redis_keys} keys and budget entries",
            f"request logs: {self.request_logs} entries",
        ]

    def summary(self) -> dict[str, object]:
        return {
            "leads": self.leads,
            "rows": dict(self.rows),
            "redis_keys": self.redis_keys,
            "request_logs": self.request_logs,
        }


def parse_phone(raw: str, settings: Settings) -> str:
    """The E.164 number of `raw`, read as the intake reads it (any spelling it accepts, from any
    region: a number captured before LEADCAP_ALLOWED_REGIONS changed can still be erased);
    raise UsageError (exit 2) for anything that is not a mobile number."""
    try:
        return normalise(raw, default_region=settings.default_region, allowed_regions=None).e164
    except PhoneError as exc:
        raise UsageError("PHONE", f"is not a mobile number leadcap could hold: {exc.message}") from None


async def check_campaign(postgres: Postgres, slug: str | None) -> str | None:
    """`--campaign`: a campaign ever added (an archived one's leads stay, so they can be erased),
    or `default`; UsageError (exit 2) for any other slug."""
    if slug is not None and not (slugs.well_formed(slug) and await postgres.campaigns.known(slug)):
        raise UsageError("--campaign", f"names no campaign: {slug[:40]!r} (see `leadcap campaigns list`)")
    return slug


def mark_name(phone: str, campaign: str | None) -> str:
    """What an erasure mark hashes: the number (every campaign), or `<slug> <number>` (one
    campaign's). The writers' SQL spells the same (record_submissions.sql, mark_verified.sql)."""
    return phone if campaign is None else f"{campaign} {phone}"


def accepted_by(submission_id: str, cutoff_ms: int) -> bool:
    """Whether a submission (its UUIDv7 id carries when the web tier accepted it) falls under an
    erasure up to `cutoff_ms`. An id that is no UUID is nobody's: it goes too."""
    try:
        return uuid7_time_ms(uuid.UUID(submission_id)) <= cutoff_ms
    except ValueError:
        return True


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def erase_number(
    postgres: Postgres,
    redis: Redis,
    mongo: Mongo,
    phone: str,
    *,
    by: str,
    campaign: str | None = None,
    shards: Sequence[Redis] = (),
) -> Erased:
    """Erase one number (E.164) now, from every store; with `campaign` only that campaign's lead
    (what the number's campaigns share, its SMS budgets, stays). `shards`: every Redis server of
    a sharded intake (the number's dedupe keys live on its own)."""
    cutoff = await postgres.privacy.now()
    await postgres.privacy.mark([mark_name(phone, campaign)], [cutoff])
    return await erase_marked(
        postgres, redis, mongo, [phone], [cutoff], by=by, campaign=campaign, shards=shards
    )


async def erase_marked(
    postgres: Postgres,
    redis: Redis,
    mongo: Mongo,
    phones: Sequence[str],
    cutoffs: Sequence[datetime],
    *,
    by: str,
    campaign: str | None = None,
    older_than: datetime | None = None,
    shards: Sequence[Redis] = (),
) -> Erased:
    """Steps 2-5 for numbers already marked up to `cutoffs` (see the module's docstring); with
    `campaign` only that campaign's leads, with `older_than` (retention) only leads whose last
    submission is still older go."""
    cutoff_of = {p: _ms(c) for p, c in zip(phones, cutoffs, strict=True)}
    traces = await postgres.privacy.traces(phones, campaign=campaign)
    submissions = {str(sid) for sid, phone in traces if accepted_by(str(sid), cutoff_of[phone])}
    # Every campaign's dedupe key of the number (the campaigns are operators' rows: few), or one.
    campaigns = [campaign] if campaign is not None else await _every_campaign(postgres)
    erased = Erased()
    erased.redis_keys, pending = await _forget_keys(
        redis, cutoff_of, submissions, campaigns=campaigns, keep_shared=campaign is not None, shards=shards
    )
    erased.request_logs = await mongo.pull(sorted(submissions | pending))
    removed = await postgres.privacy.erase(phones, by=by, campaign=campaign, older_than=older_than)
    erased.rows, erased.lead_ids, erased.leads = removed.rows, removed.lead_ids, len(removed.lead_ids)
    return erased


async def _every_campaign(postgres: Postgres) -> list[str]:
    return [slugs.DEFAULT] + [row.slug for row in await postgres.campaigns.listing()]


async def _forget_keys(
    redis: Redis,
    cutoff_of: dict[str, int],
    submissions: set[str],
    *,
    campaigns: Sequence[str],
    keep_shared: bool,
    shards: Sequence[Redis] = (),
) -> tuple[int, set[str]]:
    """Remove the numbers' Redis keys; return how many went, and the submissions their dedupe
    keys named that PostgreSQL did not know (accepted, maybe still in flight). A dedupe key lives
    on its number's shard; everything else on the first server, `redis`."""
    phones = list(cutoff_of)
    owners: dict[Redis, list[str]] = {redis: []}
    for phone in phones:
        owners.setdefault(shards[shard.of(phone, len(shards))] if shards else redis, []).append(phone)
    unchanged_on: dict[Redis, list[tuple[str, str]]] = {}
    pending: set[str] = set()
    for server, group in owners.items():
        named = [(p, keys.dedupe(p, c)) for p in group for c in campaigns]
        dedupes = [name for _, name in named]
        unchanged = unchanged_on.setdefault(server, [])
        for (phone, name), value in zip(named, await server.privacy.values(dedupes), strict=True):
            if value is not None and accepted_by(value, cutoff_of[phone]):
                unchanged.append((name, value))
                if value not in submissions:
                    pending.add(value)
    held = [
        name
        for sid in sorted(submissions | pending)
        for name in (keys.verification(sid), keys.verification_code(sid), keys.verification_wait(sid))
    ]
    budgets = [] if keep_shared else [(b, cutoff_of[p]) for p in phones for b in keys.sms_phone_budgets(p)]
    removed = await redis.privacy.remove(
        if_unchanged=unchanged_on.pop(redis),
        names=held,
        windows=[b for b, _ in budgets],
        up_to_ms=[cut for _, cut in budgets],
    )
    for server, unchanged in unchanged_on.items():  # the other shards: their dedupe keys only
        removed += await server.privacy.remove(if_unchanged=unchanged, names=[], windows=[], up_to_ms=[])
    return removed, pending
