"""The leadcap benchmark: the platform as production runs it, driven by wrk.

    python bench/run.py                 # 3 runs + a profiling pass, ~10 minutes on 2 cores
    python bench/run.py --runs 1 --duration 5 --burst 20000 --no-profile   # a quick look

Each run starts `leadcap serve --workers N` afresh against the same stores, then:

  1. GET /            wrk, 64 connections, --duration seconds
  2. POST /api/leads/ wrk, 64 connections, --duration seconds, distinct valid numbers, with the
                      workers stopped (the web tier alone; what it accepts becomes the backlog)
  3. burst top-up     more POSTs until at least --burst (50,000) submissions are queued
  4. drain            K `leadcap worker` processes start; leads/s = backlog / (time from the
                      workers' first heartbeat to an empty stream with every row in PostgreSQL)
  5. paced            wrk at ~--paced-rate req/s (not saturated), workers running; 202-to-row
                      latency = submissions.processed_at - submitted_at (UUIDv7 time), p50/p99
  6. mixed            POST at 64 connections with the workers running (both tiers on the same
                      cores, as in production), and the end-to-end persisted rate
  7. peak RSS         VmHWM of every Sanic worker process and every `leadcap worker`

Every figure is the median of the runs, printed with its min-max spread; everything goes to
bench/results/<timestamp>.json. A final pass (unless --no-profile) samples the serving processes
under GET and under POST load and one worker while draining with py-spy, and ranks the functions.
Everything the harness started is stopped on exit, Ctrl-C, SIGTERM or error.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402
import spy as pyspy  # noqa: E402
import stack as stackmod  # noqa: E402
import versus as versusmod  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

console = Console(width=None if sys.stdout.isatty() else 150)

# The targets (2 cores, load generator included) and the Django/gunicorn/Celery reference.
TARGETS: dict[str, tuple[str, float]] = {
    "get_rps": (">=", 15_000),
    "get_p99_ms": ("<=", 20),
    "post_rps": (">=", 5_000),
    "post_p99_ms": ("<=", 50),
    "post_non_2xx": ("==", 0),
    "drain_leads_per_s": (">=", 5_000),
    "row_latency_p99_ms": ("<=", 1_000),
    "web_rss_mb": ("<=", 150),
    "worker_rss_mb": ("<=", 150),
}
REFERENCE: dict[str, str] = {
    "get_rps": "~2,000",
    "get_p99_ms": "48",
    "post_rps": "~230",
    "post_p99_ms": "~350",
    "drain_leads_per_s": "~210 (830 conn. reuse)",
    "mixed_persisted_per_s": "~145",
}
LABELS: dict[str, str] = {
    "get_rps": "GET /  req/s",
    "get_p50_ms": "GET /  p50 ms",
    "get_p99_ms": "GET /  p99 ms",
    "post_rps": "POST  req/s (workers stopped)",
    "post_p50_ms": "POST  p50 ms",
    "post_p99_ms": "POST  p99 ms",
    "post_non_2xx": "POST  non-2xx",
    "post_socket_errors": "POST  socket errors",
    "drain_backlog": "drain backlog (submissions)",
    "drain_leads_per_s": "drain leads/s",
    "paced_rps": "paced POST req/s",
    "row_latency_p50_ms": "202-to-row p50 ms (paced)",
    "row_latency_p99_ms": "202-to-row p99 ms (paced)",
    "mixed_post_rps": "POST req/s, workers running",
    "mixed_post_p99_ms": "POST p99 ms, workers running",
    "mixed_persisted_per_s": "persisted leads/s, end to end",
    "web_rss_mb": "peak RSS, web process (max) MB",
    "worker_rss_mb": "peak RSS, worker (max) MB",
}
for _phase, _what in (("get", "per GET"), ("post", "per POST"), ("drain", "per lead drained")):
    for _group in ("web", "workers", "redis", "postgres", "mongo"):
        LABELS[f"{_phase}_cpu_us_{_group}"] = f"CPU µs {_what}: {_group}"
# The edge phase: the same nginx (nginx.conf as shipped) answering three ways.
EDGE_WAYS = {
    "static": "nginx, a static file (the page's bytes under /assets/)",
    "counted": "GET / via nginx, counted browser (nginx's file)",
    "first": "GET / via nginx, first view (proxied to leadcap)",
}
for _way, _what in EDGE_WAYS.items():
    LABELS[f"edge_{_way}_rps"] = f"{_what} req/s"
    LABELS[f"edge_{_way}_p50_ms"] = f"{_what} p50 ms"
    LABELS[f"edge_{_way}_p99_ms"] = f"{_what} p99 ms"
    for _group in ("nginx", "web"):
        LABELS[f"edge_{_way}_cpu_us_{_group}"] = f"CPU µs per request, {_what}: {_group}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="measured runs (figures are their median)")
    p.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--web-workers", type=int, default=2, help="Sanic worker processes")
    p.add_argument("--workers", type=int, default=2, help="`leadcap worker` processes")
    p.add_argument("--burst", type=int, default=50_000, help="backlog the drain starts from")
    p.add_argument("--paced-rate", type=float, default=500, help="req/s of the not-saturated run")
    p.add_argument("--paced-duration", type=float, default=10)
    p.add_argument(
        "--paced-connections",
        type=int,
        default=32,
        help="each waits ~connections/rate s (less ~15 ms for the answer) between requests",
    )
    p.add_argument("--no-mixed", action="store_true", help="skip POST with the workers running")
    p.add_argument(
        "--no-edge", action="store_true", help="skip GET / through nginx (nginx.conf, /usr/sbin/nginx)"
    )
    p.add_argument(
        "--stores",
        choices=("auto", "system", "embedded"),
        default="auto",
        help="auto: this machine's PostgreSQL (:5432) and Redis (:6379/9) if they answer",
    )
    p.add_argument("--mongo-url", help="MongoDB for request logs (default: embedded SecantusDB)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="LEADCAP_X=VALUE",
        help="extra settings for the web and worker processes",
    )
    p.add_argument("--no-profile", action="store_true", help="skip the py-spy pass")
    p.add_argument(
        "--root",
        type=Path,
        default=stackmod.ROOT,
        help="the leadcap checkout to run (default: this one), to compare two trees",
    )
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument(
        "--no-snapshot",
        action="store_true",
        help="run the tree in place (default: a copy, so edits made meanwhile do not mix in)",
    )
    p.add_argument(
        "--report",
        type=Path,
        metavar="RESULT.json",
        help="print the tables of a saved result again (figures recomputed) and exit",
    )
    p.add_argument(
        "--versus",
        type=Path,
        metavar="ANCHOR_DIR",
        help="also run the Django/Celery anchor's bench.sh from this folder in every round "
        "(alternating which goes first) and print leadcap's figures as multiples of its",
    )
    p.add_argument(
        "--hold",
        action="store_true",
        help="start the stores, web and workers, print where they are, wait for Ctrl-C",
    )
    return p.parse_args(argv)


# ---- one run ----------------------------------------------------------------------------
def wait_for(predicate: Any, timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def post(
    s: stackmod.Stack, args: argparse.Namespace, wrk: str, numbers: loadgen.Numbers, **kw: Any
) -> loadgen.WrkResult:
    return loadgen.run_wrk(
        wrk,
        s.url,
        script="post.lua",
        duration_s=kw.pop("duration_s", args.duration),
        connections=kw.pop("connections", args.connections),
        threads=kw.pop("threads", args.threads),
        args=[numbers.start(), str(kw.pop("limit", 0))],
        **kw,
    )


def get(
    s: stackmod.Stack, args: argparse.Namespace, wrk: str, duration: float | None = None
) -> loadgen.WrkResult:
    return loadgen.run_wrk(
        wrk,
        s.url + "/",
        script="get.lua",
        duration_s=duration or args.duration,
        connections=args.connections,
        threads=args.threads,
    )


def groups(s: stackmod.Stack) -> dict[str, list[int]]:
    """Processes whose CPU the phases report."""
    g = {"web": s.web_pids(), "workers": [w.pid for w in s.workers], **s.store_pids()}
    return g


def top_up(
    s: stackmod.Stack, args: argparse.Namespace, wrk: str, numbers: loadgen.Numbers
) -> list[dict[str, Any]]:
    """POST (workers stopped) until the backlog holds at least --burst submissions."""
    runs = []
    for _ in range(5):
        if s.backlog() >= args.burst:
            break
        r = post(s, args, wrk, numbers, duration_s=300, until=lambda: s.backlog() >= args.burst)
        runs.append(r.as_dict())
    return runs


def drain(s: stackmod.Stack, args: argparse.Namespace) -> dict[str, Any]:
    backlog = s.backlog()
    s.start_workers(args.workers)
    if not wait_for(lambda: s.workers_ready() >= args.workers, 90, 0.02):
        raise RuntimeError("workers did not start:\n" + "\n".join(w.tail() for w in s.workers))
    started = time.monotonic()
    with stackmod.cpu_meter(lambda: groups(s)) as cpu:
        emptied = wait_for(lambda: s.backlog() == 0, 600, 0.05)
        if not emptied:
            raise RuntimeError(f"the stream did not drain within 600 s (left: {s.backlog()})")
        wait_for(lambda: s.sql("SELECT count(*) FROM submissions")[0][0]["count"] >= backlog, 30, 0.05)
    elapsed = time.monotonic() - started
    rows, span = s.sql(
        "SELECT count(*) FROM submissions",
        "SELECT extract(epoch FROM max(processed_at) - min(processed_at)) AS s FROM submissions",
    )
    count = rows[0]["count"]
    return {
        "backlog": backlog,
        "rows": count,
        "seconds": round(elapsed, 3),
        "leads_per_s": round(count / elapsed, 1),
        "db_span_s": float(span[0]["s"] or 0),
        "cpu_cores": cpu,
    }


def row_latency(s: stackmod.Stack, since: datetime) -> dict[str, float]:
    lag = "extract(epoch FROM processed_at - submitted_at)"
    rows = s.sql(
        "SELECT count(*) AS n,"
        f" percentile_cont(0.5) WITHIN GROUP (ORDER BY {lag}) AS p50,"
        f" percentile_cont(0.99) WITHIN GROUP (ORDER BY {lag}) AS p99,"
        f" max({lag}) AS max"
        f" FROM submissions WHERE submitted_at >= '{since.isoformat()}'"
    )[0][0]
    return {
        "n": rows["n"],
        "p50_ms": round(float(rows["p50"] or 0) * 1000, 1),
        "p99_ms": round(float(rows["p99"] or 0) * 1000, 1),
        "max_ms": round(float(rows["max"] or 0) * 1000, 1),
    }


def one_run(index: int, s: stackmod.Stack, args: argparse.Namespace, wrk: str) -> dict[str, Any]:
    numbers = loadgen.Numbers()
    run: dict[str, Any] = {"index": index}
    s.reset_data()
    s.start_web(args.web_workers)
    # warm-up: connections, pools, scripts, phone metadata; then forget what it queued
    get(s, args, wrk, duration=2)
    post(s, args, wrk, numbers, duration_s=2)
    s.reset_data(request_logs=False)  # the web is up: leave its log collection be

    console.print(f"  run {index}: GET / …")
    with stackmod.cpu_meter(lambda: groups(s)) as cpu:
        r = get(s, args, wrk)
    run["get"] = {**r.as_dict(), "cpu_cores": cpu}

    console.print(f"  run {index}: POST /api/leads/ (workers stopped) …")
    with stackmod.cpu_meter(lambda: groups(s)) as cpu:
        r = post(s, args, wrk, numbers)
    run["post"] = {**r.as_dict(), "cpu_cores": cpu, "queued": s.backlog()}

    console.print(f"  run {index}: burst to {args.burst:,} queued …")
    run["top_up"] = top_up(s, args, wrk, numbers)
    console.print(f"  run {index}: drain {s.backlog():,} with {args.workers} worker(s) …")
    run["drain"] = drain(s, args)

    console.print(f"  run {index}: paced ~{args.paced_rate:g} req/s …")
    since = datetime.now(UTC)
    delay = max(1.0, 1000 * args.paced_connections / args.paced_rate - 15)
    with stackmod.cpu_meter(lambda: groups(s)) as cpu:
        r = post(
            s,
            args,
            wrk,
            numbers,
            duration_s=args.paced_duration,
            connections=args.paced_connections,
            threads=1,
            delay_ms=delay,
        )
    wait_for(lambda: s.backlog() == 0, 60)
    run["paced"] = {**r.as_dict(), "cpu_cores": cpu, "row_latency": row_latency(s, since)}

    if not args.no_mixed:
        console.print(f"  run {index}: POST with {args.workers} worker(s) running …")
        before = s.sql("SELECT count(*) FROM submissions")[0][0]["count"]
        started = time.monotonic()
        with stackmod.cpu_meter(lambda: groups(s)) as cpu:
            r = post(s, args, wrk, numbers)
        left = s.backlog()
        wait_for(lambda: s.backlog() == 0, 300)
        elapsed = time.monotonic() - started
        after = s.sql("SELECT count(*) FROM submissions")[0][0]["count"]
        run["mixed"] = {
            **r.as_dict(),
            "cpu_cores": cpu,
            "backlog_at_end": left,
            "persisted": after - before,
            "persisted_per_s": round((after - before) / elapsed, 1),
        }

    run["rss_mb"] = {
        "web": [round(v, 1) for pid in s.web_pids() if (v := stackmod.peak_rss_mb(pid)) is not None],
        "web_manager": round(stackmod.peak_rss_mb(s.web.pid) or 0, 1) if s.web else None,
        "workers": [round(v, 1) for w in s.workers if (v := stackmod.peak_rss_mb(w.pid)) is not None],
    }
    s.stop_workers()
    s.stop_web()
    if not args.no_edge:
        console.print(f"  run {index}: GET / through nginx …")
        run["edge"] = edge_phase(s, args, wrk)
    return run


def edge_phase(s: stackmod.Stack, args: argparse.Namespace, wrk: str) -> dict[str, Any]:
    """GET / through Debian's nginx with the tree's nginx.conf in front of `leadcap serve` (with
    LEADCAP_EDGE_DIR, as compose runs it), beside the same nginx serving a static file."""
    source = args.root.resolve() / "nginx.conf"
    if not stackmod.NGINX.exists() or "root /srv/leadcap/page;" not in source.read_text():
        console.print("  [yellow]edge phase skipped: no /usr/sbin/nginx, or a nginx.conf without it[/]")
        return {"skipped": True}
    folder = s.workdir / "edge"
    page_dir, assets = folder / "page", folder / "ui" / "assets"
    page_dir.mkdir(parents=True, exist_ok=True)
    assets.mkdir(parents=True, exist_ok=True)
    s.settings["LEADCAP_EDGE_DIR"] = str(page_dir)
    out: dict[str, Any] = {}
    try:
        s.start_web(args.web_workers)
        if not wait_for((page_dir / "index.html").is_file, 10):
            raise RuntimeError("leadcap wrote no page to LEADCAP_EDGE_DIR")
        shutil.copyfile(page_dir / "index.html", assets / "bench-page.html")
        port, tls_port = stackmod.embedded.free_port(), stackmod.embedded.free_port()
        conf = stackmod.render_nginx(
            source,
            folder,
            listen_port=port,
            tls_port=tls_port,
            upstream=f"127.0.0.1:{s.port}",
            assets_root=assets.parent,
            page_root=page_dir,
        )
        s.edge = stackmod.start_nginx(conf, tls_port)
        edge_url = f"https://127.0.0.1:{tls_port}"  # plain HTTP only redirects
        targets = {
            "static": (edge_url + "/assets/bench-page.html", "get.lua"),
            "counted": (edge_url + "/", "get_counted.lua"),
            "first": (edge_url + "/", "get.lua"),
        }
        for way, (url, script) in targets.items():
            loadgen.run_wrk(
                wrk, url, script=script, duration_s=2, connections=args.connections, threads=args.threads
            )
            with stackmod.cpu_meter(lambda: {**groups(s), "nginx": edge_pids(s)}) as cpu:
                r = loadgen.run_wrk(
                    wrk,
                    url,
                    script=script,
                    duration_s=args.duration,
                    connections=args.connections,
                    threads=args.threads,
                )
            out[way] = {**r.as_dict(), "cpu_cores": cpu}
    finally:
        if s.edge:
            s.edge.stop()
            s.edge = None
        s.stop_web()
        s.settings.pop("LEADCAP_EDGE_DIR", None)
    return out


def edge_pids(s: stackmod.Stack) -> list[int]:
    return stackmod.nginx_pids(s.edge) if s.edge else []


def figures(run: dict[str, Any]) -> dict[str, float]:
    f = {
        "get_rps": run["get"]["rps"],
        "get_p50_ms": run["get"]["p50_ms"],
        "get_p99_ms": run["get"]["p99_ms"],
        "post_rps": run["post"]["rps"],
        "post_p50_ms": run["post"]["p50_ms"],
        "post_p99_ms": run["post"]["p99_ms"],
        "post_non_2xx": run["post"]["non_2xx"],
        "post_socket_errors": run["post"]["socket_errors"],
        "drain_backlog": run["drain"]["backlog"],
        "drain_leads_per_s": run["drain"]["leads_per_s"],
        "paced_rps": run["paced"]["rps"],
        "row_latency_p50_ms": run["paced"]["row_latency"]["p50_ms"],
        "row_latency_p99_ms": run["paced"]["row_latency"]["p99_ms"],
        "web_rss_mb": max(run["rss_mb"]["web"] or [0]),
        "worker_rss_mb": max(run["rss_mb"]["workers"] or [0]),
    }
    # CPU per request (µs of CPU per request or lead): steadier than req/s on a busy machine
    for phase, rate, key in (
        ("get", "rps", "get"),
        ("post", "rps", "post"),
        ("drain", "leads_per_s", "drain"),
    ):
        cpu, n = run[phase]["cpu_cores"], run[phase][rate]
        if n:
            for group in ("web", "workers", "redis", "postgres", "mongo"):
                if cpu.get(group, 0) > 0.01:
                    f[f"{key}_cpu_us_{group}"] = round(cpu[group] * 1e6 / n)
    for way, r in run.get("edge", {}).items():
        if isinstance(r, dict):
            f.update({f"edge_{way}_{k}": r[k] for k in ("rps", "p50_ms", "p99_ms")})
            for group in ("nginx", "web"):
                if r["rps"] and r["cpu_cores"].get(group, 0) > 0.01:
                    f[f"edge_{way}_cpu_us_{group}"] = round(r["cpu_cores"][group] * 1e6 / r["rps"])
    if "mixed" in run:
        f["mixed_post_rps"] = run["mixed"]["rps"]
        f["mixed_post_p99_ms"] = run["mixed"]["p99_ms"]
        f["mixed_persisted_per_s"] = run["mixed"]["persisted_per_s"]
    return f


def summarise(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    per = [figures(r) for r in runs]
    out: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(k for p in per for k in p):
        values = [p[name] for p in per if name in p]
        entry: dict[str, Any] = {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
            "values": values,
        }
        if name in TARGETS:
            op, target = TARGETS[name]
            m = entry["median"]
            entry["target"] = f"{op} {target:g}"
            entry["met"] = bool(m >= target if op == ">=" else m <= target if op == "<=" else m == target)
        if name in REFERENCE:
            entry["reference"] = REFERENCE[name]
        out[name] = entry
    return out


# ---- the profiling pass -----------------------------------------------------------------
def profile_pass(s: stackmod.Stack, args: argparse.Namespace, wrk: str, stamp: str) -> dict[str, Any]:
    if pyspy.py_spy() is None:
        console.print("[yellow]py-spy not installed: no profiles (pip install py-spy)[/]")
        return {}
    numbers = loadgen.Numbers()
    s.reset_data()
    s.start_web(args.web_workers)
    get(s, args, wrk, duration=2)
    post(s, args, wrk, numbers, duration_s=2)
    s.reset_data(request_logs=False)  # the web is up: leave its log collection be
    seconds = max(3, int(args.duration) - 2)
    out: dict[str, Any] = {}

    def sample(name: str, pids: list[int], load: Any) -> None:
        folder = s.workdir / "profiles"
        folder.mkdir(parents=True, exist_ok=True)
        raws = [folder / f"{stamp}-{name}-{pid}.txt" for pid in pids]
        spies = [pyspy.record(pid, raw, seconds) for pid, raw in zip(pids, raws, strict=True)]
        try:
            result = load()
        finally:
            for spy in spies:
                try:
                    spy.wait(seconds + 30)
                except subprocess.TimeoutExpired:
                    spy.kill()
                    spy.wait()
        merged = pyspy.merge(raws, folder / f"{stamp}-{name}.txt")
        for raw in raws:
            raw.unlink(missing_ok=True)
        # the collapsed stacks travel in the result JSON (results/*.json is git-ignored)
        out[name] = {
            "raw": str(merged),
            "load": result,
            **pyspy.summarise(merged),
            "stacks": merged.read_text(errors="replace"),
        }

    console.print("  profile: web under GET / …")
    sample("web-get", s.web_pids(), lambda: get(s, args, wrk).as_dict())
    console.print("  profile: web under POST …")
    sample("web-post", s.web_pids(), lambda: post(s, args, wrk, numbers).as_dict())
    top_up(s, argparse.Namespace(**{**vars(args), "burst": min(args.burst, 20_000)}), wrk, numbers)
    console.print(f"  profile: worker draining {s.backlog():,} …")
    backlog = s.backlog()
    s.start_workers(args.workers)
    wait_for(lambda: s.workers_ready() >= args.workers, 90, 0.02)
    started = time.monotonic()

    def drained() -> dict[str, Any]:
        wait_for(lambda: s.backlog() == 0, 600)
        return {"backlog": backlog, "leads_per_s": round(backlog / (time.monotonic() - started), 1)}

    sample("worker-drain", [s.workers[0].pid], drained)
    s.stop_workers()
    s.stop_web()
    return out


def hold(s: stackmod.Stack, args: argparse.Namespace) -> None:
    """The stack as a run sees it, left up for poking at by hand (wrk, py-spy, psql)."""
    s.reset_data()
    s.start_web(args.web_workers)
    s.start_workers(args.workers)
    wait_for(lambda: s.workers_ready() >= args.workers, 90, 0.05)
    info = {
        "url": s.url,
        "web_manager_pid": s.web.pid if s.web else None,
        "web_pids": s.web_pids(),
        "worker_pids": [w.pid for w in s.workers],
        "env": {k: v for k, v in s.env().items() if k.startswith("LEADCAP_")},
        "lua": str(loadgen.LUA),
    }
    (s.workdir / "hold.json").write_text(json.dumps(info, indent=2))
    console.print_json(data=info)
    console.print(f"(also in {s.workdir / 'hold.json'}) — Ctrl-C or SIGTERM stops everything")
    while True:
        time.sleep(1)


# ---- output -------------------------------------------------------------------------------
def fmt(v: float) -> str:
    if isinstance(v, int) or float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"


def show(summary: dict[str, dict[str, Any]], meta: dict[str, Any]) -> None:
    table = Table(title=f"leadcap bench — median of {meta['runs']} run(s), spread min–max")
    for col in ("figure", "median", "min–max", "target", "", "reference build"):
        table.add_column(col, justify="right" if col in ("median", "min–max") else "left")
    for name, e in summary.items():
        met = e.get("met")
        mark = "" if met is None else ("[green]met[/]" if met else "[red]missed[/]")
        table.add_row(
            LABELS.get(name, name),
            fmt(e["median"]),
            f"{fmt(e['min'])}–{fmt(e['max'])}",
            e.get("target", ""),
            mark,
            e.get("reference", ""),
        )
    console.print(table)


def show_versus(rows: list[dict[str, Any]], rounds: int) -> None:
    table = Table(
        title=f"leadcap vs the Django/Celery anchor: medians of {rounds} round(s); "
        "ratio = median of the per-round ratios (p99: anchor / leadcap)"
    )
    for col in ("figure", "leadcap", "Django/Celery", "ratio (rounds)", "target", ""):
        table.add_column(col, justify="left" if col in ("figure", "") else "right")
    for r in rows:
        met = r["met"]
        table.add_row(
            r["figure"],
            fmt(r["leadcap"]),
            fmt(r["anchor"]),
            f"{r['ratio']}× ({', '.join(str(x) for x in r['ratios'])})" if r["ratio"] else "",
            f"≥ {r['target']:g}×" if r["target"] else "",
            "" if met is None else ("[green]met[/]" if met else "[red]missed[/]"),
        )
    console.print(table)


def show_cpu(cpu: dict[str, dict[str, float]]) -> None:
    table = Table(
        title="CPU used per phase (cores, median); 'other': the rest of the machine (other users, harness)"
    )
    cols = sorted({k for v in cpu.values() for k in v})
    table.add_column("phase")
    for c in cols:
        table.add_column(c, justify="right")
    for phase, v in cpu.items():
        table.add_row(phase, *[f"{v.get(c, 0):.2f}" for c in cols])
    console.print(table)


def show_profiles(profiles: dict[str, Any], top: int = 12) -> None:
    for name, p in profiles.items():
        table = Table(title=f"py-spy {name}: {p['samples']} samples ({p['raw']})")
        table.add_column("own %", justify="right")
        table.add_column("function (own time)")
        table.add_column("total %", justify="right")
        table.add_column("function (total time)")
        for i in range(min(top, max(len(p["own"]), len(p["total"])))):
            o = p["own"][i] if i < len(p["own"]) else {"percent": "", "function": ""}
            t = p["total"][i] if i < len(p["total"]) else {"percent": "", "function": ""}
            table.add_row(str(o["percent"]), o["function"], str(t["percent"]), t["function"])
        console.print(table)


def git_state(root: Path) -> dict[str, Any]:
    def git(*a: str) -> str:
        done = subprocess.run(["git", *a], cwd=root, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "leadcap", "web", "cli")
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(changed),
        "changed": [line[3:] for line in changed.splitlines()],
    }


def snapshot(root: Path, into: Path) -> tuple[Path, str]:
    """Copy the Python packages (leadcap, web without its front-end sources, cli) so every
    process of the run runs the same code even while others edit the working tree; return the
    copy and a hash of what it holds."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        if Path(folder).name == "ui" and Path(folder).parent.name == "web":
            return {n for n in names if n != "dist"}
        return {n for n in names if n in ("__pycache__", "node_modules")}

    digest = hashlib.sha256()
    for package in ("leadcap", "web", "cli"):
        shutil.copytree(root / package, into / package, ignore=ignore, dirs_exist_ok=True)
    for path in sorted(p for p in into.rglob("*") if p.is_file() and "dist" not in p.parts):
        digest.update(str(path.relative_to(into)).encode() + b"\0" + path.read_bytes())
    return into, digest.hexdigest()[:16]


