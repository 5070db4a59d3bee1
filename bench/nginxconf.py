"""The repository's nginx.conf with this machine's paths and addresses, everything else as
shipped: what the bench's edge phase and tests/deploy run (stdlib only, so both can import it),
and the one place its directives newer than Debian's nginx 1.22 (which the tests and the images'
stand-in run) are written the 1.22 way.

Each substituted line must appear exactly once, so nginx.conf cannot drift away from what they
run without saying so."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def for_nginx_1_22(text: str) -> str:
    """An nginx.conf (the repository's, or the Kubernetes edge's) for Debian's nginx 1.22, the
    same rules: `http2 on;` (1.25.1) becomes the `http2` parameter of each TLS listen line, and
    an upstream server's `resolve` (1.27.3) goes, so it is resolved once at start."""
    text = _substitute(text, {"        http2 on;\n": ""})
    text, listens = re.subn(r"^(\s*listen \S+ ssl)( |;)", r"\1 http2\2", text, flags=re.MULTILINE)
    if listens == 0:
        raise RuntimeError("nginx.conf should have a `listen … ssl` line")
    return re.sub(r"^(\s*server \S+) resolve;", r"\1;", text, flags=re.MULTILINE)


def self_signed(folder: Path, *, names: str = "IP:127.0.0.1,DNS:localhost") -> tuple[Path, Path]:
    """A self-signed certificate and its key (P-256, 2 days), made by openssl in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=leadcap.test"),
            *("-addext", f"subjectAltName={names}"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def render(
    source: Path,
    folder: Path,
    *,
    listen_port: int,
    tls_port: int,
    certificate: tuple[Path, Path],
    upstream: str,
    assets_root: Path,
    page_root: Path,
    acme_root: Path,
    access_log: str,
    changes: dict[str, str] | None = None,
) -> Path:
    """nginx.conf in `folder`, listening on 127.0.0.1 (`listen_port` plain, `tls_port` TLS) with
    `certificate` (chain, key); load balancers are read from `folder`/balancers/*.conf."""
    temp = "".join(f"    {name}_temp_path {folder / name};\n" for name in TEMP_DIRS)
    cert, key = certificate
    substitutions = {
        # nginx as root needs a user for its workers; root can read pytest's private folders.
        "user nginx;": "user root;" if os.geteuid() == 0 else "",
        "pid /run/nginx.pid;": f"pid {folder / 'nginx.pid'};",
        "error_log /var/log/nginx/error.log notice;": f"error_log {folder / 'error.log'} notice;",
        "access_log /var/log/nginx/access.log leadcap;": f"access_log {access_log} leadcap;",
        "server web:8000;": f"server {upstream};",
        "listen 80 default_server;": f"listen 127.0.0.1:{listen_port} default_server;",
        "listen 443 ssl http2 default_server;": f"listen 127.0.0.1:{tls_port} ssl http2 default_server;",
        "ssl_certificate /etc/leadcap/tls/tls.crt;": f"ssl_certificate {cert};",
        "ssl_certificate_key /etc/leadcap/tls/tls.key;": f"ssl_certificate_key {key};",
        "include /etc/nginx/balancers/*.conf;": f"include {folder / 'balancers'}/*.conf;",
        "root /srv/leadcap/ui;": f"root {assets_root};",
        "root /srv/leadcap/page;": f"root {page_root};",
        "root /srv/leadcap/acme;": f"root {acme_root};",
        "\nhttp {\n": "\nhttp {\n" + temp,
        **(changes or {}),
    }
    text = _substitute(for_nginx_1_22(source.read_text()), substitutions)
    for name in TEMP_DIRS:
        (folder / name).mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(text)
    return conf


def _substitute(text: str, substitutions: dict[str, str]) -> str:
    for old, new in substitutions.items():
        if text.count(old) != 1:
            raise RuntimeError(f"nginx.conf should contain {old!r} exactly once")
        text = text.replace(old, new)
    return text
