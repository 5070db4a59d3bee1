#!/bin/bash
# Floors on this machine: one bare Sanic process (floor_app.py) and one nginx worker, each serving
# the built web/ui/dist/index.html to wrk -t2 -c64 -d8s, then the Sanic process taking POSTs, bare
# and with one Redis EVALSHA (REDIS_URL, default db 14 of the machine's Redis); prints req/s and
# CPU µs per request.
# Needs a built web/ui/dist, wrk and nginx (apt-get install nginx). Run from the repository root
# with the dev venv's python first on PATH (or PY=/path/to/python).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${PY:-python}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/14}
TMP=$(mktemp -d)
trap 'kill "${SANIC:-}" 2>/dev/null || true; [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true; rm -rf "$TMP"' EXIT
CSP="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
cat > "$TMP/nginx.conf" <<NG
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  server {
    listen 127.0.0.1:48124;
    root $ROOT/web/ui/dist;
    location = / {
      add_header Cache-Control "no-cache";
      add_header Content-Security-Policy "$CSP";
      add_header X-Content-Type-Options nosniff;
      add_header Referrer-Policy strict-origin-when-cross-origin;
      add_header X-Frame-Options DENY;
      try_files /index.html =404;
    }
  }
}
NG
(cd "$ROOT" && exec "$PY" "$HERE/floor_app.py" 48123 "$REDIS_URL") > "$TMP/sanic.log" 2>&1 &
SANIC=$!
nginx -c "$TMP/nginx.conf" -p "$TMP"
sleep 4
cat > "$TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"phone": "09123456789", "source": "hero", "utm": {"source": "google", "medium": "cpc", "campaign": "fall"}}'
wrk.headers["Content-Type"] = "application/json"
LUA
for target in "sanic-GET $SANIC http://127.0.0.1:48123/" "nginx-GET $(cat "$TMP/nginx.pid") http://127.0.0.1:48124/" \
    "sanic-POST $SANIC http://127.0.0.1:48123/post $TMP/post.lua" \
    "sanic-POST+redis $SANIC http://127.0.0.1:48123/post-redis $TMP/post.lua"; do
  # shellcheck disable=SC2086
  set -- $target
  "$PY" - "$1" "$2" "$3" "${4:-}" <<'PYEOF'
import subprocess, sys, time
import psutil
name, pid, url, script = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
def cpu(): return sum(sum(p.cpu_times()[:2]) for p in procs)
c0, m0, t0 = cpu(), psutil.cpu_times(), time.time()
extra = ["-s", script] if script else []
out = subprocess.run(["wrk", "-t2", "-c64", "-d8s", *extra, url], capture_output=True, text=True).stdout
wall = time.time() - t0
m1 = psutil.cpu_times()
rps = float(next(l for l in out.splitlines() if l.startswith("Requests/sec")).split()[1])
used = (cpu() - c0) / wall
machine = ((m1.user + m1.system) - (m0.user + m0.system)) / wall
print(f"{name}: {rps:,.0f} req/s at {used:.2f} core = {used * 1e6 / rps:.0f} µs/request (machine busy {machine:.2f} cores)")
PYEOF
done
