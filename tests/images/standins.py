"""Test-only stand-ins for the base images the Dockerfile names, since no container registry is
reachable here: made from Debian packages (standins/bookworm.sh debootstraps a minimal bookworm)
and tagged under the official names, so that the Dockerfile builds unchanged. Each is a few lines
in standins/, whose header says how it differs from the official image. A stand-in is cached by
its tag: a label records a digest of what it was built from, and a second run reuses it."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.images.engine import ENV, docker

HERE = Path(__file__).resolve().parent / "standins"
LABEL = "org.leadcap.standin"
BASE = "leadcap-standin/bookworm:12"  # our own name: the Dockerfile does not name it
MIRROR = "http://deb.debian.org/debian"
# The host's bundle: this machine reaches the registries through an authority only it holds.
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BOOKWORM_PYTHON = "3.11"  # a stand-in keeps the official image's version: bookworm has only this one


@dataclass
class Made:
    """One stand-in: its tag, and whether this run built it (with how long it took)."""

    tag: str
    how: str  # "built", "cached" or "official image" (one not made here: left as it is)
    seconds: float
    size: int


def base_images(dockerfile: Path) -> list[str]:
    """The images the Dockerfile's FROM lines name, stage names left out, in order."""
    stages: set[str] = set()
    images: list[str] = []
    for match in re.finditer(
        r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", dockerfile.read_text(), re.MULTILINE | re.IGNORECASE
    ):
        image, stage = match.group(1), match.group(2)
        if image not in stages and image not in images:
            images.append(image)
        if stage:
            stages.add(stage)
    return images


def recipe(tag: str) -> tuple[Path, dict[str, str]]:
    """The stand-in Dockerfile for an official tag, and its build arguments."""
    name, _, version = tag.partition(":")
    if name == "python":
        if not version.startswith(BOOKWORM_PYTHON + "-") or "bookworm" not in version:
            raise AssertionError(f"no stand-in for {tag}: Debian bookworm has Python {BOOKWORM_PYTHON} only")
        return HERE / "python.Dockerfile", {}
    if name == "node":
        major = version.split("-")[0]
        if not major.isdigit():
            raise AssertionError(f"no stand-in for {tag}: name a major version (node:24-…)")
        return HERE / "node.Dockerfile", {"NODE_MAJOR": major}
    if name == "nginx":
        return HERE / "nginx.Dockerfile", {}
    raise AssertionError(f"no stand-in for {tag}: add one to {HERE}")


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _ca() -> bytes:
    return CA_BUNDLE.read_bytes() if CA_BUNDLE.exists() else b""


def _label(tag: str) -> str | None:
    """The stand-in label of an image, "" for an image that is not a stand-in, None if absent."""
    found = docker(
        "image", "inspect", "--format", f'{{{{index .Config.Labels "{LABEL}"}}}}', tag, check=False
    )
    if found.returncode != 0:
        return None
    return found.stdout.strip().replace("<no value>", "")


def _size(tag: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", tag).stdout)


def _image_id(tag: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()


def make_base(work: Path) -> Made:
    """A minimal bookworm from debootstrap, imported as BASE (a minute, once)."""
    script = HERE / "bookworm.sh"
    digest = _digest(script.read_bytes(), MIRROR, _ca())
    if _label(BASE) == digest:
        return Made(BASE, "cached", 0.0, _size(BASE))
    started = time.monotonic()
    rootfs = work / "bookworm-rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    args = ["sh", str(script), str(rootfs), MIRROR] + ([str(CA_BUNDLE)] if CA_BUNDLE.exists() else [])
    made = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False)
    assert made.returncode == 0, f"{script} failed:\n{made.stdout}\n{made.stderr}"
    with subprocess.Popen(
        ["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE
    ) as tar:
        imported = subprocess.run(
            [
                "docker",
                "import",
                "--change",
                'CMD ["bash"]',
                "--change",
                f"LABEL {LABEL}={digest}",
                "-",
                BASE,
            ],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            env=ENV,
            timeout=300,
            check=False,
        )
    assert imported.returncode == 0, imported.stderr
    shutil.rmtree(rootfs, ignore_errors=True)
    return Made(BASE, "built", time.monotonic() - started, _size(BASE))


def make(tag: str, made: dict[str, Made]) -> Made:
    """The stand-in for an official tag, on BASE (and the Python stand-in, for Node's wheel)."""
    label = _label(tag)
    if label == "":  # an official image is here after all: use it as it is
        return Made(tag, "official image", 0.0, _size(tag))
    dockerfile, args = recipe(tag)
    args = {"BASE": BASE, **args}
    if dockerfile.name == "node.Dockerfile":
        args["PYTHON"] = next(t for t in made if t.startswith("python:"))
    parents = [_image_id(args[name]) for name in ("BASE", "PYTHON") if name in args]  # rebuilt: so is this
    digest = _digest(dockerfile.read_bytes(), repr(sorted(args.items())), *parents)
    if label == digest:
        return Made(tag, "cached", 0.0, _size(tag))
    started = time.monotonic()
    build_args = [part for key, value in args.items() for part in ("--build-arg", f"{key}={value}")]
    docker(
        "build", "--quiet", "--label", f"{LABEL}={digest}", *build_args,
        "-f", str(dockerfile), "-t", tag, str(HERE),
    )  # fmt: skip
    return Made(tag, "built", time.monotonic() - started, _size(tag))


def make_all(dockerfile: Path, work: Path) -> dict[str, Made]:
    """Every stand-in the Dockerfile needs, Python first (Node's is made with it)."""
    made: dict[str, Made] = {}
    tags = base_images(dockerfile)
    needs_python = any(t.startswith("node:") for t in tags) and not any(t.startswith("python:") for t in tags)
    assert not needs_python, "the Node stand-in is made with the Python one: name a python image too"
    ordered = sorted(tags, key=lambda t: not t.startswith("python:"))
    if any(_label(t) != "" for t in ordered):  # some stand-in is needed: the base first
        made[BASE] = make_base(work)
    for tag in ordered:
        made[tag] = make(tag, made)
    return made
