"""`leadcap api-keys add | list | revoke`: keys of the read API (GET /api/v1/leads). PostgreSQL only."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from cli.help import Typer
from cli.runner import current, json_option, out, run
from leadcap.ops.services import require_url
from leadcap.readapi import apikeys
from leadcap.stores.postgres import Postgres

T = TypeVar("T")
app = Typer(help="Keys of the read API (GET /api/v1/leads): shown once, stored hashed.", no_args_is_help=True)


def _run(ctx: typer.Context, work: Callable[[Postgres], Awaitable[T]]) -> T:
    settings = current(ctx)

    async def go() -> T:
        postgres = await Postgres.open(require_url(settings, "database"), max_size=1)
        try:
            return await work(postgres)
        finally:
            await postgres.close()

    return run(go())


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the key (1-64 of A-Z a-z 0-9 . _ -).")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            metavar=f"<{'|'.join(apikeys.SCOPES)}>",
            help="What it may do (leads:read if none); repeatable.",
        ),
    ] = None,
) -> None:
    """Make a key. It is printed once, here, and kept only as a hash: store it now."""
    scopes = scope or [apikeys.READ_LEADS]
    # checked inside the run, so a bad scope or name exits 2 with one line, as every usage error
    key = _run(ctx, lambda postgres: apikeys.add(postgres, name, apikeys.check_scopes(scopes)))
    out.print(f"API key {name} added for {', '.join(scopes)}; shown only now, never again:")
    print(key)


def _when(value: Any, ctx: typer.Context) -> str:
    return (
        value.astimezone(current(ctx).tz).isoformat(timespec="seconds") if isinstance(value, datetime) else ""
    )


@app.command("list")
def list_keys(
    ctx: typer.Context,
    as_json: Annotated[bool, json_option("Print JSON.")] = False,
) -> None:
    """Every key (never the key itself): its scopes, state, uses and last use."""
    rows = [
        {
            "name": r["name"],
            "hint": r["hint"] + "…",
            "scopes": list(r["scopes"]),
            "state": "revoked" if r["revoked_at"] else "live",
            "created_at": _when(r["created_at"], ctx),
            "revoked_at": _when(r["revoked_at"], ctx) or None,
            "uses": r["uses"],
            "last_used_at": _when(r["last_used_at"], ctx) or None,
        }
        for r in _run(ctx, apikeys.listing)
    ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table()
    for column in ("name", "key", "scopes", "state", "uses", "last used", "created"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["name"],
            r["hint"],
            ", ".join(r["scopes"]),
            r["state"],
            str(r["uses"]),
            r["last_used_at"] or "never",
            r["created_at"],
        )
    out.print(table)


@app.command("revoke")
def revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key: its next request is refused (401). It stays listed as revoked."""
    _run(ctx, lambda postgres: apikeys.revoke(postgres, name))
    out.print(f"API key {name} revoked")
