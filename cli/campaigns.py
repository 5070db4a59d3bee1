"""`leadcap campaigns …`: the campaigns an install runs beside its default one. Needs PostgreSQL.

A campaign file is checked with the parser `serve` checks LEADCAP_CAMPAIGN_FILE with
(web.campaign.parse), so a file `campaigns add` takes is one `serve` would take."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from cli.help import Typer
from cli.postgres import with_postgres
from cli.runner import EX_USAGE, current, fail, json_option
from leadcap import slugs
from leadcap.campaigns.registry import REFRESH_EVERY_S
from leadcap.errors import ConfigError, UsageError
from leadcap.stores.postgres.campaigns import CampaignFileStore, CampaignRow
from web import campaign

T = TypeVar("T")
MAX_FILE = 256 * 1024  # a campaign file is a few KiB; this keeps a wrong path from loading a disk image
app = Typer(help="Campaigns beside the default one, each at /SLUG/ (and its own host).", no_args_is_help=True)
out = Console()

FileOption = Annotated[Path | None, typer.Option("--file", help="The campaign file (JSON), as serve's.")]
HostOption = Annotated[str | None, typer.Option("--host", help="A host name whose / serves this campaign.")]


def _run(ctx: typer.Context, work: Callable[[CampaignFileStore], Awaitable[T]]) -> T:
    return with_postgres(ctx, lambda postgres, _: work(postgres.campaigns))


def _slug(slug: str) -> str:
    problem = slugs.problem(slug)
    if problem:
        raise UsageError("SLUG", problem)
    return slug


def _host(host: str | None) -> str | None:
    if host is None:
        return None
    problem = slugs.host_problem(host)
    if problem:
        raise UsageError("--host", problem)
    return host


def _document(path: Path, assets: Path | None) -> dict[str, Any]:
    """The campaign file as serve would take it; UsageError (exit 2) naming what is wrong."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE + 1)
    except OSError as exc:
        raise UsageError("--file", f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_FILE:
        raise UsageError("--file", f"is larger than {MAX_FILE // 1024} KiB")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError("--file", f"is not JSON ({exc})") from None
    try:
        campaign.parse(data, assets)
    except ConfigError as exc:  # worded for LEADCAP_CAMPAIGN_FILE: the same problem, named for --file
        raise UsageError("--file", exc.message.removeprefix(exc.variable).strip()) from None
    return dict(data)


def _checked(work: Callable[[], T]) -> T:
    """Run the arguments' checks: a UsageError is exit 2, as `run` maps it for the rest."""
    try:
        return work()
    except UsageError as exc:
        raise fail(exc.message, EX_USAGE) from None


# What every web process does within REFRESH_EVERY_S of a change here (they poll the live set).
_REACHES = f"every web process within {REFRESH_EVERY_S:g} s"


def _summary(row: CampaignRow, tz: tzinfo) -> dict[str, Any]:
    """A campaign as `list` shows it, its times in LEADCAP_TIMEZONE as every other listing's."""

    def local(moment: datetime | None) -> str | None:
        return moment.astimezone(tz).isoformat(timespec="seconds") if moment else None

    return {
        "slug": row.slug,
        "host": row.host,
        "path": f"/{row.slug}/",
        "status": "live" if row.live else "archived",
        "created_at": local(row.created_at),
        "updated_at": local(row.updated_at),
        "archived_at": local(row.archived_at),
    }


def _inputs(ctx: typer.Context, slug: str, host: str | None, file: Path | None) -> Any:
    """The slug and host checked, and the file's document (None without a file): exit 2 naming
    the first bad one, before any store is opened."""
    return _checked(
        lambda: (_slug(slug), _host(host), _document(file, current(ctx).assets_dir) if file else None)[2]
    )


@app.command("add")
def add(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="1 to 40 of a-z, 0-9 and -; its page is /SLUG/.")],
    file: FileOption = None,
    host: HostOption = None,
) -> None:
    """Add a campaign from its file (checked as serve checks LEADCAP_CAMPAIGN_FILE)."""
    if file is None:
        raise fail("--file is required", EX_USAGE)
    document = _inputs(ctx, slug, host, file)
    row = _run(ctx, lambda store: store.add(slug, document, host))
    where = f"/{row.slug}/" + (f" and https://{row.host}/" if row.host else "")
    out.print(f"campaign {row.slug} added: {where} ({_REACHES})")


@app.command("update")
def update(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The campaign to change.")],
    file: FileOption = None,
    host: HostOption = None,
) -> None:
    """Replace a live campaign's file and/or host."""
    document = _inputs(ctx, slug, host, file)
    row = _run(ctx, lambda store: store.update(slug, document, host))
    out.print(f"campaign {row.slug} updated ({_REACHES})")


@app.command("archive")
def archive(ctx: typer.Context, slug: Annotated[str, typer.Argument(help="The campaign to stop.")]) -> None:
    """Stop a campaign's page and form (its leads stay; the slug stays taken)."""
    _checked(lambda: _slug(slug))
    row = _run(ctx, lambda store: store.archive(slug))
    out.print(f"campaign {row.slug} archived: its page and form stop at {_REACHES}")


@app.command("list")
def listing(ctx: typer.Context, as_json: Annotated[bool, json_option("Print JSON.")] = False) -> None:
    """Every campaign, live and archived (the default one is LEADCAP_CAMPAIGN_FILE's)."""
    tz = current(ctx).tz
    rows = [_summary(r, tz) for r in _run(ctx, lambda store: store.listing())]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title="campaigns (besides default: LEADCAP_CAMPAIGN_FILE at /)")
    for column in ("slug", "path", "host", "status", "updated"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["slug"], r["path"], r["host"] or "", r["status"], r["updated_at"])
    out.print(table)


def flush_campaign(ctx: typer.Context, slug: str) -> None:
    """`flush-cache --campaign SLUG`: mark the campaign changed; every web process re-renders its
    page when it next refreshes the live set (leadcap.campaigns.registry.REFRESH_EVERY_S)."""
    if not slugs.well_formed(slug):
        raise fail("--campaign must be a campaign's slug ([a-z0-9-]{1,40})", EX_USAGE)
    row = _run(ctx, lambda store: store.touch(slug))
    out.print(f"campaign {row.slug}: page flushed (served anew by {_REACHES})")
