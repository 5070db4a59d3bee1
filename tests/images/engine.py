"""The Docker engine the image checks drive: one that already answers, or `dockerd` started
for the session (as root) and stopped again at its end."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from leadcap.ops.embedded import die_with_parent

# The legacy builder: Debian's engine has no BuildKit front end here (no buildx, and the
# `# syntax=` line would make BuildKit pull an image from a registry this machine cannot reach).
ENV = {**os.environ, "DOCKER_BUILDKIT": "0"}
START_TIMEOUT_S = 60


def docker(
    *args: str, timeout: float = 900, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the docker client; with `check`, fail with its output unless it exits 0."""
    done = subprocess.run(
        ["docker", *args], input=stdin, capture_output=True, text=True, timeout=timeout, env=ENV, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


def answers() -> bool:
    if not shutil.which("docker"):
        return False
    return docker("info", "--format", "{{.ServerVersion}}", timeout=30, check=False).returncode == 0


@contextlib.contextmanager
def running(log: Path) -> Iterator[str]:
    """An engine for the block: the one that answers, else a `dockerd` of our own (which dies with
    this process, and is stopped when the block ends). Yields how it came to be."""
    if answers():
        yield "already running"
        return
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if os.geteuid() != 0 or not Path(dockerd).exists():
        raise RuntimeError(
            "no Docker engine answers, and only root can start one (nox -s images installs it)"
        )
    with log.open("ab") as out:
        process = subprocess.Popen(
            [dockerd],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),  # noqa: PLW1509
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not answers():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dockerd did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield "started for this session"
    finally:
        process.terminate()  # dockerd stops its containers and its containerd
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
