"""The `leadcap` command line as an operator runs it: exit statuses, stderr, stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import servers
from tests.servers import Process, Server, Stores


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LEADCAP_RATE_LIMIT", "ten/minute"),
        ("LEADCAP_DATABASE_URL", "mysql://x/y"),
        ("LEADCAP_DEFAULT_REGION", "XX"),
        ("LEADCAP_ALLOWED_REGIONS", "IR,QQ"),
        ("LEADCAP_PORT", "eighty"),
    ],
)
@pytest.mark.parametrize(
    "command", ["config", "health", "migrate", "serve", "worker", "export-leads", "flush-cache"]
)
def test_bad_configuration_exits_78_with_one_line(
    tmp_path: Path, variable: str, value: str, command: str
) -> None:
    result = servers.leadcap(command, env={variable: value}, cwd=tmp_path, timeout=30)
    assert result.returncode == 78
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0]
    assert result.stdout == ""


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LEADCAP_RATE_LIMIT=ten/minute\n")
    result = servers.leadcap("config", env={}, cwd=tmp_path)
    assert result.returncode == 78 and "LEADCAP_RATE_LIMIT" in result.stderr


def test_config_masks_secrets(tmp_path: Path) -> None:
    result = servers.leadcap(
        "config", env={"LEADCAP_DATABASE_URL": "postgresql://app:hunter2@db/leads"}, cwd=tmp_path
    )
    assert result.returncode == 0
    assert "LEADCAP_DATABASE_URL=postgresql://app:***@db/leads" in result.stdout
    assert "hunter2" not in result.stdout


def test_production_refuses_embedded_stores(tmp_path: Path) -> None:
    result = servers.leadcap("serve", env={"LEADCAP_ENV": "production"}, cwd=tmp_path)
    assert result.returncode == 78 and "LEADCAP_DATABASE_URL" in result.stderr


def test_help_describes_every_command(tmp_path: Path) -> None:
    result = servers.leadcap("--help", env={}, cwd=tmp_path)
    for command in ("serve", "worker", "migrate", "flush-cache", "health", "config", "export-leads"):
        assert command in result.stdout
    serve = servers.leadcap("serve", "--help", env={}, cwd=tmp_path)
    assert "--workers" in serve.stdout and "--port" in serve.stdout


def test_health_exit_codes(server: Server, worker: Process, env: dict[str, str], stores: Stores) -> None:
    ok = servers.leadcap("health", "--json", env=env)
    report = json.loads(ok.stdout)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert report["status"] == "ok"
    assert set(report["checks"]) == {"postgres", "redis", "mongo", "workers", "webhooks"}

    degraded = servers.leadcap(
        "health", "--json", env={**env, "LEADCAP_MONGO_URL": "mongodb://127.0.0.1:9/x"}
    )
    assert degraded.returncode == 1 and json.loads(degraded.stdout)["status"] == "degraded"

    down = servers.leadcap(
        "health", env={**env, "LEADCAP_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/x"}
    )
    assert down.returncode == 2
    assert "postgres" in down.stdout and "down" in down.stdout  # the Rich table
