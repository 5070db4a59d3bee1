"""What the benches that start their own `leadcap serve` share: its environment, waiting for it to
answer, and the percentile their figures report. Imported as `bench.harness` (the scripts put the
repository root on sys.path; bench/ is no package, a namespace one from the root)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx


def serve_env(
    database_url: str, data: Path, port: int, redis_url: str | None, mongo_url: str | None, **more: str
) -> dict[str, str]:
    """This process's environment less any LEADCAP_ setting, plus the stores, data folder and port
    of the server under test (Redis and MongoDB embedded unless given) and `more` settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCAP_")}
    env.update(
        {
            "LEADCAP_DATABASE_URL": database_url,
            "LEADCAP_DATA_DIR": str(data),
            "LEADCAP_PORT": str(port),
            "LEADCAP_LOG_LEVEL": "WARNING",
            **more,
        }
    )
    if redis_url:
        env["LEADCAP_REDIS_URL"] = redis_url
    if mongo_url:
        env["LEADCAP_MONGO_URL"] = mongo_url
    return env


def wait_until_up(server: subprocess.Popen[bytes], url: str, seconds: float = 120) -> None:
    """Return once `url` answers 200; exit if the server died or it took longer than `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("leadcap serve did not come up")
        time.sleep(0.5)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
