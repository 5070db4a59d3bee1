"""The campaign's figures per day, hour, source, campaign or variant, from the rollups only.

visits        unique visitors: Redis HyperLogLogs per day/hour (leadcap/campaign/visits.py)
submissions   submissions recorded in PostgreSQL    ┐
new leads     of them, the ones that made a lead    │ campaign_rollups (kept by a trigger in
  with visit  of those, sent from a counted view    ├ the worker's batch transaction)
  without     the others (API clients), apart       │
verified      leads that became verified            ┘
duplicates,   what the intake answered               intake_counts (leadcap/campaign/outcomes.py)
rejected (by error.code), rate-limited (by the window that refused: a visitor's own, its
address's shared ceiling, or a cookie-less client's address; leadcap/intake/visitor.py)
conversion    new leads with a visit / visits (api.md, Campaign view), at most 100 %

A lead came with a visit when its POST carried the mark a counted GET / sets (until that hour
ends; visits.COUNTED_COOKIE). A lead without one (an API client's, or a page older than the
hour) is counted apart and never in conversion, so leads that had no visit cannot push it past
100 %. It can still pass it by estimate (a HyperLogLog counts within about 1 %), or where one
visitor leaves several numbers; it is shown capped at 100 %, the counts beside it unchanged.

Per variant of one campaign (`--by variant`): visits are the unique visitors shown that variant
(VariantVisits' HyperLogLogs per slug, variant and day), new leads the ones whose first
submission was shown it (the rollups' `variant` dimension, migration 0016), and conversion gets
its Wilson 95 % interval (leadcap/campaign/intervals.py), so a team can tell a real difference
from chance.

Nothing here scans `submissions` or `leads`: a report over a month reads a few thousand rollup
rows however many leads there are. Visitors and the intake's answers have no source or
campaign (a visitor has not chosen one yet, and a refused body may have none), so rows by
source or campaign carry them as None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from leadcap import keys, slugs
from leadcap.campaign import intervals
from leadcap.errors import ConfigError, StoreError
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis

Grouping = Literal["day", "hour", "source", "campaign", "utm_campaign", "variant"]
GROUPINGS: tuple[str, ...] = get_args(Grouping)
# The rollup dimension each key grouping reads (migrations 0005, 0013): `campaign` is the
# campaign's slug (dimension `slug`); `utm_campaign` the UTM value (dimension `campaign`, its name
# from before campaigns existed).
DIMENSIONS = {"source": "source", "campaign": "slug", "utm_campaign": "campaign"}
DEFAULT_DAYS = 7
MAX_PERIODS = 24 * 92  # --by hour over three months at most: a table, not a dump
# The windows a POST can be refused by (intake_counts' code of a rate_limited answer): a visitor's
# own, the shared ceiling of a visitor's address, and a cookie-less client's address (before
# visitors existed every refusal was the address's, written with no code).
LIMITED_BY = ("visitor", "shared", "address")


@dataclass(slots=True)
class Row:
    label: str
    visits: int | None = None
    submissions: int = 0
    new_leads: int = 0
    new_leads_with_visit: int = 0
    verified: int = 0
    duplicates: int | None = None
    rate_limited: int | None = None
    honeypot: int | None = None
    rejected: dict[str, int] | None = None
    rate_limited_by: dict[str, int] | None = None  # visitor, shared, address: see LIMITED_BY

    @property
    def rejected_total(self) -> int | None:
        return None if self.rejected is None else sum(self.rejected.values())

    @property
    def new_leads_without_visit(self) -> int:
        """New leads that came with no counted visit (API clients): counted apart."""
        return self.new_leads - self.new_leads_with_visit

    @property
    def conversion(self) -> float | None:
        """New leads that came with a counted visit per unique visitor, at most 1 (see the
        module's docstring); None without visitors."""
        return min(self.new_leads_with_visit / self.visits, 1.0) if self.visits else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The Wilson 95 % interval of `conversion` (its leads capped at its visitors, as
        `conversion` is); None without visitors."""
        if not self.visits:
            return None
        return intervals.wilson(min(self.new_leads_with_visit, self.visits), self.visits)

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "visits": self.visits,
            "submissions": self.submissions,
            "new_leads": self.new_leads,
            "new_leads_with_visit": self.new_leads_with_visit,
            "new_leads_without_visit": self.new_leads_without_visit,
            "duplicates": self.duplicates,
            "rejected": self.rejected_total,
            "rejected_by_code": self.rejected,
            "rate_limited": self.rate_limited,
            "rate_limited_by": self.rate_limited_by,
            "honeypot": self.honeypot,
            "verified": self.verified,
            "conversion": None if self.conversion is None else round(self.conversion, 4),
            "conversion_low": None if self.interval is None else round(self.interval[0], 4),
            "conversion_high": None if self.interval is None else round(self.interval[1], 4),
        }


@dataclass(slots=True)
class Report:
    by: str
    since: datetime
    until: datetime
    timezone: str
    rows: list[Row]
    total: Row = field(default_factory=lambda: Row("total"))

    @property
    def better(self) -> str | None:
        """By variant: the variant whose conversion interval lies wholly above every other's;
        None while they overlap (no clear difference yet, or a variant without visitors)."""
        return intervals.better([(r.label, r.interval or (0.0, 1.0)) for r in self.rows])

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "by": self.by,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timezone": self.timezone,
            "rows": [r.as_dict() for r in self.rows],
            "total": self.total.as_dict(),
        }
        if self.by == "variant":
            found["better"] = self.better
        return found


def parse_when(text: str, option: str, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """`today`, `yesterday`, a date or an ISO time, in `tz` when it names no offset. A day given
    as the end of a range includes that whole day."""
    today = datetime.now(tz).date()
    named = {"today": today, "yesterday": today - timedelta(days=1)}
    try:
        if text in named or len(text) == 10:
            day = named.get(text) or date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1 if end_of_day else 0), time(), tz)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):  # OverflowError: the day after 9999-12-31
        raise ConfigError(
            option, f"must be today, yesterday, a date (2026-11-28) or an ISO time, got {text!r}"
        ) from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def window(since: str | None, until: str | None, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The report's [since, until): by default the last seven days, today included."""
    end = parse_when(until or "today", "--until", tz, end_of_day=True)
    start = (
        parse_when(since, "--since", tz)
        if since
        else datetime.combine(end.astimezone(tz).date() - timedelta(days=DEFAULT_DAYS), time(), tz)
    )
    if start >= end:
        raise ConfigError("--since", "must be before --until")
    return start, end


def periods(start: datetime, end: datetime, by: str, tz: ZoneInfo) -> list[datetime]:
    """Every local day or hour that [start, end) touches, as naive local times (PostgreSQL's
    date_trunc of `bucket AT TIME ZONE tz` gives the same)."""
    local = start.astimezone(tz).replace(tzinfo=None)
    step = timedelta(days=1) if by == "day" else timedelta(hours=1)
    current = local.replace(hour=0 if by == "day" else local.hour, minute=0, second=0, microsecond=0)
    last = end.astimezone(tz).replace(tzinfo=None)
    out: list[datetime] = []
    while current < last:
        out.append(current)
        if len(out) > MAX_PERIODS:
            raise ConfigError("--since", f"covers more than {MAX_PERIODS} rows; choose a shorter range")
        current += step
    return out


def label(period: datetime, by: str) -> str:
    return period.strftime("%Y-%m-%d") if by == "day" else period.strftime("%Y-%m-%d %H:00")


def visit_key(period: datetime, by: str) -> str:
    if by == "day":
        return keys.visits_day(period.strftime("%Y-%m-%d"))
    return keys.visits_hour(period.strftime("%Y-%m-%dT%H"))


async def _visits(redis: Redis, names: list[str], union_of: list[str]) -> tuple[list[int], int] | None:
    """PFCOUNT of each key, and of their union (unique visitors over the whole range)."""
    try:
        return await redis.campaign.visitor_counts(names, union_of)
    except StoreError:
        return None  # Redis away: the rest of the report still stands


async def report(
    postgres: Postgres,
    redis: Redis | None,
    *,
    since: datetime,
    until: datetime,
    by: str,
    timezone: str,
    campaign: str | None = None,
) -> Report:
    """The figures of [since, until) grouped `by` day, hour, source, campaign (slug) or
    utm_campaign, of one campaign (a slug) or all.
    Reads campaign_rollups and intake_counts (PostgreSQL) and the visit HyperLogLogs (Redis).

    With `campaign`, the visits and the intake's answers (duplicates, rejected, rate-limited) show
    as None: they are counted for the site, not per campaign, and a site-wide figure beside one
    campaign's leads would read as that campaign's."""
    check_grouping(by, campaign)
    tz = ZoneInfo(timezone)
    result = Report(by, since, until, timezone, [])
    if by == "variant" and campaign is not None:
        await _by_variant(postgres, redis, result, campaign, tz)
        return result
    if by in DIMENSIONS:
        for r in await postgres.campaign.rollups_by_key(since, until, DIMENSIONS[by]):
            if campaign is not None and r["key"] != campaign:
                continue
            result.rows.append(_rollup_row(r["key"] or "—", r))
        _add_totals(result, result.rows)
        return result

    slots = periods(since, until, by, tz)
    if campaign is not None:  # the intake's answers are the site's: none beside one campaign
        rows = {p: Row(label(p, by)) for p in slots}
    else:
        rows = {
            p: Row(label(p, by), duplicates=0, rate_limited=0, honeypot=0, rejected={}, rate_limited_by={})
            for p in slots
        }
    rollups, outcomes = await postgres.campaign.rollups_by_period(since, until, by, timezone, campaign)
    for r in rollups:
        if (slot := rows.get(r["period"])) is not None:
            slot.submissions, slot.new_leads, slot.verified = r["submissions"], r["new_leads"], r["verified"]
            slot.new_leads_with_visit = r["visited_leads"]
    for r in outcomes:
        if (slot := rows.get(r["period"])) is not None:
            _add_outcome(slot, r["outcome"], r["code"], int(r["n"]))
    result.rows = list(rows.values())
    _add_totals(result, result.rows)
    if redis is not None and campaign is None:
        names = [visit_key(p, by) for p in slots]
        counted = await _visits(redis, names, names)
        if counted is not None:
            for row, n in zip(result.rows, counted[0], strict=True):
                row.visits = n
            # Unique over the range (PFCOUNT of the union): who came on two days is one visitor.
            result.total.visits = counted[1]
    return result


def _rollup_row(label: str, r: dict[str, Any]) -> Row:
    row = Row(label, submissions=r["submissions"], new_leads=r["new_leads"])
    row.new_leads_with_visit, row.verified = r["visited_leads"], r["verified"]
    return row


async def _by_variant(
    postgres: Postgres, redis: Redis | None, result: Report, slug: str, tz: ZoneInfo
) -> None:
    """One row per variant of campaign `slug` that had visitors or submissions in the range:
    the rollups' counts, and the unique visitors shown it over the range's days (PFCOUNT of
    their union). A variant no lead came from yet is known by the names VariantVisits keeps."""
    rows = {
        r["key"]: _rollup_row(r["key"], r)
        for r in await postgres.campaign.rollups_by_variant(result.since, result.until, slug)
    }
    days = [p.strftime("%Y-%m-%d") for p in periods(result.since, result.until, "day", tz)]
    visits = await _variant_visits(redis, slug, days, rows) if redis is not None else None
    if visits is not None:
        for name, visitors in visits[0].items():
            rows.setdefault(name, Row(name)).visits = visitors
    result.rows = [rows[name] for name in sorted(rows) if rows[name].visits or rows[name].submissions]
    _add_totals(result, result.rows)
    if visits is not None:
        result.total.visits = visits[1]


async def _variant_visits(
    redis: Redis, slug: str, days: list[str], known: dict[str, Row]
) -> tuple[dict[str, int], int] | None:
    """Unique visitors per variant name over `days` (PFCOUNT of the union of its days: who came
    on two days is one visitor), and of all variants together; None while Redis is away."""
    try:
        names = sorted(set(known) | set(await redis.campaign.members(keys.variant_names(slug))))
        groups = [[keys.variant_visits_day(slug, name, day) for day in days] for name in names]
        counted = await redis.campaign.union_counts([*groups, [key for group in groups for key in group]])
    except StoreError:
        return None  # the leads still stand; visits show as None
    return dict(zip(names, counted, strict=False)), counted[-1]


def check_grouping(by: str, campaign: str | None) -> None:
    """ConfigError naming the option for a grouping the rollups cannot answer."""
    if by not in GROUPINGS:
        raise ConfigError("--by", f"must be one of {', '.join(GROUPINGS)}, got {by!r}")
    if campaign is not None and not slugs.well_formed(campaign):
        raise ConfigError("--campaign", f"must be a campaign's slug ([a-z0-9-]{{1,40}}), got {campaign!r}")
    if by == "variant" and campaign is None:
        raise ConfigError("--campaign", "is needed with --by variant: the campaign whose variants to compare")
    if campaign is not None and by in ("source", "utm_campaign"):
        # the rollups count each dimension apart (migration 0005): they are not crossed
        raise ConfigError("--campaign", f"goes with --by day, hour or campaign, not {by}")


def _add_outcome(row: Row, outcome: str, code: str, n: int) -> None:
    if outcome == "duplicate":
        row.duplicates = (row.duplicates or 0) + n
    elif outcome == "rate_limited":
        row.rate_limited = (row.rate_limited or 0) + n
        by = row.rate_limited_by if row.rate_limited_by is not None else {}
        window = code if code in LIMITED_BY else "address"
        by[window] = by.get(window, 0) + n
        row.rate_limited_by = by
    elif outcome == "honeypot":
        row.honeypot = (row.honeypot or 0) + n
    elif outcome == "rejected":
        rejected = row.rejected if row.rejected is not None else {}
        rejected[code] = rejected.get(code, 0) + n
        row.rejected = rejected


def _add_totals(result: Report, rows: list[Row]) -> None:
    total = result.total
    for row in rows:
        total.submissions += row.submissions
        total.new_leads += row.new_leads
        total.new_leads_with_visit += row.new_leads_with_visit
        total.verified += row.verified
        for name in ("duplicates", "honeypot"):
            value = getattr(row, name)
            if value is not None:
                setattr(total, name, (getattr(total, name) or 0) + value)
        for window, n in (row.rate_limited_by or {}).items():
            _add_outcome(total, "rate_limited", window, n)
        if row.rate_limited is not None and total.rate_limited is None:
            total.rate_limited, total.rate_limited_by = 0, {}
        if row.rejected is not None:
            for code, n in row.rejected.items():
                _add_outcome(total, "rejected", code, n)
            if total.rejected is None:
                total.rejected = {}
