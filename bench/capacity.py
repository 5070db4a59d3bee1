"""The capacity model's check (issue 27, docs/capacity.md): does the throughput of several web
processes, Redis shards and workers follow from what each process costs per POST?

    python bench/capacity.py              # 3 rounds, about 3 minutes on 2 cores
    python bench/capacity.py --quick      # one short round: the harness works; no verdict
    nox -s bench -- capacity [args]       # the same, in the bench session's environment

Every round, on the same stores (embedded PostgreSQL, SecantusDB as the log store, and two Valkey
servers, all started here so that their CPU is ours alone):

  C  calibrate  1 web process, 1 worker, 1 shard; then the same with 2 shards. wrk saturates the
                web process with POSTs of new phones while the worker drains. Each process's
                CPU (utime + stime from /proc/PID/stat) over the window, divided by the POSTs
                accepted (web, each Redis, the log store, wrk itself: it shares the cores) or
                the leads drained (worker, PostgreSQL), is its cost.
  L  check      --webs `leadcap serve --workers 1` processes on their own ports, as if each were
                a host, --shards Redis servers in LEADCAP_REDIS_URL, --workers workers; wrk's
                threads spread over the web processes. Accepted POST/s is the figure.

The prediction from a round's C: the machine's cores / the CPU a POST costs over every process
(the 2-shard calibration's costs: its Redis cost is the split POST's, measured, not modelled),
or a single process's limit when lower (a process uses at most one core). Beside it, the
prediction docs/capacity.md's formula gives from the 1-shard costs (a split POST = two scripts).
The rounds alternate C, L, C, L, ...; the verdict is the median of measured/predicted and its
spread. After each window the harness waits for the stream to empty and checks that PostgreSQL
holds a row for every accepted POST, and that every shard carried part of the intake.

Exit status: 0; 1 when the median ratio is off by more than --tolerance (not with --quick);
2 when an accepted POST is missing from PostgreSQL, or a shard or a web process carried none of
the load (the check would not be of the layout it names); 3 when the run could not be done (a
process did not start, no POST was accepted; the logs stay in the folder it names first).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402
import psutil  # noqa: E402
import run as runmod  # noqa: E402
import stack as stackmod  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from leadcap import keys  # noqa: E402

console = Console(width=None if sys.stdout.isatty() else 150)
RESULTS = HERE / "results"
# Roles whose cost is per lead drained (the rest: per POST accepted).
PER_LEAD = ("worker", "postgres")
ROLES = ("web", "redis", "worker", "postgres", "mongo", "wrk")


@dataclass(frozen=True)
class Layout:
    webs: int
    shards: int
    workers: int

    def __str__(self) -> str:
        return f"{self.webs} web / {self.shards} shard / {self.workers} worker"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3, help="calibration + check pairs, interleaved")
    p.add_argument("--duration", type=float, default=10, help="seconds of load per window")
    p.add_argument("--warmup", type=float, default=2, help="seconds of load before each window")
    p.add_argument("--connections", type=int, default=63)
    p.add_argument("--threads", type=int, default=3, help="wrk threads (a multiple of --webs)")
    p.add_argument("--webs", type=int, default=3, help="web processes in the checked layout")
    p.add_argument("--shards", type=int, default=2, help="Redis servers in the checked layout")
    p.add_argument("--workers", type=int, default=2, help="`leadcap worker` processes in the layout")
    p.add_argument("--tolerance", type=float, default=0.20, help="largest |measured/predicted - 1|")
    p.add_argument("--quick", action="store_true", help="1 round of 2 s windows: the harness works")
    p.add_argument("--out", type=Path, default=RESULTS, help="where the result JSON goes")
    p.add_argument("--root", type=Path, default=HERE.parent, help="the leadcap checkout to run")
    p.add_argument("--no-snapshot", action="store_true", help="run the tree in place, not a copy")
    p.add_argument("--set", action="append", default=[], metavar="LEADCAP_X=VALUE")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup, args.connections = 1, 2.0, 1.0, 12
    if args.threads % args.webs:
        p.error("--threads must be a multiple of --webs (each web process gets the same share)")
    return args


# ---- one window -----------------------------------------------------------------------------------
def processes(s: stackmod.Stack) -> dict[str, list[int]]:
    """Each process this layout runs, by name (role-index); the stores' by role."""
    out = {f"web-{i}": [h.pid] for i, h in enumerate(s.hosts)}
    out.update({f"worker-{i}": [w.pid] for i, w in enumerate(s.workers)})
    shard_pids = s.shard_pids()[: len(s.shard_urls())]
    out.update({f"redis-{i}": pids for i, pids in enumerate(shard_pids)})
    stores = s.store_pids()
    postgres = stores.get("postgres", [])
    backends = postgres_backends(postgres)
    # both roll up into PostgreSQL's cost; apart, a checkpoint or vacuum in one window shows
    out["postgres"] = [pid for pid in postgres if pid in backends]
    out["postgres-background"] = [pid for pid in postgres if pid not in backends]
    out["mongo"] = stores.get("mongo", [])
    return out