def interrupt_on_signals() -> None:
    """SIGTERM and SIGHUP become KeyboardInterrupt, so the `finally` that stops everything runs."""

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    signal.signal(signal.SIGHUP, on_term)


def serve_settings(root: Path, out: Path, extra: list[str]) -> tuple[dict[str, str], bool]:
    """The settings every benched web and worker process gets (the code under `root`, limits on
    but never reached, the UI build if there is one) plus `extra` LEADCAP_X=Y; and whether the
    landing page is the UI build."""
    ui_dist = root / "web" / "ui" / "dist"
    has_ui = (ui_dist / "index.html").is_file()
    settings = {
        "LEADCAP_RATE_LIMIT": "1000000/second",  # on, counted in Redis on every POST, never reached
        "PYTHONPATH": str(root),
        # without a build: a folder that is not there, so the server-rendered fallback
        "LEADCAP_UI_DIST": str(ui_dist if has_ui else out / "no-ui-build"),
    }
    for item in extra:
        key, _, value = item.partition("=")
        settings[key] = value
    return settings, has_ui


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        saved = json.loads(args.report.read_text())
        show(summarise(saved["runs"]), saved["meta"])
        show_cpu(cpu_summary(saved["runs"]))
        if saved.get("versus"):
            show_versus(versus_rows(saved["runs"], saved["versus"]), len(saved["versus"]))
        if saved.get("profiles"):
            show_profiles(saved["profiles"])
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    interrupt_on_signals()
    wrk = loadgen.ensure_wrk()
    if args.versus:
        versusmod.check(args.versus.resolve())
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"leadcap-bench-{stamp}"
    source = args.root.resolve()
    git = git_state(source)
    if args.no_snapshot:
        root, git["code_hash"] = source, None
    else:
        root, git["code_hash"] = snapshot(source, workdir / "tree")
    stackmod.ROOT = root
    settings, has_ui = serve_settings(root, args.out, args.set)
    settings.setdefault("LEADCAP_WEB_WORKERS", str(args.web_workers))  # a --set one wins
    s = stackmod.Stack(workdir=workdir, stores=args.stores, mongo_url=args.mongo_url, settings=settings)
    meta: dict[str, Any] = {
        "timestamp": stamp,
        "runs": args.runs,
        "args": {k: str(v) for k, v in vars(args).items()},
        "git": git,
        "root": str(source),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": next(
                (
                    ln.split(":", 1)[1].strip()
                    for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name")
                ),
                platform.processor(),
            ),
            "loadavg_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "wrk": loadgen.wrk_version(wrk),
        },
        "landing_page": "web/ui/dist build" if has_ui else "server-rendered fallback (no web/ui/dist build)",
        "settings": settings,
    }
    console.print(
        f"[bold]leadcap bench[/] {stamp}: {args.runs} run(s), {args.web_workers} web + "
        f"{args.workers} worker process(es), wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration:g}s; GET / serves the {meta['landing_page']}"
    )
    runs: list[dict[str, Any]] = []
    anchor: list[dict[str, Any]] = []
    profiles: dict[str, Any] = {}
    result_path = args.out / f"{stamp}.json"
    started = time.monotonic()
    try:
        s.start_stores()
        meta["stores"] = s.kind
        console.print("  stores: " + ", ".join(f"{k} {v}" for k, v in s.kind.items()))
        if args.hold:
            hold(s, args)
            return 0
        for i in range(1, args.runs + 1):
            # Round 1 runs the anchor first, round 2 leadcap first, and so on.
            if args.versus and i % 2 == 1:
                anchor.append(anchor_run(i, args, workdir))
            runs.append(one_run(i, s, args, wrk))
            if args.versus and i % 2 == 0:
                anchor.append(anchor_run(i, args, workdir))
            f = figures(runs[-1])
            console.print(
                f"  run {i}: GET {f['get_rps']:,.0f} req/s p99 {f['get_p99_ms']:.1f} ms"
                f" | POST {f['post_rps']:,.0f} req/s p99 {f['post_p99_ms']:.1f} ms"
                f" non-2xx {f['post_non_2xx']} | drain {f['drain_leads_per_s']:,.0f} leads/s"
                f" | 202-to-row p99 {f['row_latency_p99_ms']:.0f} ms"
            )
        if not args.no_profile:
            profiles = profile_pass(s, args, wrk, stamp)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: stopping everything[/]")
        return 130
    finally:
        s.close()
        meta["seconds"] = round(time.monotonic() - started, 1)
        if len(runs) < args.runs:  # a run failed: say so, and report the ones that finished
            console.print(f"[red]only {len(runs)} of {args.runs} run(s) finished[/]")
            meta["runs"] = len(runs)
        if runs:
            summary = summarise(runs)
            cpu = cpu_summary(runs)
            result = {
                "meta": meta,
                "summary": summary,
                "cpu_cores": cpu,
                "runs": runs,
                "versus": anchor,
                "profiles": profiles,
            }
            result_path.write_text(json.dumps(result, indent=2, default=str))
            show(summary, meta)
            show_cpu(cpu)
            if anchor:
                show_versus(versus_rows(runs, anchor), len(anchor))
            if profiles:
                show_profiles(profiles)
            console.print(f"results: {result_path}  ({meta['seconds']:.0f} s)")
    return 0


