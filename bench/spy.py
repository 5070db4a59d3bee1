"""py-spy: sample a running process, and rank its functions by own and total time.

`py-spy record --format raw` writes collapsed stacks, one line per distinct stack:
    "frame;frame;...;leaf <count>", each frame "function (path:line)".
Own time counts samples where the function is the leaf; total time counts samples where it is
anywhere on the stack (once per stack). Line numbers are dropped so a function is one entry.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<path>[^()]*?)(?::\d+)?\)$")
_SITE = re.compile(r".*/(site-packages|lib/python3\.\d+)/")
# Frames that only run the event loop or start the process: a stack is cut after the last of
# them, so "total time" ranks the work, not the scaffolding every sample shares.
_LOOP = re.compile(
    r"^(_run_server_forever|BaseEventLoop\.run_forever|BaseEventLoop\.run_until_complete|"
    r"BaseEventLoop\._run_once|Handle\._run|Runner\.run|run) \((sanic/server/runners\.py|asyncio/)"
)
# Where a function lives, for the by-package view ("<touchup>": Sanic methods it recompiles).
_PACKAGES = (
    "sanic",
    "sanic_routing",
    "redis",
    "asyncpg",
    "pymongo",
    "bson",
    "taskiq",
    "taskiq_redis",
    "prometheus_client",
    "phonenumbers",
    "asyncio",
    "leadcap",
    "web",
    "cli",
    "uvloop",
    "httptools",
    "json",
    "logging",
    "uuid",
    "ipaddress",
    "re",
    "datetime",
    "secantus",
)


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found if Path(found).exists() else None


def record(
    pid: int, out: Path, duration_s: int, *, rate: int = 200, native: bool = False
) -> subprocess.Popen[bytes]:
    """Start sampling `pid` in the background for `duration_s`; wait on the returned process."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    argv = [
        binary,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(duration_s),
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
    ]
    if native:
        argv.append("--native")
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _name(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = _SITE.sub("", m.group("path"))
    path = path.replace(str(Path(__file__).resolve().parent.parent) + "/", "")
    return f"{m.group('func')} ({path})"


def summarise(raw: Path, top: int = 20) -> dict[str, Any]:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    package: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_name(f) for f in stack.split(";") if f]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        cut = max((i for i, f in enumerate(frames) if _LOOP.match(f)), default=-1)
        frames = frames[cut + 1 :] or frames[-1:]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        package[_package(frames[-1])] += count
        for name in set(frames):
            total[name] += count

    def ranked(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "samples": n, "percent": round(100 * n / samples, 1)}
            for name, n in counter.most_common(top)
        ]

    return {
        "samples": samples,
        "own": ranked(own),
        "total": ranked(total),
        "own_by_package": ranked(package),
    }


def _package(name: str) -> str:
    """The package a ranked function belongs to (by its path), for the own-time rollup."""
    path = name[name.rfind("(") + 1 : -1]
    if "/" not in path and not path.endswith(".py"):
        return "sanic <touchup>" if path and not path.startswith("<") else "other"
    head = path.split("/", 1)[0].removesuffix(".py")
    return head if head in _PACKAGES else head or "other"


def merge(raws: list[Path], out: Path) -> Path:
    """Concatenate several processes' collapsed stacks (same format) into one file."""
    with out.open("w") as fh:
        for raw in raws:
            if raw.exists():
                fh.write(raw.read_text(errors="replace"))
    return out
