"""Side by side with the seed's Django + gunicorn + Celery design (the "anchor").

`bench/run.py --versus DIR` runs the anchor's own `bench.sh` (DIR is its folder, set up once with
its `setup.sh`) in the same invocation as leadcap's runs, alternating which goes first in each
round, with the same wrk settings. Each ratio is the median of the per-round ratios, so a
machine that slows down midway slows both sides of a round alike.
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Pair:
    """One compared figure: leadcap's key in run.figures(), the anchor's key in its SUMMARY lines."""

    label: str
    ours: str
    theirs: str
    target: float | None = None  # the ratio wanted, leadcap / anchor (or anchor / leadcap)
    lower_is_better: bool = False


PAIRS: tuple[Pair, ...] = (
    Pair("GET / req/s", "get_rps", "get_rps", 10),
    Pair("GET / via nginx, counted browser (nginx's file)", "edge_counted_rps", "get_rps"),
    Pair("GET / via nginx, first view (proxied)", "edge_first_rps", "get_rps"),
    Pair("POST req/s, workers stopped", "post_rps", "post_noworker_rps", 4),
    Pair("POST req/s, workers running", "mixed_post_rps", "post_rps", 8),
    Pair("leads persisted/s under that load", "mixed_persisted_per_s", "persist_rate", 10),
    Pair("drain leads/s from a backlog", "drain_leads_per_s", "worker_only_rate", 35),
    Pair("POST p99 ms, workers running", "mixed_post_p99_ms", "post_p99_ms", None, True),
)


def check(folder: Path) -> None:
    """Refuse early, with the step to take, when the anchor is not there or not set up."""
    if not (folder / "bench.sh").is_file():
        raise SystemExit(f"--versus: no bench.sh in {folder}")
    venv = subprocess.run(
        ["bash", "-c", 'source ./env.sh >/dev/null 2>&1; printf %s "${VENV:-}"'],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    if venv and not Path(venv).is_dir():
        raise SystemExit(f"--versus: the anchor is not set up ({venv} is missing): run its setup.sh once")


def parse_summary(output: str) -> dict[str, float]:
    """The figures of bench.sh's SUMMARY and SUMMARY_SPLIT lines (key=value pairs)."""
    figures: dict[str, float] = {}
    for line in output.splitlines():
        if not line.startswith(("SUMMARY ", "SUMMARY_SPLIT ")):
            continue
        for word in line.split()[1:]:
            key, _, value = word.partition("=")
            try:
                figures[key] = float(value)
            except ValueError:
                continue  # anchor=django-celery and the like
    return figures


def run_anchor(
    folder: Path, *, duration_s: float, connections: int, threads: int, log: Path
) -> dict[str, Any]:
    """One anchor bench (GET, POST with the worker, POST without, the worker draining), then
    everything it started is stopped, so it costs leadcap's runs nothing."""
    env = {
        **os.environ,
        "BENCH_SPLIT": "1",
        "BENCH_STOP": "1",
        "BENCH_DURATION": f"{duration_s:g}s",
        "BENCH_CONNECTIONS": str(connections),
        "BENCH_THREADS": str(threads),
    }
    command = ["bash", str(folder / "bench.sh")]
    # Twice at most: its fixed ports (55432, 56379, 58000) lie in Linux's ephemeral range, so now
    # and then one is held by a client socket of the run before and its PostgreSQL cannot bind.
    for attempt in (1, 2):
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
        with log.open("a") as out:
            out.write(f"$ {shlex.join(command)}  # attempt {attempt}\n{done.stdout}\n{done.stderr}\n")
        figures = parse_summary(done.stdout)
        if done.returncode == 0 and "worker_only_rate" in figures:
            break
        time.sleep(5)
    if done.returncode != 0 or "worker_only_rate" not in figures:
        raise RuntimeError(f"the anchor's bench failed (exit {done.returncode}); its output: {log}")
    return {"figures": figures, "log": str(log)}


def ratio(pair: Pair, ours: float | None, theirs: float | None) -> float | None:
    if not ours or not theirs:
        return None
    return theirs / ours if pair.lower_is_better else ours / theirs


def compare(rounds: list[tuple[dict[str, float], dict[str, float]]]) -> list[dict[str, Any]]:
    """Per pair: both medians, every round's ratio, their median, and whether the target holds."""
    rows = []
    for pair in PAIRS:
        ours = [r[0][pair.ours] for r in rounds if pair.ours in r[0]]
        theirs = [r[1][pair.theirs] for r in rounds if pair.theirs in r[1]]
        per_round = [
            x for r in rounds if (x := ratio(pair, r[0].get(pair.ours), r[1].get(pair.theirs))) is not None
        ]
        if not ours or not theirs:
            continue
        median = statistics.median(per_round) if per_round else None
        rows.append(
            {
                "figure": pair.label,
                "leadcap": statistics.median(ours),
                "anchor": statistics.median(theirs),
                "ratios": [round(x, 1) for x in per_round],
                "ratio": round(median, 1) if median is not None else None,
                "target": pair.target,
                "met": None if pair.target is None or median is None else median >= pair.target,
            }
        )
    return rows
