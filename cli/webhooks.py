"""`leadcap webhooks …`: endpoints and deliveries. Needs PostgreSQL only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from cli.help import Typer
from cli.postgres import with_postgres
from cli.runner import events_option, fail, json_option, out, print_rows
from leadcap.settings import Settings
from leadcap.stores.postgres.webhooks import WebhookStore
from leadcap.webhooks import EVENT_TYPES, endpoints

T = TypeVar("T")
app = Typer(help="Signed webhooks: endpoints that receive every lead event.", no_args_is_help=True)


def with_store(ctx: typer.Context, work: Callable[[WebhookStore, Settings], Awaitable[T]]) -> T:
    return with_postgres(ctx, lambda postgres, settings: work(postgres.webhooks, settings))


@app.command("add")
def add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The endpoint's http(s) URL.")],
    event: Annotated[list[str] | None, events_option(EVENT_TYPES)] = None,
    secret: Annotated[
        str | None, typer.Option(help="The whsec_ signing secret; generated (and shown once) if omitted.")
    ] = None,
) -> None:
    """Subscribe a URL to lead events. The generated secret is printed once, never again."""
    events = event or ["lead.created"]
    added = with_store(ctx, lambda store, s: endpoints.add(store, s, url, events, secret))
    out.print(f"webhook endpoint {added.id} added for {', '.join(events)}")
    if added.generated:
        out.print("signing secret (shown only now; keep it where the receiver can read it):")
        print(added.secret)


@app.command("list")
def list_endpoints(
    ctx: typer.Context,
    as_json: Annotated[bool, json_option("Print JSON.")] = False,
) -> None:
    """The endpoints, their events and state (never their secrets)."""
    rows = with_store(ctx, lambda store, _: endpoints.listing(store))
    print_rows(rows, as_json, ("id", "url", "events", "state"), _endpoint_cells)


def _endpoint_cells(row: dict[str, Any]) -> tuple[str, ...]:
    state = "enabled" if row["enabled"] else f"disabled: {row['disabled_reason'] or ''}"
    return str(row["id"]), row["url"], ", ".join(row["events"]), state


@app.command("remove")
def remove(ctx: typer.Context, endpoint_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Delete an endpoint and its deliveries."""
    with_store(ctx, lambda store, _: endpoints.remove(store, endpoint_id))
    out.print(f"webhook endpoint {endpoint_id} removed")


@app.command("test")
def test(ctx: typer.Context, endpoint_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Send a signed webhook.test event to an endpoint now. Exit 0 on a 2xx, 1 otherwise."""
    attempt = with_store(ctx, lambda store, s: endpoints.test(store, s, endpoint_id))
    if not attempt.ok:
        raise fail(f"endpoint {endpoint_id}: {attempt.status or attempt.error} after {attempt.latency_ms} ms")
    out.print(f"endpoint {endpoint_id} answered {attempt.status} in {attempt.latency_ms} ms")


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if hasattr(v, "isoformat") else str(v) if k == "event_id" else v)
        for k, v in row.items()
    }


@app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="Only deliveries that gave up.")] = False,
    as_json: Annotated[bool, json_option("Print JSON.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many, newest first.")] = 50,
) -> None:
    """The latest deliveries: state, attempts, last status or error."""
    rows = [
        _jsonable(r)
        for r in with_store(ctx, lambda store, _: store.deliveries(failed_only=failed, limit=limit))
    ]
    columns = ("id", "endpoint", "event", "state", "attempts", "last", "next attempt")
    print_rows(rows, as_json, columns, _delivery_cells)


def _delivery_cells(r: dict[str, Any]) -> tuple[str, ...]:
    last = str(r["last_status"] or r["last_error"] or "")
    upcoming = r["next_attempt_at"] if r["state"] == "pending" else ""
    return str(r["id"]), str(r["endpoint_id"]), r["type"], r["state"], str(r["attempts"]), last, upcoming


@app.command("replay")
def replay(
    ctx: typer.Context,
    delivery_id: Annotated[int | None, typer.Argument(metavar="DELIVERY_ID")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Replay every failed delivery.")] = False,
) -> None:
    """Send a delivery again (any state), or every failed one, with a fresh retry window."""
    if (delivery_id is None) == (not failed):
        raise typer.BadParameter("give a DELIVERY_ID or --failed (not both)")
    replayed = with_store(ctx, lambda store, _: endpoints.replay(store, delivery_id, failed=failed))
    out.print(f"{len(replayed)} deliver{'y' if len(replayed) == 1 else 'ies'} due again now")
