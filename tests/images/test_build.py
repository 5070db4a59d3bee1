"""Every stage of the Dockerfile, built for real on the stand-in bases, and what the images
promise: the runtime runs as its non-root user, has no compiler and no Node, and stays small;
the edge carries the repository's nginx.conf and the same built assets as the runtime."""

from __future__ import annotations

import re
from typing import Any

from leadcap import __version__
from tests.deploy import helpers
from tests.images import standins
from tests.images.conftest import MB, Built, stage_names
from tests.images.engine import docker

# The runtime image's budget: the layers the Dockerfile adds (the venv and the built page), and
# the whole image on the stand-in Python base (141 MB; the official one is of the same order).
RUNTIME_ADDED_MAX_MB = 200
RUNTIME_MAX_MB = 350
COMPILERS_AND_NODE = ("cc", "gcc", "g++", "c++", "clang", "tcc", "node", "nodejs", "npm", "npx", "corepack")


def run(image: str, *argv: str, user: str | None = None) -> str:
    """`argv` in a throwaway container of `image` (its entrypoint bypassed), what it printed."""
    options = ["--user", user] if user else []
    return docker("run", "--rm", *options, "--entrypoint", argv[0], image, *argv[1:], timeout=120).stdout


def test_every_stage_builds(built: Built) -> None:
    assert list(built.seconds) == stage_names() == ["ui", "build", "edge", "runtime"]
    for stage, tag in built.tags.items():
        assert docker("image", "inspect", tag, check=False).returncode == 0, stage


def test_standins_keep_the_official_major_versions(made: dict[str, standins.Made]) -> None:
    for tag in made:
        name, _, version = tag.partition(":")
        if name == "python":
            assert run(tag, "python", "--version").startswith(f"Python {version.split('-')[0]}.")
        elif name == "node":
            assert run(tag, "node", "--version").startswith(f"v{version.split('-')[0]}.")
            assert run(tag, "npm", "--version").strip()


def test_runtime_runs_as_its_non_root_user(built: Built, compose: dict[str, Any]) -> None:
    image = built.tags["runtime"]
    configured = docker("image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip()
    assert configured and configured.split(":")[0] not in ("0", "root")
    for service in ("migrate", "web", "worker"):
        assert "user" not in compose["services"][service]  # the image's user is the one that runs
    assert run(image, "id", "-u").strip() == configured.split(":")[0]


def test_runtime_has_no_compiler_and_no_node(built: Built) -> None:
    image = built.tags["runtime"]
    found = run(image, "sh", "-c", f"for c in {' '.join(COMPILERS_AND_NODE)}; do command -v $c; done; true")
    assert found == "", found
    # Nor off the PATH: a compiler proper (cc1), a linker's assembler, a Node binary anywhere.
    stray = run(image, "find", "/", "-xdev", "-type", "f", "(", "-name", "cc1*", "-o", "-name", "as",
                "-o", "-name", "node", "-o", "-name", "*-linux-gnu-gcc*", ")", user="0")  # fmt: skip
    assert stray == "", stray
    assert "pip" not in run(image, "ls", "/opt/leadcap/bin").split()


def test_runtime_stays_under_its_size(built: Built, made: dict[str, standins.Made]) -> None:
    base = next(m for tag, m in made.items() if tag.startswith("python:"))
    size = built.sizes["runtime"]
    assert size - base.size < RUNTIME_ADDED_MAX_MB * MB, (
        f"the Dockerfile adds {(size - base.size) / MB:.0f} MB"
    )
    assert size < RUNTIME_MAX_MB * MB, f"{size / MB:.0f} MB"


def test_runtime_has_openssl_for_the_tls_bootstrap(built: Built) -> None:
    """docker-compose.yml's tls-bootstrap runs openssl in this image (the official Python image
    has it through Debian's ca-certificates)."""
    assert run(built.tags["runtime"], "openssl", "version").startswith("OpenSSL 3.")


def test_version_is_the_package_version(built: Built) -> None:
    assert run(built.tags["runtime"], "leadcap", "--version").strip() == f"leadcap {__version__}"


def test_edge_carries_nginx_conf_and_the_assets_of_the_same_build(built: Built) -> None:
    edge, runtime = built.tags["edge"], built.tags["runtime"]
    assert run(edge, "cat", "/etc/nginx/nginx.conf") == helpers.NGINX_CONF.read_text()
    edge_assets = run(edge, "ls", "/srv/leadcap/ui/assets").split()
    assert edge_assets == run(runtime, "ls", "/opt/leadcap/ui/assets").split()
    assert any(re.fullmatch(r"[\w-]+-[\w-]{8}\.js", name) for name in edge_assets), edge_assets
