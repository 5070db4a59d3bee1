"""The commands docker-compose.yml and the Dockerfile run, run here: the web and worker commands
start the stack every deploy test uses (conftest.py); these run the healthchecks, which must
pass on a healthy stack and fail when leadcap cannot keep a 202's promise."""

from __future__ import annotations

import subprocess
from typing import Any

from leadcap.ops import embedded
from tests.deploy import helpers
from tests.deploy.conftest import Stack
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
