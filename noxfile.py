"""Every check leadcap has. `nox` runs the default sessions (what CI runs); `nox -s bench` and
`nox -s chaos` are separate because they take minutes and load the machine."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests", "ui"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
UI = ROOT / "web" / "ui"
PYTHON = "3.11"


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy --strict on leadcap, web and cli."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The Python suite against real PostgreSQL, Redis-protocol and MongoDB-wire servers."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-m", "not browser", *session.posargs)


def ensure_chromium(session: nox.Session) -> None:
    if Path("/usr/bin/chromium").exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        session.run("apt-get", "update", "-qq", external=True)
        session.run("apt-get", "install", "-y", "-qq", "chromium", external=True)
        return
    session.error("Debian's chromium is needed: sudo apt-get install chromium")


@nox.session(python=PYTHON)
def ui(session: nox.Session) -> None:
    """Front end: npm ci, ESLint, Vitest, build with budgets, then the browser test in Chromium."""
    session.install("-e", ".[dev]")
    ensure_chromium(session)
    with session.chdir(UI):
        session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
        session.run("npm", "run", "lint", external=True)
        session.run("npm", "test", external=True)
        session.run("npm", "run", "build", external=True)
    session.run("pytest", "-m", "browser", "-s", *session.posargs)
