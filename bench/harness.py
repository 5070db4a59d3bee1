"""What the benches that start their own `leadcap serve` share: its environment, waiting for it to
answer, and the percentile their figures report. Imported as `bench.harness` (the scripts put the
repository root on sys.path; bench/ is no package, a namespace one from the root)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

RESULTS = Path(__file__).resolve().parent / "results"
SYSTEM_PG = "postgresql://postgres@127.0.0.1:5432/postgres"  # this machine's, when it runs one


def answers(url: str) -> bool:
    """Whether something accepts connections at the host and port of `url`."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


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


def libpq(url: str) -> dict[str, str]:
    """psql's PG* variables for `url`: the password never on a command line, so no error
    message (a failed run prints its command) shows it."""
    parts = urlsplit(url)
    return {
        "PGHOST": parts.hostname or "localhost",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "postgres",
        "PGPASSWORD": parts.password or "",
        "PGDATABASE": parts.path.lstrip("/"),
    }


def psql_file(url: str, sql: Path, **variables: object) -> None:
    """Run the SQL file `sql` on the database at `url` with psql, `variables` set as psql's -v."""
    psql = shutil.which("psql")
    if not psql:
        raise SystemExit(f"psql (Debian's postgresql-client) runs {sql.name}")
    settings = [arg for name, value in variables.items() for arg in ("-v", f"{name}={value}")]
    subprocess.run(
        [psql, "-X", "-q", *settings, "-f", str(sql)], check=True, env={**os.environ, **libpq(url)}
    )


def report(name: str, result: object) -> Path:
    """Print a bench's figures as JSON and keep them in bench/results/<name>-<UTC time>.json."""
    text = json.dumps(result, indent=2)
    print(text)
    out = RESULTS / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
