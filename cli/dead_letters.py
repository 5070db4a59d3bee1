"""`leadcap dead-letters list|retry`: what PostgreSQL refused for good, and putting it back."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.help import Typer
from cli.postgres import with_postgres
from cli.runner import fail, json_option, out
from leadcap.logs import mask_phone
from leadcap.ops import deadletters

app = Typer(
    help="Submissions PostgreSQL refused for good (see docs/operations.md): list them, retry them.",
    no_args_is_help=True,
)


@app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, json_option("One JSON object per line, message included.")] = False,
) -> None:
    """List dead letters, oldest first (the table masks phone numbers; --json shows all)."""
    letters = with_postgres(ctx, lambda postgres, _: deadletters.listed(postgres))
    if as_json:
        for letter in letters:
            print(json.dumps(letter.to_json(), ensure_ascii=False))
        return
    table = Table(title=f"{len(letters)} dead letter(s)")
    for column in ("id", "submission", "phone", "failures", "last failed", "error"):
        table.add_column(column)
    for letter in letters:
        phone = (letter.message or {}).get("phone")
        table.add_row(
            str(letter.id),
            str(letter.submission_id or "-"),
            mask_phone(phone) if isinstance(phone, str) else "-",
            str(letter.failures),
            letter.last_failed_at.isoformat(timespec="seconds"),
            letter.error,
        )
    out.print(table)


@app.command("retry")
def retry_command(
    ctx: typer.Context,
    dead_id: Annotated[int | None, typer.Argument(metavar="ID", help="The dead letter to retry.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Retry every dead letter.")] = False,
) -> None:
    """Write dead letters through the normal write path; what lands leaves the list.

    Exit 0 when every one landed, 1 when any was refused again (it stays listed, with the new
    error) or does not exist.
    """
    if (dead_id is None) == (not every):
        raise typer.BadParameter("give one dead letter ID or --all, not both")
    ids = None if every else [dead_id]
    result = with_postgres(ctx, lambda postgres, _: deadletters.retry(postgres, ids))  # type: ignore[arg-type]
    out.print(f"{len(result.landed)} landed, {len(result.refused)} refused again")
    for refused_id, error in result.refused.items():
        out.print(f"  dead letter {refused_id}: {error}", highlight=False)
    if result.missing:
        raise fail(f"no dead letter with id {', '.join(map(str, result.missing))}")
    if result.refused:
        raise typer.Exit(1)
