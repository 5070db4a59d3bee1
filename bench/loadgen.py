"""wrk, the load generator: install it if missing, run it, read its figures."""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA = Path(__file__).resolve().parent / "lua"


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: sudo apt-get install wrk")
    return found


def wrk_version(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].strip() if (done.stdout or done.stderr) else "?"


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    non_2xx: int  # wrk counts answers with status > 399 as status errors
    socket_errors: int  # connect + read + write + timeout
    wrk_cpu_cores: float  # CPU wrk itself used (cores, averaged over the run)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_wrk(
    binary: str,
    url: str,
    *,
    script: str,
    duration_s: float,
    connections: int,
    threads: int,
    args: list[str] | None = None,
    delay_ms: float = 0,
    timeout_s: float = 5,
    until: Callable[[], bool] | None = None,
    addresses: list[str] | None = None,
) -> WrkResult:
    """`addresses` ("host:port" each): wrk's threads spread over them in turn (post.lua), one
    server per address as if each were a host; `url` names the path and the Host header."""
    env = {**os.environ, "BENCH_DELAY_MS": f"{delay_ms:g}", "BENCH_ADDRS": ",".join(addresses or [])}
    argv = [
        binary,
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration_s:g}s",
        "--timeout",
        f"{timeout_s:g}s",
        "-s",
        str(LUA / script),
        url,
    ]
    if args:
        argv += ["--", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        try:
            if until is not None:
                # wrk's main thread sleeps for the whole -d even when its threads are done;
                # SIGINT makes it stop and report at once.
                deadline = time.monotonic() + duration_s + 5
                while proc.poll() is None and time.monotonic() < deadline:
                    if until():
                        proc.send_signal(signal.SIGINT)
                        break
                    time.sleep(0.1)
            stdout, stderr = proc.communicate(timeout=duration_s + 60)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{stdout}\n{stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    lat = data["latency_us"]
    errors = data["errors"]
    seconds = data["duration_us"] / 1e6
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return WrkResult(
        requests=data["requests"],
        duration_s=round(seconds, 3),
        rps=round(data["requests"] / seconds, 1),
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        p999_ms=lat["p999"] / 1000,
        max_ms=lat["max"] / 1000,
        non_2xx=errors["status"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        wrk_cpu_cores=round(cpu / seconds, 3) if seconds else 0.0,
    )


class Numbers:
    """Hands out non-overlapping number ranges to successive POST runs (see lua/post.lua):
    each invocation's threads start at a fresh random offset, spaced so runs never overlap."""

    SPAN = 10_000_000
    STEP = 400_000  # more than one thread of one run ever sends

    def __init__(self) -> None:
        self._next = random.randrange(self.SPAN)

    def start(self) -> str:
        value = self._next
        self._next = (self._next + self.STEP) % self.SPAN
        return str(value)
