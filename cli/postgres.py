"""The one way a command that needs PostgreSQL only opens it: one connection, closed after the work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from cli.runner import current, run
from leadcap.ops.services import require_url
from leadcap.settings import Settings
from leadcap.stores.postgres import Postgres

T = TypeVar("T")


def with_postgres(ctx: typer.Context, work: Callable[[Postgres, Settings], Awaitable[T]]) -> T:
    """Open PostgreSQL (LEADCAP_DATABASE_URL required), run the work, close it; errors become exits."""
    settings = current(ctx)

    async def go() -> T:
        postgres = await Postgres.open(require_url(settings, "database"), max_size=1)
        try:
            return await work(postgres, settings)
        finally:
            await postgres.close()

    return run(go())
