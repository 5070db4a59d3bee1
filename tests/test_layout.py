"""docs/architecture.md's layout table is the tree: a row for every package and module of leadcap,
web and cli, with the first sentence of its docstring, and nothing that is gone.

After adding, moving or removing a module (or changing its docstring's first sentence), paste
`python -m tests.test_layout` over the table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.servers import ROOT

PACKAGES = ("leadcap", "web", "cli")
DOC = ROOT / "docs" / "architecture.md"
HEADER = "| where | what it is for |\n| --- | --- |\n"


def first_sentence(path: Path) -> str:
    """The first sentence of a module's docstring, on one line."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    match = re.match(r"(.+?[.!?])(\s|$)", paragraph)
    return (match.group(1) if match else paragraph).replace("|", "\\|")


def rows(folder: Path) -> list[str]:
    """The folder's row, its modules' rows, then each subfolder's, depth first."""
    where = folder.relative_to(ROOT).as_posix()
    out = [f"| `{where}/` | {first_sentence(folder / '__init__.py')} |"]
    for module in sorted(folder.glob("*.py")):
        if module.name not in ("__init__.py", "__main__.py"):
            out.append(f"| `{where}/{module.name}` | {first_sentence(module)} |")
    for sub in sorted(p for p in folder.iterdir() if (p / "__init__.py").is_file()):
        out += rows(sub)
    return out


def layout_table() -> str:
    return HEADER + "".join(row + "\n" for package in PACKAGES for row in rows(ROOT / package))


def documented_table() -> str:
    text = DOC.read_text()
    table = text[text.index(HEADER) :]
    return table[: table.index("\n\n") + 1]


def test_the_layout_table_is_the_tree() -> None:
    assert documented_table() == layout_table(), "run `python -m tests.test_layout` and paste its table"


def test_every_module_has_a_row_and_every_row_a_module() -> None:
    listed = set(re.findall(r"^\| `([^`]+)` \|", documented_table(), re.MULTILINE))
    present = {
        p.relative_to(ROOT).as_posix() + ("/" if p.name == "__init__.py" else "")
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if "node_modules" not in p.parts and p.name != "__main__.py"
    }
    present = {p.removesuffix("__init__.py/") for p in present}
    assert listed == present


if __name__ == "__main__":
    print(layout_table(), end="")
