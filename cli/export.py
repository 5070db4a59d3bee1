"""`leadcap export-leads`: data on stdout (or a file), progress on stderr when it is a terminal.

A file is written aside (a private temporary file in the same folder, mode 0600) and renamed
over PATH only once the export is complete: a failed export leaves no file, and no other
user can read leads from it, even half-written.
"""

from __future__ import annotations

import contextlib
import sys
from datetime import tzinfo
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.files import written_aside
from leadcap.campaign import export
from leadcap.ops.services import Services
from leadcap.settings import Settings


async def export_command(
    settings: Settings,
    *,
    fmt: str,
    output: Path | None,
    where: export.Filters,
    tz: tzinfo,
    calendar: str = "gregorian",
    bom: bool = False,
) -> None:
    """Stream the matching leads to `output` or stdout; reads PostgreSQL only. Nothing is
    written (not even the CSV header, nor a file) until PostgreSQL has answered the query."""
    async with (
        await Services.open(settings, redis=False, mongo=False, pg_pool_size=2) as services,
        contextlib.aclosing(export.stream(services.postgres, where, tz=tz, calendar=calendar)) as rows,
    ):
        total = await export.count(services.postgres, where) if sys.stderr.isatty() else None
        first = await anext(rows, None)  # the cursor opens here: stores down fail before any byte
        with written_aside(output) if output else contextlib.nullcontext(sys.stdout) as out:
            writer = export.Writer(fmt, out, fieldnames=export.columns(calendar), bom=bom)
            with Progress(
                TextColumn("exporting"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
                disable=total is None,
                console=Console(stderr=True),
            ) as progress:
                task = progress.add_task("leads", total=total)
                if first is not None:
                    writer.write(first)
                    progress.advance(task)
                    async for values in rows:
                        writer.write(values)
                        progress.advance(task)
            if not output:
                out.flush()
