"""`leadcap notify …`: Telegram, Bale and email channels for lead events. Needs PostgreSQL only."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.help import Typer
from cli.postgres import with_postgres
from cli.runner import events_option, fail, json_option, out, print_rows
from cli.webhooks import with_store
from leadcap.notify import EVENTS, KINDS, channels

app = Typer(
    help="Notifications: each new or verified lead as a Telegram or Bale message, or an email.",
    no_args_is_help=True,
)


@app.command("add")
def add(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(metavar=f"<{'|'.join(KINDS)}>", help="Where messages go.")],
    token: Annotated[
        str | None, typer.Option(help="telegram/bale: the bot's token (never shown again).")
    ] = None,
    chat: Annotated[
        str | None, typer.Option(help="telegram/bale: the chat id (negative for a group) or @channel.")
    ] = None,
    smtp: Annotated[
        str | None,
        typer.Option(
            help="email: smtp[s]://[user[:password]@]host[:port][?from=ADDRESS] (password kept apart)."
        ),
    ] = None,
    to: Annotated[str | None, typer.Option(help="email: the address to write to.")] = None,
    event: Annotated[list[str] | None, events_option(EVENTS)] = None,
    campaign: Annotated[
        str | None,
        typer.Option(
            help="Only this campaign's leads (a slug from `campaigns list`, or `default`);"
            " every campaign's if omitted."
        ),
    ] = None,
    full_phone: Annotated[
        bool, typer.Option("--full-phone", help="Show phone numbers in full (masked otherwise).")
    ] = False,
) -> None:
    """Add a channel. Its token or password is stored, never printed."""
    events = event or ["lead.created"]
    channel_id = with_postgres(
        ctx,
        lambda postgres, _: channels.add(
            postgres.webhooks,
            kind,
            token=token,
            chat=chat,
            smtp=smtp,
            to=to,
            events=events,
            campaign=campaign,
            campaigns=postgres.campaigns,
            full_phone=full_phone,
        ),
    )
    out.print(
        f"{kind} channel {channel_id} added for {', '.join(events)};"
        f" `leadcap notify test {channel_id}` tries it"
    )


@app.command("list")
def list_channels(
    ctx: typer.Context,
    as_json: Annotated[bool, json_option("Print JSON.")] = False,
) -> None:
    """The channels, their events and state (a disabled one says why), never their tokens."""
    rows = with_store(ctx, lambda store, _: channels.listing(store))
    print_rows(rows, as_json, ("id", "kind", "to", "events", "campaign", "phone", "state"), _cells)


def _cells(r: dict[str, Any]) -> tuple[str, ...]:
    phone = "full" if r["full_phone"] else "masked"
    return str(r["id"]), r["kind"], r["to"], ", ".join(r["events"]), r["campaign"], phone, r["state"]


@app.command("remove")
def remove(ctx: typer.Context, channel_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Delete a channel and its pending messages."""
    with_store(ctx, lambda store, _: channels.remove(store, channel_id))
    out.print(f"notification channel {channel_id} removed")


@app.command("test")
def test(ctx: typer.Context, channel_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Send a short test message now. Exit 0 when it was taken, 1 otherwise."""
    attempt = with_store(ctx, lambda store, s: channels.test(store, s, channel_id))
    if not attempt.ok:
        raise fail(f"channel {channel_id}: {attempt.error or attempt.status} after {attempt.latency_ms} ms")
    out.print(f"channel {channel_id} took the test message in {attempt.latency_ms} ms")
