"""The commands docker-compose.yml and the Dockerfile run, run here: the web and worker commands
start the stack every deploy test uses (conftest.py); these run the healthchecks, which must
pass on a healthy stack and fail when leadcap cannot keep a 202's promise."""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
from pathlib import Path
from typing import Any

from leadcap.ops import embedded
from tests.deploy import helpers
from tests.deploy.conftest import Stack
from tests.deploy.helpers import nginxconf
from tests.deploy.test_dockerfile import healthcheck_argv
from tests.servers import wait_for


def run(argv: list[str], env: dict[str, str], **changes: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env={**env, **changes},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=helpers.ROOT,
    )


def dead_url(scheme: str) -> str:
    return f"{scheme}://127.0.0.1:{embedded.free_port()}/0"


async def test_the_stack_started_from_the_compose_commands(stack: Stack) -> None:
    assert stack.web.alive() and stack.worker.alive()
    assert "applied" in stack.migrated  # `leadcap migrate` ran on the empty database first


async def test_compose_healthchecks_pass_on_a_healthy_stack(compose: dict[str, Any], stack: Stack) -> None:
    services = compose["services"]

    async def all_pass() -> bool:
        return all(
            run(helpers.command_argv(services[name]["healthcheck"]["test"]), stack.env).returncode == 0
            for name in ("web", "worker")
        )

    assert await wait_for(all_pass, timeout=20, every=0.5)


def test_web_healthcheck_fails_when_the_web_process_does_not_answer(
    compose: dict[str, Any], stack: Stack
) -> None:
    argv = helpers.command_argv(compose["services"]["web"]["healthcheck"]["test"])
    result = run(argv, stack.env, LEADCAP_PORT=str(embedded.free_port()))
    assert result.returncode != 0


def test_image_healthcheck_is_healthy_while_leads_are_safe(stack: Stack) -> None:
    argv = healthcheck_argv()
    assert run(argv, stack.env).returncode == 0
    # MongoDB away: leadcap is degraded (exit 1) but every 202 still holds: healthy.
    degraded = run(argv, stack.env, LEADCAP_MONGO_URL=dead_url("mongodb"))
    assert degraded.returncode == 0
    assert run(["leadcap", "health"], stack.env, LEADCAP_MONGO_URL=dead_url("mongodb")).returncode == 1


def test_image_healthcheck_is_unhealthy_when_redis_or_postgres_is_down(stack: Stack) -> None:
    argv = healthcheck_argv()
    assert run(argv, stack.env, LEADCAP_REDIS_URL=dead_url("redis")).returncode == 1
    assert run(argv, stack.env, LEADCAP_DATABASE_URL=dead_url("postgresql")).returncode == 1
    assert run(argv, stack.env, LEADCAP_RATE_LIMIT="ten/minute").returncode == 1  # bad configuration


def test_migrate_is_safe_to_run_again(stack: Stack) -> None:
    """The migrate service runs on every `docker compose up`."""
    result = run(["leadcap", "migrate"], stack.env, LEADCAP_DATABASE_URL=stack.roles.owner_url)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_the_app_role_cannot_migrate(stack: Stack) -> None:
    """web's and worker's URL may not change the schema, and the refusal names no secret."""
    result = run(["leadcap", "migrate"], stack.env)
    assert result.returncode != 0
    password = stack.database_url.split(":")[2].split("@")[0]
    assert password not in result.stdout + result.stderr


def bootstrap(compose: dict[str, Any], folder: Path) -> subprocess.CompletedProcess[str]:
    """docker-compose.yml's tls-bootstrap command, run here on `folder` in place of ./tls."""
    argv = helpers.command_argv(compose["services"]["tls-bootstrap"]["command"])
    assert argv[:2] == ["sh", "-c"] and argv[2].count("/etc/leadcap/tls") == 1
    script = argv[2].replace("/etc/leadcap/tls", str(folder))
    return subprocess.run(
        ["sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.defpath},
    )


def test_tls_bootstrap_makes_a_self_signed_pair_once(compose: dict[str, Any], tmp_path: Path) -> None:
    """No certificate yet: a key only its owner reads, a certificate for localhost that goes with
    it, one line saying so. Run again (every `up`), it changes nothing."""
    made = bootstrap(compose, tmp_path)
    assert made.returncode == 0, made.stderr
    assert "self-signed" in made.stdout and "docs/operations.md" in made.stdout
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tls.crt", "tls.key"]
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)  # they match
    text = subprocess.run(
        [helpers.tool("openssl"), "x509", "-in", str(cert), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "DNS:localhost" in text and "IP Address:127.0.0.1" in text
    before = (cert.read_bytes(), key.read_bytes())
    again = bootstrap(compose, tmp_path)
    assert again.returncode == 0 and again.stdout == "", again.stdout + again.stderr
    assert (cert.read_bytes(), key.read_bytes()) == before


def test_tls_bootstrap_leaves_a_real_pair_alone_and_refuses_half_of_one(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    ours = tmp_path / "ours"
    pair = nginxconf.self_signed(ours)
    installed = [path.read_bytes() for path in pair]
    kept = bootstrap(compose, ours)
    assert kept.returncode == 0 and kept.stdout == "", kept.stdout + kept.stderr
    assert [path.read_bytes() for path in pair] == installed
    for present in ("tls.crt", "tls.key"):
        half = tmp_path / f"only-{present}"
        half.mkdir()
        (half / present).write_text("installed by hand")
        refused = bootstrap(compose, half)
        assert refused.returncode == 78, refused.stdout + refused.stderr
        assert "tls.crt" in refused.stderr and "tls.key" in refused.stderr
        assert [p.name for p in half.iterdir()] == [present]  # nothing made, nothing replaced