def anchor_run(index: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    console.print(f"  run {index}: the Django/Celery anchor's bench.sh (~2 minutes) …")
    workdir.mkdir(parents=True, exist_ok=True)
    result = versusmod.run_anchor(
        args.versus.resolve(),
        duration_s=args.duration,
        connections=args.connections,
        threads=args.threads,
        log=workdir / f"anchor-{index}.log",
    )
    f = result["figures"]
    console.print(
        f"  run {index}: anchor GET {f.get('get_rps', 0):,.0f} req/s"
        f" | POST {f.get('post_noworker_rps', 0):,.0f} (worker stopped),"
        f" {f.get('post_rps', 0):,.0f} (running)"
        f" | drain {f.get('worker_only_rate', 0):,.0f} leads/s"
    )
    return result


def versus_rows(runs: list[dict[str, Any]], anchor: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pair the rounds in order: leadcap's run i with the anchor's run i."""
    rounds = [(figures(r), a["figures"]) for r, a in zip(runs, anchor, strict=False)]
    return versusmod.compare(rounds)


def cpu_summary(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Median cores used per process group and phase; 'wrk' is the load generator itself."""
    out: dict[str, dict[str, float]] = {}
    for phase in ("get", "post", "drain", "paced", "mixed"):
        samples = [r[phase] for r in runs if phase in r]
        if not samples:
            continue
        names = sorted({k for sm in samples for k in sm["cpu_cores"]})
        row = {k: round(statistics.median(sm["cpu_cores"].get(k, 0) for sm in samples), 2) for k in names}
        row["wrk"] = round(statistics.median(sm.get("wrk_cpu_cores", 0) for sm in samples), 2)
        others = [
            sm["cpu_cores"]["machine"]
            - sum(v for k, v in sm["cpu_cores"].items() if k != "machine")
            - sm.get("wrk_cpu_cores", 0)
            for sm in samples
        ]
        row["other (not ours)"] = round(max(0.0, statistics.median(others)), 2)
        out[phase] = row
    return out


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
