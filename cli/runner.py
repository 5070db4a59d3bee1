"""What every command shares: the consoles, the Settings the callback built, and the one place
leadcap's errors become exit statuses."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from leadcap.errors import ConfigError, LeadcapError, UsageError
from leadcap.settings import Settings

try:  # uvloop: a quarter less CPU per lead in the worker (docs/performance.md)
    from uvloop import run as run_loop
except ImportError:  # not on Windows
    from asyncio import run as run_loop  # type: ignore[assignment]

EX_CONFIG = 78  # sysexits.h: a configuration error never reads as a health state
EX_USAGE = 2  # Click's status for a bad option, so every usage error reads the same
T = TypeVar("T")

err = Console(stderr=True)
out = Console()


def json_option(help: str) -> Any:  # noqa: A002 - Typer's word
    """The `--json` flag every listing command offers, with what its JSON holds."""
    return typer.Option("--json", help=help)


def events_option(events: Iterable[str]) -> Any:
    """The repeatable `--event` of webhook endpoints and notification channels."""
    return typer.Option(
        "--event", metavar=f"<{'|'.join(events)}>", help="Event to send (lead.created if none); repeatable."
    )


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)  # one line at any width
    return typer.Exit(code)


def current(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine, mapping leadcap's errors to an exit status in one place."""
    try:
        return run_loop(coro)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise fail(exc.message, EX_CONFIG) from None
    except UsageError as exc:
        raise fail(exc.message, EX_USAGE) from None
    except LeadcapError as exc:
        raise fail(exc.message) from None


def print_rows(
    rows: list[dict[str, Any]],
    as_json: bool,
    columns: Iterable[str],
    cells: Callable[[dict[str, Any]], Iterable[str]],
    *,
    ensure_ascii: bool = True,
) -> None:
    """A listing command's output: the rows as one JSON array, or a table of `columns` whose cells
    `cells` gives per row."""
    if as_json:
        print(json.dumps(rows, ensure_ascii=ensure_ascii))
        return
    table = Table()
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*cells(row))
    out.print(table)
