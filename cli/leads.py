"""`leadcap leads erase PHONE`: remove a number from every store (leadcap/privacy/erasure.py)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from cli.help import Typer
from cli.postgres import with_postgres
from cli.runner import EX_USAGE, current, fail, out, run
from leadcap.errors import UsageError
from leadcap.logs import mask_phone
from leadcap.ops.services import Services
from leadcap.privacy import erasure
from leadcap.settings import Settings

app = Typer(help="Leads by number: erase one from every store.", no_args_is_help=True)


def _operator() -> str:
    """Who erased, as the audit trail keeps it: the command and the system user running it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container's user)
        return "cli"


async def _erase(settings: Settings, phone: str, *, campaign: str | None) -> erasure.Erased:
    async with await Services.open(settings, pg_pool_size=2) as services:
        return await erasure.erase_number(
            services.postgres,
            services.redis,
            services.mongo,
            phone,
            by=_operator(),
            campaign=campaign,
            shards=services.shards,
        )


@app.command("erase")
def erase_command(
    ctx: typer.Context,
    phone: Annotated[str, typer.Argument(help="The number, in any spelling the form accepts.")],
    campaign: Annotated[
        str | None,
        typer.Option(
            help="Erase only this campaign's lead (a slug from `campaigns list`, or 'default');"
            " the number's other leads, and its SMS budgets (shared by its campaigns), stay."
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a number from every store: its lead, submissions, dead letters, every webhook
    payload, its Redis keys and its request-log entries. The audit trail keeps who erased it
    and when, without the number; endpoints subscribed to lead.erased are told. Safe to run twice.

    Exit 0 erased (or nothing to erase), 1 a store failed (run it again), 2 not a number or
    no such campaign.
    """
    settings = current(ctx)
    try:
        e164 = erasure.parse_phone(phone, settings)
    except UsageError as exc:
        raise fail(exc.message, EX_USAGE) from None
    if campaign is not None:  # before asking: an unknown slug is exit 2, nothing asked or erased
        with_postgres(ctx, lambda postgres, _: erasure.check_campaign(postgres, campaign))
    shown = mask_phone(e164)
    what = f"{shown} from every store" if campaign is None else f"{shown}'s lead in campaign {campaign}"
    if not yes and not typer.confirm(f"Erase {what}? This cannot be undone", default=False):
        raise fail("nothing erased")
    erased = run(_erase(settings, e164, campaign=campaign))
    what = f"{erased.leads} lead" + ("" if erased.leads == 1 else "s")
    out.print(f"erased {shown}: {what}", highlight=False)
    for line in erased.lines():
        out.print(f"  {line}", highlight=False, soft_wrap=True)