def postgres_backends(pids: list[int]) -> set[int]:
    """The backends serving a client (their title names its address: `postgres: user db
    127.0.0.1(port) ...`), not the postmaster, checkpointer, WAL writer or autovacuum."""
    out = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if "(" in " ".join(psutil.Process(pid).cmdline()):
                out.add(pid)
    return out


def entries_added(s: stackmod.Stack) -> list[int]:
    """Per shard in use: how many entries its lead stream was ever given (XINFO STREAM)."""
    out = []
    for i in range(len(s.shard_urls())):
        with s.redis(i) as r:
            if not r.exists(keys.LEAD_STREAM):
                out.append(0)
                continue
            out.append(int(r.xinfo_stream(keys.LEAD_STREAM)["entries-added"]))
    return out


def rows(s: stackmod.Stack) -> int:
    return int(s.sql("SELECT count(*) FROM submissions")[0][0]["count"])


TABLE_WORK = ("seq_scan", "seq_tup_read", "idx_scan", "autovacuum_count", "autoanalyze_count")


def table_work(s: stackmod.Stack) -> dict[str, dict[str, int]]:
    """PostgreSQL's running counts per table (pg_stat_user_tables): what a window's delta says
    about a window whose PostgreSQL cost stands out (a plan that scans, a vacuum or analyze)."""
    found = s.sql(
        "SELECT relname, seq_scan, seq_tup_read, idx_scan, autovacuum_count, autoanalyze_count"
        " FROM pg_stat_user_tables"
    )[0]
    return {row["relname"]: {k: int(row[k] or 0) for k in TABLE_WORK} for row in found}


