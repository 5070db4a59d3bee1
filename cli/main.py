"""`leadcap`: the operator's one command. Each subcommand is thin: build Settings, call leadcap."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli import dead_letters, leads
from cli.admin import app as admin_app
from cli.apikeys import app as api_keys_app
from cli.campaigns import app as campaigns_app
from cli.help import Typer
from cli.init import init_command
from cli.notify import app as notify_app
from cli.ports import port_problem
from cli.runner import EX_CONFIG, current, err, fail, json_option, out, run
from cli.stats import stats_command
from cli.webhooks import app as webhooks_app
from leadcap import __version__, logs
from leadcap import settings as settings_module
from leadcap.campaign import export
from leadcap.errors import ConfigError, LeadcapError, UsageError
from leadcap.landing import cache
from leadcap.landing import campaign as landing_campaign
from leadcap.lead import Status
from leadcap.ops import embedded, health
from leadcap.ops.services import Services, configured, require_url
from leadcap.settings import Settings
from leadcap.stores.postgres.migrate import migrate as apply_migrations

app = Typer(
    help="leadcap: capture leads fast, lose none. Configuration: LEADCAP_* variables, then ./.env.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)


# Commands that read fewer stores than all: in production only their URLs are required
# (api.md: exporting reads PostgreSQL only).
READS = {"export-leads": ("DATABASE_URL",), "api-keys": ("DATABASE_URL",)}
# Commands that read no configuration: `init` writes it (a broken ./.env must not stop its repair).
UNCONFIGURED = {"init"}
DEMO_NOTICE = (
    "note: the page shows the demo campaign (LEADCAP_CAMPAIGN_FILE is unset);"
    " `leadcap init` writes campaign.json and .env to make it yours"
)


def show_version(value: bool) -> None:
    if value:
        print(f"leadcap {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    if ctx.resilient_parsing or ctx.invoked_subcommand in UNCONFIGURED:  # shell completion, `init`
        return
    try:
        settings = settings_module.load(reads=READS.get(ctx.invoked_subcommand or ""))
    except ConfigError as exc:
        # One line on stderr naming the variable, then EX_CONFIG.
        print(f"leadcap: configuration error: {exc.message}", file=sys.stderr)
        raise typer.Exit(EX_CONFIG) from None
    for line in settings_module.unknown_variables():
        print(f"leadcap: warning: {line}", file=sys.stderr)
    logs.configure(settings.log_level)
    # `serve` runs its own stores, never another serve's: those vanish when their owner stops.
    ctx.obj = settings if ctx.invoked_subcommand == "serve" else embedded.discover(settings)


def prepare_multiprocess_metrics(settings: Settings) -> None:
    """Give the Sanic processes a shared, empty folder for their metrics. prometheus_client
    reads PROMETHEUS_MULTIPROC_DIR once, when first imported, so this runs before that."""
    folder = settings.data_dir.resolve() / f"metrics-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    atexit.register(shutil.rmtree, folder, True)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on [LEADCAP_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [LEADCAP_PORT].")] = None,
    workers: Annotated[int | None, typer.Option(help="Sanic worker processes [LEADCAP_WEB_WORKERS].")] = None,
) -> None:
    """Run the web server. With a store URL unset, start that store embedded, plus a worker."""
    if port is not None and not 0 <= port <= 65535:
        raise fail(f"--port {port} is not a port number (0-65535)", 2)  # a usage error, as Typer's
    settings = current(ctx).replace(
        **{k: v for k, v in {"host": host, "port": port, "web_workers": workers}.items() if v is not None}
    )
    try:  # production never shows the demo, and a bad campaign file is a configuration error
        demo = settings_module.uses_demo_campaign(settings)
        landing_campaign.load(settings.campaign_file, settings.assets_dir)
    except ConfigError as exc:
        raise fail(exc.message, EX_CONFIG) from None
    try:  # before the port: a second serve in another terminal most often asks for the same one
        if embedded.missing(settings):
            embedded.check_free(settings.data_dir.resolve())
    except LeadcapError as exc:
        raise fail(exc.message) from None
    if problem := port_problem(settings.host, settings.port):
        raise fail(problem)
    if settings.web_workers > 1:
        prepare_multiprocess_metrics(settings)
    from cli.serve import serve as run_serve  # imports prometheus_client: after the line above

    if demo:  # once serve is sure to start (a refusal above stays one line): how to make it yours
        err.print(DEMO_NOTICE, highlight=False, soft_wrap=True)

    try:
        run_serve(settings)
    except ConfigError as exc:
        raise fail(exc.message, EX_CONFIG) from None
    except LeadcapError as exc:
        raise fail(exc.message) from None


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None, typer.Option(help="Submissions in flight at once [LEADCAP_WORKER_CONCURRENCY].")
    ] = None,
) -> None:
    """Run a lead worker until SIGTERM; in-flight submissions finish first."""
    from leadcap.worker.run import run_worker

    run(run_worker(current(ctx), concurrency=concurrency))


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Apply pending PostgreSQL migrations (safe to run twice or concurrently)."""
    settings = current(ctx)

    async def go() -> list[str]:
        return await apply_migrations(require_url(settings, "database"))

    applied = run(go())
    out.print(  # one line whatever the width: scripts and logs read it
        f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "schema is up to date",
        soft_wrap=True,
    )


