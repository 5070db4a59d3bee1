"""`leadcap export-leads`: data on stdout (or a file), progress on stderr when it is a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from leadcap import export
from leadcap.services import Services
from leadcap.settings import Settings


async def export_command(settings: Settings, *, fmt: str, output: Path | None, where: export.Filters) -> None:
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    writer = export.Writer(fmt, out)
    try:
        async with await Services.open(settings, pg_pool_size=2) as services:
            total = await export.count(services.postgres, where) if sys.stderr.isatty() else None
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
                async for values in export.stream(services.postgres, where):
                    writer.write(values)
                    progress.advance(task)
    finally:
        if output:
            out.close()
        else:
            out.flush()
