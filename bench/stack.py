"""The platform under test, started the way production runs it, and stopped whatever happens.

    stores   PostgreSQL + Redis: the machine's own (a fresh database, a dedicated Redis db) or
             embedded ones (leadcap.ops.embedded); MongoDB: embedded SecantusDB unless a URL is given
    web      `leadcap serve --workers N` (Sanic's manager plus N worker processes), or several
             `leadcap serve --workers 1` processes on their own ports, each as if it were a host
    workers  K separate `leadcap worker` processes
    shards   with embedded stores, several Redis servers (`shards=`); `use_shards(n)` gives the
             web and workers the first n of them in LEADCAP_REDIS_URL

Every process is started in its own session with PR_SET_PDEATHSIG, recorded, and stopped in
reverse order by `Stack.close()` (SIGTERM to its process group, SIGKILL after a grace period),
which run.py calls from a `finally`, so Ctrl-C or an error leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nginxconf  # noqa: E402  (bench/, on sys.path like the other harness modules)

from bench.harness import SYSTEM_PG, answers  # noqa: E402
from leadcap import keys  # noqa: E402
from leadcap import settings as settings_module  # noqa: E402
from leadcap.ops import embedded  # noqa: E402
from leadcap.stores.mongo import Mongo  # noqa: E402

# Another db when several engineers bench on one machine at once (they would flush each other).
SYSTEM_REDIS = os.environ.get("LEADCAP_BENCH_REDIS", "redis://127.0.0.1:6379/9")


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def _fresh_request_logs(url: str) -> None:
    """An empty request-log collection with the indexes the web tier gives it."""
    # Generous timeouts: SecantusDB may still be working through the last run's writes.
    mongo = Mongo.open(url, timeout_ms=60_000)
    try:
        await mongo.logs_for_tests().drop()
        await mongo.ensure_indexes(ttl_days=settings_module.parse({}).request_log_ttl_days)
    finally:
        await mongo.close()


def _sql(url: str, *statements: str) -> list[Any]:
    async def go() -> list[Any]:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            return [await conn.fetch(s) for s in statements]
        finally:
            await conn.close()

    return asyncio.run(go())


@dataclass
class Proc:
    """A process this harness started, stopped through its process group."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0  # where a web process listens

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 20.0) -> None:
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)
        # Sanic's worker processes share the group; make sure none outlives its manager.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _leadcap(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "cli", *args],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the harness, which stops this in order
            preexec_fn=embedded.die_with_parent(signal.SIGTERM),  # noqa: PLW1509
        )
    finally:
        out.close()


# ---- the edge: Debian's nginx with the repo's nginx.conf -----------------------------------
NGINX = Path("/usr/sbin/nginx")


def render_nginx(
    source: Path,
    folder: Path,
    *,
    listen_port: int,
    tls_port: int,
    upstream: str,
    assets_root: Path,
    page_root: Path,
) -> Path:
    # every line formatted and written, as shipped, but not kept (wrk's would fill the disk);
    # a self-signed certificate: wrk speaks HTTPS, as browsers reach the edge, and verifies nothing
    (folder / "acme").mkdir(parents=True, exist_ok=True)
    return nginxconf.render(
        source,
        folder,
        listen_port=listen_port,
        tls_port=tls_port,
        certificate=nginxconf.self_signed(folder / "tls"),
        upstream=upstream,
        assets_root=assets_root,
        page_root=page_root,
        acme_root=folder / "acme",
        access_log="/dev/null",
    )