def work_since(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table, counts in after.items():
        was = before.get(table, {})
        delta = {k: v - was.get(k, 0) for k, v in counts.items() if v != was.get(k, 0)}
        if delta:
            out[table] = delta
    return out


def repeated_phones(s: stackmod.Stack) -> int:
    """Rows beyond one a phone: every POST sends a new phone, so any is a lead written twice."""
    found = s.sql("SELECT count(*) - count(DISTINCT phone) AS n FROM submissions")[0][0]["n"]
    return int(found)


def clients_gone(s: stackmod.Stack) -> bool:
    """No web process holds a client connection any more: whatever wrk sent before it stopped has
    been answered or dropped (a request in flight when wrk stops may still be accepted after)."""
    for host in s.hosts:
        with contextlib.suppress(psutil.Error):
            for c in psutil.Process(host.pid).net_connections("tcp"):
                if c.laddr and c.laddr.port == host.port and c.status != psutil.CONN_LISTEN:
                    return False
    return True


def settle(s: stackmod.Stack, before: int, added_before: list[int]) -> list[int]:
    """Wait until every request wrk sent is handled and every lead queued since `added_before`
    has its row; the entries each shard was given since."""
    if not runmod.wait_for(lambda: clients_gone(s), 60, 0.05):
        raise RuntimeError("the web processes still hold client connections 60 s after wrk stopped")
    runmod.wait_for(lambda: s.backlog() == 0, 300, 0.1)
    added = [a - b for a, b in zip(entries_added(s), added_before, strict=True)]
    runmod.wait_for(lambda: rows(s) - before >= sum(added), 60, 0.1)
    return added


def window(
    s: stackmod.Stack, layout: Layout, args: argparse.Namespace, wrk: str, numbers: loadgen.Numbers
) -> dict[str, Any]:
    """Start `layout`, warm it up, load it for --duration, wait for every lead to be written;
    the accepted rate, each process's cost and the checks. Everything stopped on return."""
    s.reset_data()  # no web process runs here: the log collection can be dropped
    s.use_shards(layout.shards)
    try:
        s.start_hosts(layout.webs)
        s.start_workers(layout.workers)
        if not runmod.wait_for(lambda: s.workers_ready() >= layout.workers, 90, 0.05):
            raise RuntimeError("workers did not start:\n" + "\n".join(w.tail() for w in s.workers))
        addresses = [f"127.0.0.1:{h.port}" for h in s.hosts]

        def load(seconds: float) -> loadgen.WrkResult:
            return loadgen.run_wrk(
                wrk,
                f"http://127.0.0.1:{s.hosts[0].port}",
                script="post.lua",
                duration_s=seconds,
                connections=args.connections,
                threads=args.threads,
                args=[numbers.start(), "0"],
                addresses=addresses,
            )

        load(args.warmup)  # connections, pools, scripts, phone metadata
        settle(s, 0, [0] * layout.shards)  # so the warm-up's last POSTs land before the window
        # Statistics for the tables reset_data emptied, as autovacuum keeps a production table's
        # (ANALYZE also drops the plans cached while they were empty).
        s.sql("ANALYZE")
        rows_before, added_before, tables_before = rows(s), entries_added(s), table_work(s)
        with stackmod.cpu_meter(lambda: processes(s)) as cores:
            r = load(args.duration)
        process_count = {name: len(pids) for name, pids in processes(s).items()}
        drained_in_window = rows(s) - rows_before
        tables = work_since(tables_before, table_work(s))
        backlog_at_end = s.backlog()
        added = settle(s, rows_before, added_before)
        written, repeated = rows(s) - rows_before, repeated_phones(s)
    finally:
        s.stop_workers()
        s.stop_hosts()
    accepted = r.requests - r.non_2xx
    if not accepted or not drained_in_window:
        raise RuntimeError(f"{layout}: {accepted} POSTs accepted, {drained_in_window} leads written")
    rate, drained_rate = accepted / r.duration_s, drained_in_window / r.duration_s
    cost: dict[str, float] = {}  # µs of CPU per POST accepted (per lead drained: PER_LEAD roles)
    for name, used in cores.items():
        if name == "machine":
            continue
        per = drained_rate if name.split("-")[0] in PER_LEAD else rate
        cost[name] = round(used * 1e6 / per, 1) if per else 0.0
    cost["wrk"] = round(r.wrk_cpu_cores * 1e6 / rate, 1) if rate else 0.0
    ours = sum(v for k, v in cores.items() if k != "machine") + r.wrk_cpu_cores
    web = [v for k, v in cores.items() if k.startswith("web-")]
    return {
        "layout": layout.__dict__,
        "wrk": r.as_dict(),
        "accepted": accepted,
        "accepted_per_s": round(rate, 1),
        "drained_per_s": round(drained_rate, 1),
        "backlog_at_end": backlog_at_end,
        "cores": cores,
        "cores_not_ours": round(max(0.0, cores["machine"] - ours), 3),
        "processes": process_count,
        "cost_us": cost,
        "by_role": by_role(cost),
        # in-flight requests wrk gave up on at the end may have been accepted: up to one a connection
        "written": written,
        "queued_per_shard": added,
        "repeated_phones": repeated,
        "postgres_tables": tables,  # pg_stat_user_tables over the window (flushed within ~1 s)
        "every_accepted_written": accepted <= written <= accepted + args.connections
        and written == sum(added)
        and not repeated,
        "every_shard_carried_part": all(added),
        # wrk's threads reached every web process: each used at least half its even share of
        # their CPU (an idle Sanic process uses a little; one that took no POSTs, almost none)
        "every_web_carried_part": min(web) >= 0.5 * sum(web) / len(web),
    }


def by_role(cost: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, us in cost.items():
        role = name.split("-")[0]
        out[role] = round(out.get(role, 0.0) + us, 1)
    return out


# ---- the model ------------------------------------------------------------------------------------
def predict(cal: dict[str, Any], layout: Layout, cores: int, wrk_threads: int) -> dict[str, Any]:
    """Accepted POST/s the layout should reach on `cores` cores, from one calibration window's
    costs (taken with one web process and one worker): all cores busy, or the first process to
    fill its one core, whichever is lower. `cal` must use the layout's shard count."""
    cost, role = cal["cost_us"], cal["by_role"]
    total = sum(role.get(r, 0.0) for r in ROLES)
    limits = {"all cores": cores * 1e6 / total}
    # each web process and worker takes its share; each shard the part its keys bring it
    limits["one web process"] = layout.webs * 1e6 / role["web"]
    limits["one worker"] = layout.workers * 1e6 / role["worker"]
    for name, us in cost.items():
        if name.startswith("redis-"):
            limits[f"shard {name[6:]}"] = 1e6 / us
    if cal["processes"].get("mongo") == 1 and role.get("mongo"):
        limits["the log store"] = 1e6 / role["mongo"]  # SecantusDB serves from one process
    limits["wrk"] = wrk_threads * 1e6 / role["wrk"]  # one thread per core at most
    bound = min(limits, key=lambda k: limits[k])
    return {
        "per_post_us": round(total, 1),
        "limits": {k: round(v, 1) for k, v in limits.items()},
        "bound": bound,
        "post_per_s": round(limits[bound], 1),
    }


def predict_by_formula(cal1: dict[str, Any], layout: Layout, cores: int) -> dict[str, Any]:
    """docs/capacity.md's formula from the 1-shard costs: with N shards a fraction (N-1)/N of the
    POSTs split into two scripts, each costing a whole one (the worst case)."""
    role = dict(cal1["by_role"])
    role["redis"] = role["redis"] * (2 - 1 / layout.shards)
    total = sum(role.get(r, 0.0) for r in ROLES)
    return {"per_post_us": round(total, 1), "post_per_s": round(cores * 1e6 / total, 1)}


# ---- rounds ---------------------------------------------------------------------------------------
def one_round(
    index: int, s: stackmod.Stack, args: argparse.Namespace, wrk: str, cores: int
) -> dict[str, Any]:
    numbers = loadgen.Numbers()
    layout = Layout(args.webs, args.shards, args.workers)
    out: dict[str, Any] = {"index": index}
    for key, cal_layout in (("cal_1_shard", Layout(1, 1, 1)), ("cal_shards", Layout(1, args.shards, 1))):
        console.print(f"  round {index}: calibrate, {cal_layout} …")
        out[key] = window(s, cal_layout, args, wrk, numbers)
        say(out[key])
    console.print(f"  round {index}: check, {layout} …")
    out["check"] = window(s, layout, args, wrk, numbers)
    say(out["check"])
    out["predicted"] = predict(out["cal_shards"], layout, cores, args.threads)
    out["predicted_by_formula"] = predict_by_formula(out["cal_1_shard"], layout, cores)
    out["ratio"] = round(out["check"]["accepted_per_s"] / out["predicted"]["post_per_s"], 3)
    # not the verdict (the model is for an idle machine): what the same costs give with the cores
    # the rest of the machine left the check, when it was not idle
    left = cores - out["check"]["cores_not_ours"]
    out["predicted_with_cores_left"] = round(left * 1e6 / out["predicted"]["per_post_us"], 1)
    console.print(
        f"  round {index}: measured {out['check']['accepted_per_s']:,.0f} POST/s, predicted "
        f"{out['predicted']['post_per_s']:,.0f} (bound: {out['predicted']['bound']}), "
        f"ratio {out['ratio']:.2f}; docs' formula {out['predicted_by_formula']['post_per_s']:,.0f}"
    )
    return out


def say(w: dict[str, Any]) -> None:
    console.print(
        f"    {w['accepted_per_s']:,.0f} POST/s accepted, {w['drained_per_s']:,.0f} leads/s drained,"
        f" backlog {w['backlog_at_end']:,} at the end; non-2xx {w['wrk']['non_2xx']};"
        f" written {w['written']:,} of {w['accepted']:,} accepted; per shard {w['queued_per_shard']};"
        f" other users' CPU {w['cores_not_ours']:.2f} cores"
    )


def verdict(rounds: list[dict[str, Any]], tolerance: float) -> dict[str, Any]:
    ratios = [r["ratio"] for r in rounds]
    measured = [r["check"]["accepted_per_s"] for r in rounds]
    median = statistics.median(ratios)
    return {
        "ratios": ratios,
        "median_ratio": round(median, 3),
        "ratio_spread": [min(ratios), max(ratios)],
        "measured_post_per_s": measured,
        "measured_spread_pct": round(100 * (max(measured) - min(measured)) / statistics.median(measured), 1),
        "predicted_post_per_s": [r["predicted"]["post_per_s"] for r in rounds],
        # for a machine that was not idle: against what the cores others left predict (no verdict)
        "median_ratio_with_cores_left": round(
            statistics.median(r["check"]["accepted_per_s"] / r["predicted_with_cores_left"] for r in rounds),
            3,
        ),
        "within_tolerance": abs(median - 1) <= tolerance,
        "every_accepted_written": all(
            r[k]["every_accepted_written"] for r in rounds for k in ("cal_1_shard", "cal_shards", "check")
        ),
        "every_shard_carried_part": all(
            r[k]["every_shard_carried_part"] for r in rounds for k in ("cal_shards", "check")
        ),
        "every_web_carried_part": all(r["check"]["every_web_carried_part"] for r in rounds),
    }


def show(rounds: list[dict[str, Any]], v: dict[str, Any], cores: int) -> None:
    costs = Table(title="CPU µs per POST accepted (worker, postgres: per lead drained), per window")
    costs.add_column("round / window")
    for role in ROLES:
        costs.add_column(role, justify="right")
    costs.add_column("total", justify="right")
    costs.add_column("POST/s", justify="right")
    costs.add_column("not ours (cores)", justify="right")
    for r in rounds:
        for key in ("cal_1_shard", "cal_shards", "check"):
            w = r[key]
            role = w["by_role"]
            costs.add_row(
                f"{r['index']} {Layout(**w['layout'])}",
                *[f"{role.get(x, 0):,.0f}" for x in ROLES],
                f"{sum(role.get(x, 0) for x in ROLES):,.0f}",
                f"{w['accepted_per_s']:,.0f}",
                f"{w['cores_not_ours']:.2f}",
            )
    console.print(costs)
    table = Table(title=f"{Layout(**rounds[0]['check']['layout'])} on {cores} cores: measured vs predicted")
    for col in (
        "round",
        "measured POST/s",
        "predicted",
        "bound",
        "ratio",
        "docs' formula",
        "with the cores others left",
    ):
        table.add_column(col, justify="left" if col in ("round", "bound") else "right")
    for r in rounds:
        table.add_row(
            str(r["index"]),
            f"{r['check']['accepted_per_s']:,.0f}",
            f"{r['predicted']['post_per_s']:,.0f}",
            r["predicted"]["bound"],
            f"{r['ratio']:.2f}",
            f"{r['predicted_by_formula']['post_per_s']:,.0f}",
            f"{r['predicted_with_cores_left']:,.0f}",
        )
    console.print(table)
    console.print(
        f"median measured/predicted {v['median_ratio']:.2f} (runs {v['ratio_spread'][0]:.2f}–"
        f"{v['ratio_spread'][1]:.2f}; measured POST/s {v['measured_spread_pct']}% apart);"
        f" against the cores other users left {v['median_ratio_with_cores_left']:.2f};"
        f" every accepted POST written: {v['every_accepted_written']};"
        f" every shard carried part: {v['every_shard_carried_part']};"
        f" every web process carried part: {v['every_web_carried_part']}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    runmod.interrupt_on_signals()
    wrk = loadgen.ensure_wrk()
    cores = len(os.sched_getaffinity(0))
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"leadcap-capacity-{stamp}"
    source = args.root.resolve()
    git = runmod.git_state(source)
    if args.no_snapshot:
        root, git["code_hash"] = source, None
    else:
        root, git["code_hash"] = runmod.snapshot(source, workdir / "tree")
    stackmod.ROOT = root
    settings, _ = runmod.serve_settings(root, args.out, args.set)
    shards = max(args.shards, 2)  # the calibration measures a 2-shard POST even for a 1-shard check
    s = stackmod.Stack(workdir=workdir, stores="embedded", shards=shards, settings=settings)
    meta = {
        "timestamp": stamp,
        "args": {k: str(v) for k, v in vars(args).items()},
        "git": git,
        "cores": cores,
        "loadavg_at_start": os.getloadavg(),
        "wrk": loadgen.wrk_version(wrk),
    }
    console.print(
        f"[bold]leadcap capacity check[/] {stamp} (logs: {workdir}): {args.rounds} round(s) of"
        f" calibration and {Layout(args.webs, args.shards, args.workers)} on {cores} cores;"
        f" wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s;"
        f" load average {os.getloadavg()[0]:.2f}"
    )
    rounds: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        s.start_stores()
        meta["stores"] = s.kind
        for i in range(1, args.rounds + 1):
            rounds.append(one_round(i, s, args, wrk, cores))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: stopping everything[/]")
        return 130
    except RuntimeError as exc:  # a process did not start or the load got no answer
        console.print(f"[red]the run failed: {exc}[/]")
        return 3
    finally:
        s.close()
        meta["seconds"] = round(time.monotonic() - started, 1)
    v = verdict(rounds, args.tolerance)
    path = args.out / f"capacity-{stamp}.json"
    path.write_text(json.dumps({"meta": meta, "verdict": v, "rounds": rounds}, indent=2, default=str))
    show(rounds, v, cores)
    console.print(f"results: {path}  ({meta['seconds']:.0f} s)")
    if not (v["every_accepted_written"] and v["every_shard_carried_part"] and v["every_web_carried_part"]):
        return 2
    if not args.quick and not v["within_tolerance"]:
        console.print(f"[red]the model is off by more than {args.tolerance:.0%}[/]")
        return 1
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