@app.command("flush-cache")
def flush_cache(
    ctx: typer.Context,
    campaign: Annotated[
        str | None,
        typer.Option(help="Only this campaign's page (/SLUG/): re-rendered within 5 s by every process."),
    ] = None,
) -> None:
    """Make every web process serve the campaign file (and the current build) on its next request.

    The file is checked first: a bad one exits 1 naming the field, and every page stays."""
    settings = current(ctx)
    if campaign is not None and campaign != "default":
        from cli.campaigns import flush_campaign

        flush_campaign(ctx, campaign)
        return
    try:
        document = cache.document(settings)
    except ConfigError as exc:  # the operator's file, not the process's configuration: exit 1
        raise fail(f"{exc.message} (nothing was published; every page stays as it was)") from None

    async def go() -> cache.Flush:
        async with await Services.open(settings, postgres=False, mongo=False) as services:
            return await cache.flush(services.redis, document, edge_dir=settings.edge_dir)

    flushed = run(go())
    if not flushed.complete:
        raise fail(
            f"landing page version {flushed.version} is published, but only {flushed.confirmed} of "
            f"{flushed.listening} web processes confirmed it in time"
        )
    out.print(
        f"landing page cache flushed (version {flushed.version}, "
        f"{flushed.listening} web process(es) serving it)"
    )


@app.command("health")
def health_command(
    ctx: typer.Context,
    as_json: Annotated[bool, json_option("Print the JSON report instead of a table.")] = False,
) -> None:
    """Check every store and the workers. Exit 0 ok, 1 degraded, 2 down.

    A store with no URL (and no `leadcap serve` running for the data folder) is down, "not
    configured"; production has refused to start without every URL before this runs."""
    settings = current(ctx)
    opened = {store: configured(settings, store) for store in ("postgres", "redis", "mongo")}

    async def go() -> dict[str, Any]:
        async with await Services.open(settings, **opened) as services:
            return await health.report(services)

    report = run(go())
    if as_json:
        print(json.dumps(report))
    else:
        table = Table(title=f"leadcap {report['version']}: {report['status']}")
        for column in ("check", "status", "detail"):
            table.add_column(column)
        for name, check in report["checks"].items():
            detail = check.get("error") or ", ".join(
                f"{k}={v}" for k, v in check.items() if k not in ("status", "error")
            )
            colour = "green" if check["status"] == "ok" else "red"
            table.add_row(name, f"[{colour}]{check['status']}[/]", str(detail))
        out.print(table)
    raise typer.Exit(health.EXIT_CODES[report["status"]])


@app.command("config")
def show_config(ctx: typer.Context) -> None:
    """Print the effective settings, secrets masked."""
    for name, value in current(ctx).masked().items():
        print(f"{name}={value}")


@app.command("export-leads")
def export_leads(
    ctx: typer.Context,
    fmt: Annotated[export.Format, typer.Option("--format", help="File format.")] = "csv",
    output: Annotated[
        Path | None,
        typer.Option(help="File to write (mode 0600, only once complete); stdout if omitted."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="First submitted at or after: today, yesterday, a date or an ISO time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="First submitted before (a day given here is included whole).")
    ] = None,
    status: Annotated[Status | None, typer.Option(help="Only leads with this status.")] = None,
    campaign: Annotated[
        str | None, typer.Option(help="Only this campaign's leads (its slug; `default` for /).")
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Time zone of dates and times [LEADCAP_TIMEZONE].")
    ] = None,
    calendar: Annotated[
        export.Calendar, typer.Option(help="jalali adds Solar Hijri date columns.")
    ] = "gregorian",
    bom: Annotated[
        bool,
        typer.Option(
            "--bom", help="Start the CSV with a UTF-8 byte-order mark, so Excel reads Persian text."
        ),
    ] = False,
    count: Annotated[bool, typer.Option("--count", help="Print only how many leads match.")] = False,
) -> None:
    """Stream leads as CSV or JSON Lines to a file or stdout (or just count them); reads PostgreSQL only.

    --since and --until take today, yesterday, a date or an ISO time in LEADCAP_TIMEZONE (or --tz).

    Yesterday's leads: leadcap export-leads --since yesterday --until yesterday --output leads.csv

    For Excel: leadcap export-leads --calendar jalali --bom --output leads.csv
    """
    from cli.export import export_command

    settings = current(ctx)
    try:  # a bad option is a usage error (exit 2), found before anything is opened
        zone = export.zone(tz) if tz else settings.tz
        where = export.filters(since, until, status, tz=zone, campaign=campaign)
        export.check_format(fmt, bom=bom)
    except UsageError as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.option) from None
    if count:

        async def go() -> int:
            async with await Services.open(settings, redis=False, mongo=False, pg_pool_size=1) as services:
                return await export.count(services.postgres, where)

        print(run(go()))
        return
    run(export_command(settings, fmt=fmt, output=output, where=where, tz=zone, calendar=calendar, bom=bom))


app.add_typer(dead_letters.app, name="dead-letters")
app.add_typer(leads.app, name="leads")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(notify_app, name="notify")
app.add_typer(api_keys_app, name="api-keys")
app.command("stats")(stats_command)
app.command("init")(init_command)
app.add_typer(admin_app, name="admin")


def main() -> None:
    app()
