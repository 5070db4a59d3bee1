"""`leadcap admin add-user | remove-user | list-users`: who may sign in to /admin/."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli.help import Typer
from cli.postgres import with_postgres
from cli.runner import current, fail, out
from leadcap.campaign import admin_users
from leadcap.errors import ConfigError

app = Typer(help="Users of /admin/ (argon2id password hashes in PostgreSQL).", no_args_is_help=True)


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
    try:
        admin_users.check_name(name)
        password = admin_users.check_password(read_password())
    except ConfigError as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.variable) from None

    created = with_postgres(ctx, lambda postgres, _: admin_users.add(postgres, name, password))
    done = "added" if created else "has a new password (their sessions have ended)"
    out.print(f"user {name} {done}; sign in at /admin/")


@app.command("remove-user")
def remove_user(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Delete a user; their sessions end at their next request."""
    if not with_postgres(ctx, lambda postgres, _: admin_users.remove(postgres, name)):
        raise fail(f"no user {name}")
    out.print(f"user {name} removed")


@app.command("list-users")
def list_users(ctx: typer.Context) -> None:
    """The user names, oldest first, each with when it was added (ISO 8601 in LEADCAP_TIMEZONE)."""
    settings = current(ctx)
    for name, created in with_postgres(ctx, lambda postgres, _: admin_users.listing(postgres)):
        print(f"{name}\t{created.astimezone(settings.tz).isoformat(timespec='seconds')}")