def start_nginx(conf: Path, port: int) -> Proc:
    folder = conf.parent
    check = subprocess.run(
        [str(NGINX), "-t", "-q", "-p", str(folder), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode:
        raise RuntimeError(f"nginx -t refused {conf}:\n{check.stderr}")
    log = folder / "stderr.log"
    with log.open("ab") as out:
        popen = subprocess.Popen(
            [str(NGINX), "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=embedded.die_with_parent(signal.SIGTERM),  # noqa: PLW1509
        )
    proc = Proc("nginx", popen, log)
    deadline = time.monotonic() + 15
    while not answers(f"http://127.0.0.1:{port}"):
        if not proc.alive() or time.monotonic() > deadline:
            proc.stop()
            raise RuntimeError("nginx did not start:\n" + (folder / "error.log").read_text(errors="replace"))
        time.sleep(0.05)
    return proc


def nginx_pids(proc: Proc) -> list[int]:
    """The master and its workers (the workers do the serving)."""
    with contextlib.suppress(psutil.Error):
        master = psutil.Process(proc.pid)
        return [proc.pid, *(c.pid for c in master.children())]
    return []


@dataclass
class Stack:
    workdir: Path
    stores: str = "auto"  # auto | system | embedded
    mongo_url: str | None = None
    settings: dict[str, str] = field(default_factory=dict)  # extra LEADCAP_* for web and workers
    shards: int = 1  # Redis servers to start (several only with embedded stores)
    database_url: str = ""
    redis_url: str = ""  # LEADCAP_REDIS_URL as the web and workers get it: the shards in use
    redis_urls: list[str] = field(default_factory=list)  # every Redis server started
    shards_in_use: int = 1
    kind: dict[str, str] = field(default_factory=dict)
    _admin_url: str | None = None
    _db_name: str | None = None
    _children: list[embedded.Child] = field(default_factory=list)
    _shard_children: list[embedded.Child] = field(default_factory=list)
    web: Proc | None = None
    hosts: list[Proc] = field(default_factory=list)  # web processes, each as if on its own host
    workers: list[Proc] = field(default_factory=list)
    port: int = 0
    web_workers: int = 1
    edge: Proc | None = None  # nginx, during the edge phase

    # ---- stores -------------------------------------------------------------------------
    def start_stores(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        use_system = self.stores == "system" or (
            self.stores == "auto" and answers(SYSTEM_PG) and answers(SYSTEM_REDIS)
        )
        if use_system:
            if self.shards > 1:
                raise RuntimeError("several Redis shards need embedded stores (the machine has one Redis)")
            admin, self.redis_urls = SYSTEM_PG, [SYSTEM_REDIS]
            self.kind.update(postgres="system 127.0.0.1:5432", redis=f"system {SYSTEM_REDIS}")
        else:
            pg = embedded.start_postgres(self.workdir / "stores")
            self._children.append(pg)
            for i in range(self.shards):  # appendonly yes, everysec; each its own folder and password
                rd = embedded.start_redis(self.workdir / "stores" / (f"shard-{i}" if i else ""))
                self._children.append(rd)
                self._shard_children.append(rd)
            admin, self.redis_urls = pg.url, [rd.url for rd in self._shard_children]
            mask = settings_module.mask_url  # the report is published: no password in it
            self.kind.update(
                postgres=f"embedded {mask(pg.url)}",
                redis=", ".join(f"embedded valkey {mask(url)} (AOF)" for url in self.redis_urls),
            )
        self.use_shards(1)
        if self.mongo_url:
            self.kind["mongo"] = self.mongo_url
        else:
            mongo = embedded.start_mongo(self.workdir / "stores")
            self._children.append(mongo)
            self.mongo_url = with_database(mongo.url, "leadcap_bench")
            self.kind["mongo"] = f"embedded SecantusDB {settings_module.mask_url(mongo.url)}"
        self._db_name = f"leadcap_bench_{uuid.uuid4().hex[:10]}"
        _sql(admin, f'CREATE DATABASE "{self._db_name}"')
        self._admin_url = admin
        self.database_url = with_database(admin, self._db_name)
        done = subprocess.run(
            [sys.executable, "-m", "cli", "migrate"],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"leadcap migrate failed:\n{done.stdout}\n{done.stderr}")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCAP_")}
        env.update(
            {
                "LEADCAP_DATABASE_URL": self.database_url,
                "LEADCAP_REDIS_URL": self.redis_url,
                "LEADCAP_MONGO_URL": self.mongo_url or "",
                "LEADCAP_DATA_DIR": str(self.workdir / "data"),
                "LEADCAP_LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.settings)
        return env

    def use_shards(self, count: int) -> None:
        """The web and workers started from now on see the first `count` Redis servers."""
        self.shards_in_use = count
        self.redis_url = ", ".join(self.redis_urls[:count])

    def shard_urls(self) -> list[str]:
        return self.redis_urls[: self.shards_in_use]

    def redis(self, shard: int = 0) -> redis.Redis:
        """A client of one shard; the first holds every key tied to no phone (heartbeats)."""
        return redis.Redis.from_url(self.redis_urls[shard])

    def shard_pids(self) -> list[list[int]]:
        """Each embedded Redis server's process, in LEADCAP_REDIS_URL's order."""
        return [[child.process.pid] for child in self._shard_children]

    def reset_data(self, *, request_logs: bool = True) -> None:
        """Every run starts from the same state: flush the bench Redis db, empty the lead tables
        and drop the request logs (SecantusDB's inserts and its TTL sweep grow dearer with the
        collection, so a run would otherwise pay for the ones before it). Only drop them while
        no web process runs: SecantusDB can hang re-creating the indexes of a collection that is
        being dropped and written to at once."""
        for i in range(len(self.redis_urls)):
            with self.redis(i) as r:
                r.flushdb()
        _sql(self.database_url, "TRUNCATE submissions, leads, lead_status_changes CASCADE")
        if request_logs and self.mongo_url:
            asyncio.run(_fresh_request_logs(self.mongo_url))

    def backlog(self) -> int:
        """Submissions queued and not yet written, over the shards in use."""
        total = 0
        for i in range(len(self.shard_urls())):
            with self.redis(i) as r:
                total += int(r.xlen(keys.LEAD_STREAM) or 0)
        return total

    def sql(self, *statements: str) -> list[Any]:
        return _sql(self.database_url, *statements)

    def store_pids(self) -> dict[str, list[int]]:
        """The stores' processes: ours (embedded children and their children), or the machine's
        own PostgreSQL (user postgres) and Redis (read-only, for the CPU breakdown)."""
        out: dict[str, list[int]] = {}
        for child in self._children:
            name = {"postgres": "postgres", "redis": "redis", "mongo": "mongo"}.get(child.name, child.name)
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(child.process.pid)
                out.setdefault(name, []).extend([proc.pid, *(c.pid for c in proc.children(recursive=True))])
        if "postgres" not in out:
            out["postgres"] = pids_named("postgres", user="postgres")
        if "redis" not in out:
            out["redis"] = pids_named("redis-server")
        return out

    # ---- web and workers ----------------------------------------------------------------
    def _spawn_web(self, name: str, workers: int) -> Proc:
        port = embedded.free_port()
        log = self.workdir / f"{name}.log"
        popen = _leadcap(
            ["serve", "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port)],
            self.env(),
            log,
        )
        return Proc(name, popen, log, port)

    def start_web(self, workers: int) -> None:
        self.web_workers = workers
        self.web = self._spawn_web("web", workers)
        self.port = self.web.port
        _wait_serving(self.web, workers)

    def start_hosts(self, count: int) -> None:
        """`count` web processes (`leadcap serve --workers 1`), each on its own port as if it ran
        on a host of its own; they start together."""
        started = [self._spawn_web(f"host-{len(self.hosts) + i}", 1) for i in range(count)]
        self.hosts.extend(started)
        for proc in started:
            _wait_serving(proc, 1)

    def stop_hosts(self) -> None:
        for proc in self.hosts:
            proc.stop()
        self.hosts.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def web_pids(self) -> list[int]:
        """The Sanic worker processes (the ones that serve requests), not the manager; with
        --workers 1 Sanic serves from the one process it has."""
        return _serving_pids(self.web, self.web_workers) if self.web else []

    def start_workers(self, count: int) -> None:
        for i in range(count):
            log = self.workdir / f"worker-{len(self.workers)}.log"
            self.workers.append(Proc(f"worker-{i}", _leadcap(["worker"], self.env(), log), log))

    def workers_ready(self) -> int:
        """How many workers have published a heartbeat (they do so once their pools are open)."""
        with self.redis(0) as r:
            return int(r.zcount(keys.WORKERS, time.time() - keys.HEARTBEAT_TTL_S, "+inf"))

    def stop_workers(self) -> None:
        for proc in self.workers:
            proc.stop(grace=45)
        self.workers.clear()

    def stop_web(self) -> None:
        if self.web:
            self.web.stop()
            self.web = None

    def close(self) -> None:
        """Stop everything this stack started, workers first, stores last; drop the database."""
        if self.edge:
            with contextlib.suppress(Exception):
                self.edge.stop()
            self.edge = None
        with contextlib.suppress(Exception):
            self.stop_workers()
        with contextlib.suppress(Exception):
            self.stop_web()
        with contextlib.suppress(Exception):
            self.stop_hosts()
        if self._admin_url and self._db_name:
            with contextlib.suppress(Exception):
                _sql(self._admin_url, f'DROP DATABASE IF EXISTS "{self._db_name}" WITH (FORCE)')
            self._db_name = None
        if self.kind.get("redis", "").startswith("system"):
            with contextlib.suppress(Exception), self.redis() as r:
                r.flushdb()
        for child in reversed(self._children):
            with contextlib.suppress(Exception):
                child.stop()
        self._children.clear()
        self._shard_children.clear()
        shutil.rmtree(self.workdir / "stores", ignore_errors=True)  # embedded data; logs stay


def _serving_pids(web: Proc, workers: int) -> list[int]:
    if not web.alive():
        return []
    if workers == 1:
        return [web.pid]
    found = []
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(web.pid).children(recursive=True):
            # a serving worker holds the listening socket; Sanic's shared-state manager
            # process and multiprocessing's resource tracker do not
            with contextlib.suppress(psutil.Error):
                if any(
                    c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == web.port
                    for c in child.net_connections("tcp")
                ):
                    found.append(child.pid)
    return found


def _wait_serving(web: Proc, workers: int, seconds: float = 90) -> None:
    """Return once `web` answers its health check with every Sanic worker up (the manager starts
    them together; wait for the count)."""
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not web.alive():
            raise RuntimeError("leadcap serve exited at start:\n" + web.tail())
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{web.port}/api/health/", timeout=2) as resp:
                resp.read()
            if len(_serving_pids(web, workers)) >= workers:
                return
        time.sleep(0.2)
    raise RuntimeError(f"leadcap serve did not answer within {seconds:g} s:\n" + web.tail())


# ---- process figures ------------------------------------------------------------------------
def peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the process's peak resident set size so far, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    out: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
    return out


def pids_named(*names: str, user: str | None = None) -> list[int]:
    """Processes of the machine's own stores (read-only: used for the CPU breakdown)."""
    out = []
    for p in psutil.process_iter(["name", "username"]):
        if user and p.info["username"] != user:
            continue
        if p.info["name"] and any(p.info["name"].startswith(n) for n in names):
            out.append(p.pid)
    return out


@contextlib.contextmanager
def cpu_meter(find: Callable[[], dict[str, list[int]]]) -> Iterator[dict[str, float]]:
    """Cores each group of processes used inside the block (CPU seconds / wall seconds), and the
    whole machine's. `find` is asked again at the end, so processes started meanwhile count in
    full; one that exited meanwhile is missed (PostgreSQL backends live as long as the pools)."""
    result: dict[str, float] = {}
    before = {name: cpu_by_pid(pids) for name, pids in find().items()}
    machine = psutil.cpu_times()
    started = time.monotonic()
    try:
        yield result
    finally:
        wall = time.monotonic() - started
        after = psutil.cpu_times()
        for name, pids in find().items():
            now = cpu_by_pid(pids)
            was = before.get(name, {})
            used = sum(cpu - was.get(pid, 0.0) for pid, cpu in now.items())
            result[name] = round(used / wall, 3)
        busy = (after.user + after.system + after.nice + after.irq + after.softirq) - (
            machine.user + machine.system + machine.nice + machine.irq + machine.softirq
        )
        result["machine"] = round(busy / wall, 3)
