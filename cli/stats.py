"""`leadcap stats`: the campaign's figures as a Rich table with sparklines, or as JSON."""

from __future__ import annotations

import json
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from cli.runner import current, json_option, run
from leadcap.campaign import stats
from leadcap.errors import ConfigError
from leadcap.ops.services import require_url
from leadcap.settings import Settings
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis

BARS = "▁▂▃▄▅▆▇█"
# Two-line headings: the table fits an 80-column terminal with a day or hour label.
SERIES = (  # heading, sparkline name, key
    ("visits", "visits", "visits"),
    ("submis-\nsions", "submissions", "submissions"),
    ("new\nleads", "new leads", "new_leads"),
    ("dupli-\ncates", "duplicates", "duplicates"),
    ("re-\njected", "rejected", "rejected"),
    ("rate-\nlimited", "rate-limited", "rate_limited"),
    ("veri-\nfied", "verified", "verified"),
    ("conver-\nsion", "conversion", "conversion"),  # new leads with a counted visit / visits
)


# How each rate-limit window is named on the line under the table.
LIMITED_BY_WORDS = {"visitor": "per visitor", "shared": "per shared address", "address": "cookie-less"}


def sparkline(values: list[float | None]) -> str:
    """One bar per value, scaled to the largest; a gap where there is no value."""
    top = max((v for v in values if v is not None), default=0) or 1
    return "".join(
        " " if v is None else BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1)))] for v in values
    )


def cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1%}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def interval(row: dict[str, object]) -> str:
    low, high = row["conversion_low"], row["conversion_high"]
    return "—" if low is None or high is None else f"{cell(low)}–{cell(high)}"


def verdict(report: stats.Report) -> str:
    """The one sentence under a table of variants: which converts better, or that none does yet."""
    if len(report.rows) < 2:
        return "Fewer than two variants had visitors in this range: nothing to compare yet."
    if report.better is not None:
        return f"Variant {report.better} converts better: its 95% interval lies above every other's."
    return "The 95% intervals overlap: no clear difference between the variants yet."


def titled(report: stats.Report) -> Table:
    """An empty table titled with the report's grouping, range and zone."""
    return Table(
        title=f"leadcap stats by {report.by}, {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M}"
        f" ({report.timezone})",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )


def render_variants(report: stats.Report, console: Console) -> None:
    """Conversion per variant with its Wilson 95 % interval, and what it tells."""
    table = titled(report)
    for title in ("variant", "visits", "new\nleads", "with a\nvisit", "conver-\nsion", "95% interval"):
        table.add_column(title, justify="left" if title == "variant" else "right", no_wrap=True)
    for values in [row.as_dict() for row in report.rows]:
        table.add_row(
            values["label"],
            *(cell(values[key]) for key in ("visits", "new_leads", "new_leads_with_visit", "conversion")),
            interval(values),
        )
    console.print(table)
    console.print(verdict(report))


def render(report: stats.Report, console: Console) -> None:
    if report.by == "variant":
        render_variants(report, console)
        return
    table = titled(report)
    table.add_column(report.by, no_wrap=True)
    for title, _, _ in SERIES:
        table.add_column(title, justify="right")
    dicts = [row.as_dict() for row in report.rows]
    for values in dicts:
        table.add_row(values["label"], *(cell(values[key]) for _, _, key in SERIES))
    table.add_section()
    total = report.total.as_dict()
    table.add_row("[bold]total[/]", *(f"[bold]{cell(total[key])}[/]" for _, _, key in SERIES))
    console.print(table)
    if console.is_terminal and len(dicts) > 1:
        lines = Table.grid(padding=(0, 2))
        for _, name, key in SERIES:
            lines.add_row(name, sparkline([v[key] for v in dicts]))
        console.print(lines)
    if apart := total["new_leads_without_visit"]:  # a line of its own: the table fills 80 columns
        console.print(f"new leads with no counted visit (API clients; not in conversion): {apart:,}")
    if total["rate_limited"]:
        by = total["rate_limited_by"] or {}
        console.print(
            "rate-limited: " + ", ".join(f"{LIMITED_BY_WORDS[w]} {by.get(w, 0):,}" for w in stats.LIMITED_BY)
        )
    codes = total["rejected_by_code"] or {}
    if codes:
        console.print("rejected by error.code: " + ", ".join(f"{c} {n:,}" for c, n in sorted(codes.items())))


def stats_command(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help="From this day or time (today, yesterday, 2026-11-28, ISO time).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Up to this day (included) or time.")] = None,
    by: Annotated[
        stats.Grouping,
        typer.Option(
            help="One row per day, hour, source, campaign (its slug), utm_campaign, or variant of"
            " --campaign (conversion with its 95% interval)."
        ),
    ] = "day",
    campaign: Annotated[
        str | None, typer.Option(help="Only this campaign's leads (its slug; `default` for /).")
    ] = None,
    as_json: Annotated[bool, json_option("Print the figures as JSON.")] = False,
) -> None:
    """The campaign's visits, submissions, leads and conversion (days in LEADCAP_TIMEZONE).

    Conversion: new leads that came with a counted visit / unique visitors (at most 100 %);
    new leads with no visit (API clients) are counted apart. With --by variant (needs
    --campaign): per variant, its visitors, new leads and conversion with the Wilson 95 %
    interval, and whether one variant converts better.

    Without --since: the last seven days and today. Reads PostgreSQL, and Redis for the visits
    (without a Redis URL they show as —).
    """
    settings: Settings = current(ctx)
    tz = ZoneInfo(settings.timezone)
    try:  # a bad option is a usage error (exit 2), found before anything is opened
        start, end = stats.window(since, until, tz)
        stats.check_grouping(by, campaign)
        if by in ("day", "hour"):
            stats.periods(start, end, by, tz)
    except ConfigError as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.variable) from None

    async def go() -> stats.Report:
        # PostgreSQL only, plus Redis for the visits when there is one: no MongoDB needed.
        postgres = await Postgres.open(require_url(settings, "database"), max_size=2)
        redis = Redis.open(settings.redis_url) if settings.redis_url else None
        try:
            return await stats.report(
                postgres, redis, since=start, until=end, by=by, timezone=settings.timezone, campaign=campaign
            )
        finally:
            if redis is not None:
                await redis.close()
            await postgres.close()

    report = run(go())
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        render(report, Console())
