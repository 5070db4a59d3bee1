"""The repository's nginx.conf with this machine's paths and addresses, everything else as
shipped: what the bench's edge phase and tests/deploy run (stdlib only, so both can import it).

Each substituted line must appear exactly once, so nginx.conf cannot drift away from what they
run without saying so."""

from __future__ import annotations

import os
from pathlib import Path

TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def render(
    source: Path,
    folder: Path,
    *,
    listen_port: int,
    upstream: str,
    assets_root: Path,
    page_root: Path,
    access_log: str,
    changes: dict[str, str] | None = None,
) -> Path:
    temp = "".join(f"    {name}_temp_path {folder / name};\n" for name in TEMP_DIRS)
    substitutions = {
        # nginx as root needs a user for its workers; root can read pytest's private folders.
        "user nginx;": "user root;" if os.geteuid() == 0 else "",
        "pid /run/nginx.pid;": f"pid {folder / 'nginx.pid'};",
        "error_log /var/log/nginx/error.log notice;": f"error_log {folder / 'error.log'} notice;",
        "access_log /var/log/nginx/access.log leadcap;": f"access_log {access_log} leadcap;",
        # Debian's nginx predates `resolve` (1.27.3): the address is fixed here anyway.
        "server web:8000 resolve;": f"server {upstream};",
        "listen 80 default_server;": f"listen 127.0.0.1:{listen_port} default_server;",
        "root /srv/leadcap/ui;": f"root {assets_root};",
        "root /srv/leadcap/page;": f"root {page_root};",
        "\nhttp {\n": "\nhttp {\n" + temp,
        **(changes or {}),
    }
    text = source.read_text()
    for old, new in substitutions.items():
        if text.count(old) != 1:
            raise RuntimeError(f"{source} should contain {old!r} exactly once")
        text = text.replace(old, new)
    for name in TEMP_DIRS:
        (folder / name).mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(text)
    return conf
