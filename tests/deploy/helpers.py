"""What the deployment tests share: docker-compose.yml as Compose reads it, its commands run on
this machine, and a real nginx started from the project's nginx.conf with test paths."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
import pytest

from leadcap.ops import embedded
from tests.servers import ROOT, stop_process

sys.path.insert(0, str(ROOT / "bench"))
import nginxconf

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_DOCKER = ROOT / ".env.docker"
NGINX_CONF = ROOT / "nginx.conf"
DOCKERFILE = ROOT / "Dockerfile"
NGINX = Path("/usr/sbin/nginx")

_addresses = itertools.count(1)


def client_ip() -> str:
    """A loopback source address used by no other test (never 127.0.0.1: that is nginx)."""
    n = next(_addresses)
    return f"127.40.{n // 250}.{n % 250 + 1}"


def tool(name: str) -> str:
    """A tool the deploy checks need, from PATH or next to this Python (the nox session's venv)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        pytest.fail(f"{name} is not installed: `nox -s deploy` installs it (see noxfile.py)")
    return found


def compose_config() -> dict[str, Any]:
    """The compose model after Compose has parsed, merged and validated the file."""
    compose = [tool("docker-compose"), "-f", str(COMPOSE_FILE), "--env-file", str(ENV_DOCKER)]
    result = subprocess.run(
        [*compose, "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def unescape(text: str) -> str:
    """`$$` is Compose's escape for a `$` the container's shell sees."""
    return text.replace("$$", "$")


def command_argv(command: list[str]) -> list[str]:
    """A service `command` or a healthcheck `test` as the argv Docker would run."""
    if command and command[0] == "CMD":
        command = command[1:]
    elif command and command[0] == "CMD-SHELL":
        command = ["sh", "-c", command[1]]
    return [unescape(part) for part in command]


def with_venv_path(env: dict[str, str]) -> dict[str, str]:
    """`leadcap` and `python` resolve to this interpreter's venv, as /opt/leadcap/bin does in the image."""
    return {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', os.defpath)}"}


@dataclass
class Running:
    """A command of docker-compose.yml running here, its output in a log file."""

    argv: list[str]
    popen: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, argv: list[str], env: dict[str, str], log: Path, cwd: Path) -> Running:
        with log.open("ab") as out:
            popen = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        return cls(argv, popen, log)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 45) -> None:
        stop_process(self.popen, sig, timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until_answers(url: str, process: Running, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.alive(), f"{process.argv} exited:\n{process.output()}"
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=2)
            return
        time.sleep(0.1)
    process.stop()
    raise RuntimeError(f"{process.argv} did not answer {url}:\n{process.output()}")


def render_nginx(
    folder: Path,
    *,
    listen_port: int,
    tls_port: int,
    upstream: str,
    assets_root: Path,
    page_root: Path | None = None,
    changes: dict[str, str] | None = None,
) -> Path:
    """nginx.conf with this machine's paths and addresses, a self-signed certificate for
    127.0.0.1 in `folder`/tls and an empty ACME webroot in `folder`/acme; everything else as
    shipped.

    Each substituted line must appear exactly once, so nginx.conf cannot drift away from what
    this test runs without the test saying so."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "acme").mkdir(exist_ok=True)
    return nginxconf.render(
        NGINX_CONF,
        folder,
        listen_port=listen_port,
        tls_port=tls_port,
        certificate=nginxconf.self_signed(folder / "tls"),
        upstream=upstream,
        assets_root=assets_root,
        # LEADCAP_EDGE_DIR's folder; without one, a folder with no page (nginx proxies GET /).
        page_root=page_root or folder / "no-page",
        acme_root=folder / "acme",
        access_log=str(folder / "access.log"),
        changes=changes,
    )


@dataclass
class Nginx:
    """A running nginx: `url` is its HTTPS side (what browsers use), `http_url` its port 80."""

    url: str
    http_url: str
    tls: ssl.SSLContext  # trusts the certificate in `folder`/tls
    process: subprocess.Popen[bytes]
    folder: Path

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful shutdown
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def trusting(cert: Path) -> ssl.SSLContext:
    """A client context that trusts `cert` alone, with the defaults' protocols and checks."""
    return ssl.create_default_context(cafile=str(cert))


@contextlib.contextmanager
def nginx(conf: Path, http_port: int, tls_port: int) -> Iterator[Nginx]:
    """The Debian nginx in the foreground with `conf`, until the block ends."""
    if not NGINX.exists():
        pytest.fail("nginx is not installed: `nox -s deploy` installs Debian's nginx (apt-get install nginx)")
    folder = conf.parent
    check = subprocess.run(
        [str(NGINX), "-t", "-q", "-p", str(folder), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    with (folder / "stderr.log").open("ab") as out:
        process = subprocess.Popen(
            [str(NGINX), "-p", str(folder), "-c", str(conf), "-g", "daemon off;"], stdout=out, stderr=out
        )
    running = Nginx(
        f"https://127.0.0.1:{tls_port}",
        f"http://127.0.0.1:{http_port}",
        trusting(folder / "tls" / "tls.crt"),
        process,
        folder,
    )
    try:
        for port in (http_port, tls_port):
            wait_for_port(port, process, folder / "error.log")
        yield running
    finally:
        running.stop()


@contextlib.contextmanager
def edge_nginx(
    folder: Path,
    *,
    upstream: str,
    assets_root: Path,
    page_root: Path | None = None,
    changes: dict[str, str] | None = None,
) -> Iterator[Nginx]:
    """nginx.conf as shipped (render_nginx) on free ports, running until the block ends."""
    http_port, tls_port = embedded.free_port(), embedded.free_port()
    conf = render_nginx(
        folder,
        listen_port=http_port,
        tls_port=tls_port,
        upstream=upstream,
        assets_root=assets_root,
        page_root=page_root,
        changes=changes,
    )
    with nginx(conf, http_port, tls_port) as running:
        yield running


def edge_client(edge: Nginx, ip: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """A browser-like client of the edge over HTTPS, its connections from `ip` (a fresh loopback
    address by default), trusting the edge's certificate."""
    transport = httpx.AsyncHTTPTransport(local_address=ip or client_ip(), verify=edge.tls)
    return httpx.AsyncClient(base_url=edge.url, transport=transport, timeout=10, **kwargs)


POSTGRES_INIT = ROOT / "deploy" / "postgres" / "10-leadcap-roles.sh"
MONGO_INIT = ROOT / "deploy" / "mongo" / "10-leadcap-user.js"
ENV_MIGRATE = ROOT / ".env.docker.migrate"
ENV_STORES = ROOT / ".env.docker.stores"


@dataclass
class Roles:
    """The PostgreSQL roles deploy/postgres/10-leadcap-roles.sh made, as URLs of one database."""

    owner: str
    owner_url: str
    app: str
    app_url: str


def _login(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{user}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


def make_roles(database_url: str) -> Roles:
    """Run the postgres image's init script, as the image would (psql as the superuser, on the
    new database), with role names of this run's own: roles belong to the whole server."""
    parts = urlsplit(database_url)
    suffix = secrets.token_hex(4)
    owner, app = f"leadcap_owner_{suffix}", f"leadcap_app_{suffix}"
    passwords = {owner: secrets.token_hex(16), app: secrets.token_hex(16)}
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_DB": parts.path.lstrip("/"),
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "DB_OWNER_USER": owner,
        "DB_OWNER_PASSWORD": passwords[owner],
        "DB_APP_USER": app,
        "DB_APP_PASSWORD": passwords[app],
    }
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    tool("psql")
    result = subprocess.run(
        ["sh", str(POSTGRES_INIT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return Roles(
        owner, _login(database_url, owner, passwords[owner]), app, _login(database_url, app, passwords[app])
    )


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, f"exited:\n{log.read_text(errors='replace')}"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        assert time.monotonic() < deadline, f"did not listen:\n{log.read_text(errors='replace')}"
        time.sleep(0.05)


def without_policy(page: str) -> str:
    """The page as built, without the image policy leadcap puts first in its <head>."""
    return re.sub(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">', "", page, count=1)
