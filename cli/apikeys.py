"""`leadcap api-keys add | list | revoke`: keys of the read API (GET /api/v1/leads). PostgreSQL only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from cli.help import Typer
from cli.postgres import with_postgres
from cli.runner import current, json_option, out, print_rows
from leadcap.readapi import apikeys

app = Typer(help="Keys of the read API (GET /api/v1/leads): shown once, stored hashed.", no_args_is_help=True)


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
    key = with_postgres(ctx, lambda postgres, _: apikeys.add(postgres, name, apikeys.check_scopes(scopes)))
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
        for r in with_postgres(ctx, lambda postgres, _: apikeys.listing(postgres))
    ]
    columns = ("name", "key", "scopes", "state", "uses", "last used", "created")
    print_rows(rows, as_json, columns, _cells, ensure_ascii=False)


def _cells(r: dict[str, Any]) -> tuple[str, ...]:
    scopes, last_used = ", ".join(r["scopes"]), r["last_used_at"] or "never"
    return r["name"], r["hint"], scopes, r["state"], str(r["uses"]), last_used, r["created_at"]


@app.command("revoke")
def revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key: its next request is refused (401). It stays listed as revoked."""
    with_postgres(ctx, lambda postgres, _: apikeys.revoke(postgres, name))
    out.print(f"API key {name} revoked")
