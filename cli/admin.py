"""`leadcap admin add-user | remove-user | list-users`: who may sign in to /admin/."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from cli.help import Typer
from cli.runner import current, fail, out, run
from leadcap.campaign import admin_users
from leadcap.errors import ConfigError
from leadcap.ops.services import require_url
from leadcap.settings import Settings
from leadcap.stores.postgres import Postgres

app = Typer(help="Users of /admin/ (argon2id password hashes in PostgreSQL).", no_args_is_help=True)


async def _with_postgres(settings: Settings) -> Postgres:
    return await Postgres.open(require_url(settings, "database"), max_size=1)


def read_password() -> str:
    """Twice from the terminal (not echoed), or one line from stdin when it is not a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != password:
        raise ConfigError("password", "the two entries differ")
    return str(password)


@app.command("add-user")
def add_user(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Create a user (or set a new password, which ends their sessions); the password comes from
    the terminal or stdin."""
    settings = current(ctx)
    try:
        admin_users.check_name(name)
        password = admin_users.check_password(read_password())
    except ConfigError as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.variable) from None

    async def go() -> bool:
        postgres = await _with_postgres(settings)
        try:
            return await admin_users.add(postgres, name, password)
        finally:
            await postgres.close()

    created = run(go())
    done = "added" if created else "has a new password (their sessions have ended)"
    out.print(f"user {name} {done}; sign in at /admin/")


@app.command("remove-user")
def remove_user(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Delete a user; their sessions end at their next request."""
    settings = current(ctx)

    async def go() -> bool:
        postgres = await _with_postgres(settings)
        try:
            return await admin_users.remove(postgres, name)
        finally:
            await postgres.close()

    if not run(go()):
        raise fail(f"no user {name}")
    out.print(f"user {name} removed")


@app.command("list-users")
def list_users(ctx: typer.Context) -> None:
    """The user names, oldest first, each with when it was added (ISO 8601 in LEADCAP_TIMEZONE)."""
    settings = current(ctx)

    async def go() -> list[tuple[str, datetime]]:
        postgres = await _with_postgres(settings)
        try:
            return list(await admin_users.listing(postgres))
        finally:
            await postgres.close()

    for name, created in run(go()):
        print(f"{name}\t{created.astimezone(settings.tz).isoformat(timespec='seconds')}")
