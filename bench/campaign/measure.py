"""p50/p99 of /admin/ (the overview, of every campaign and of one with variants) and /admin/leads
(the first page, unfiltered and filtered) against a `leadcap serve` on a database filled by
fixture.sql (and variants.sql: 20 campaigns with 4 variants each).

    psql ... -d DB -v leads=1000000 -v days=90 -f bench/campaign/fixture.sql
    psql ... -d DB -f bench/campaign/variants.sql
    python bench/campaign/measure.py --database-url postgresql://postgres@127.0.0.1:5432/DB

It starts `leadcap serve` itself (Redis and MongoDB embedded under a temporary data folder
unless --redis-url/--mongo-url are given), adds a user, signs in, warms up, then times
--requests sequential requests per page, and prints the figures (and `leadcap stats` for the
since yesterday) on stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.harness import percentile, serve_env, wait_until_up  # noqa: E402
from leadcap.ops import embedded  # noqa: E402

PASSWORD = "bench password 1"


def traffic(http: httpx.Client) -> None:
    """Some of today's traffic through the real stack, for `leadcap stats` to show: 1,000 distinct
    visitors (by user agent) viewing 1,500 times, then posts of each outcome from one address."""
    for i in range(1500):
        http.get("/", headers={"user-agent": f"bench-visitor-{i % 1000}"})
    phones = [f"0912{n:07d}" for n in range(9_000_000, 9_000_030)]
    bodies = [{"phone": p, "source": "hero", "utm": {"campaign": "brand"}} for p in phones]
    bodies += [{"phone": phones[0]}] * 3 + [{"phone": "12"}] * 4 + [{"source": "x"}] * 2
    bodies += [{"phone": "02188888888"}] + [{"phone": phones[1]}] * 5  # the last ones: rate-limited
    for body in bodies:
        http.post("/api/leads/", json=body)
    time.sleep(3)  # the counters flush every second; the worker writes the leads


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url")
    parser.add_argument("--mongo-url")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="leadcap-campaign-bench-"))
    port = embedded.free_port()
    env = serve_env(
        args.database_url, data, port, args.redis_url, args.mongo_url, LEADCAP_RATE_LIMIT="40/minute"
    )
    cli = [sys.executable, "-m", "cli"]
    subprocess.run(
        [*cli, "admin", "add-user", "bench"],
        input=PASSWORD + "\n",
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    server = subprocess.Popen(
        [*cli, "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, base + "/admin/login")
        with httpx.Client(base_url=base, timeout=30) as http:
            traffic(http)
            form = http.get("/admin/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
            login_cookie = form.cookies.get("leadcap_admin_login") or re.search(
                r"leadcap_admin_login=([^;]+)", form.headers["set-cookie"]
            ).group(1)  # type: ignore[union-attr]
            signed = http.post(
                "/admin/login",
                data={"name": "bench", "password": PASSWORD, "csrf": csrf},
                headers={"cookie": f"leadcap_admin_login={login_cookie}"},
            )
            token = re.search(r"leadcap_admin=([^;]+)", signed.headers["set-cookie"]).group(1)  # type: ignore[union-attr]
            http.cookies.clear()
            cookie = {"cookie": f"leadcap_admin={token}"}
            pages = {
                "overview": "/admin/",
                # one campaign's, with its variants' table (after variants.sql; without it, no table)
                "overview slug=c07": "/admin/?slug=c07",
                "leads first page": "/admin/leads",
                "leads status=qualified": "/admin/leads?status=qualified",
                "leads campaign=brand": "/admin/leads?campaign=brand",
            }
            results = {}
            for name, path in pages.items():
                for _ in range(10):  # warm up: prepared statements, caches
                    assert http.get(path, headers=cookie).status_code == 200
                timings = []
                for _ in range(args.requests):
                    started = time.perf_counter()
                    response = http.get(path, headers=cookie)
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.status_code
                results[name] = {
                    "p50_ms": round(percentile(timings, 50), 1),
                    "p99_ms": round(percentile(timings, 99), 1),
                    "max_ms": round(max(timings), 1),
                    "requests": args.requests,
                }
        table = subprocess.run(
            [*cli, "stats", "--since", "yesterday"],
            check=False,
            env={**env, "COLUMNS": "130"},
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        print(table.stdout, file=sys.stderr)
        print(json.dumps({"pages": results}, indent=2))
    finally:
        server.terminate()
        server.wait(60)


if __name__ == "__main__":
    main()
