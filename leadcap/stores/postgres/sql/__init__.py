"""Named SQL, loaded once from the .sql files beside this module, and the parallel arrays that
statements taking many rows at once (`unnest($1::…[], $2::…[], …)`) are given."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def query(name: str) -> str:
    """The text of `<name>.sql`."""
    return files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def arrays(rows: Sequence[object], *names: str) -> list[list[Any]]:
    """One list per attribute `names` of `rows`, in that order: $n after $n of an unnest()."""
    return [[getattr(row, name) for row in rows] for name in names]
