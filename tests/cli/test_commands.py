"""The `leadcap` command line as an operator runs it: exit statuses, stderr, stdout."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli import main
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
    for command in (
        "serve",
        "worker",
        "migrate",
        "flush-cache",
        "health",
        "config",
        "export-leads",
        "dead-letters",
        "init",
    ):
        assert command in result.stdout
    serve = servers.leadcap("serve", "--help", env={}, cwd=tmp_path)
    assert "--workers" in serve.stdout and "--port" in serve.stdout


def every_command(group: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in getattr(group, "commands", {}).items():
        yield from every_command(command, (*path, name))


def test_help_says_what_to_type(tmp_path: Path) -> None:
    """No Python type names: a flag takes no value (not `<bool>`), a repeatable option names
    its choices (not `<list[str]>`), an argument is URL or [ID] in the usage line (not `{url}`),
    and every option with a fixed set of values lists them."""
    runner = CliRunner()
    helps = {}
    for path in every_command(typer.main.get_command(main.app)):
        shown = runner.invoke(main.app, [*path, "--help"], env={"COLUMNS": "250"}, prog_name="leadcap")
        assert shown.exit_code == 0, (path, shown.output)
        helps[" ".join(path)] = shown.output
    assert len(helps) > 15
    for path, text in helps.items():
        for wrong in ("<bool>", "list[", "{", "[[", "<str>...", "<int>..."):
            assert wrong not in text, (path, wrong, text)
    assert "Usage: leadcap webhooks add [OPTIONS] URL" in helps["webhooks add"]
    assert "<lead.created|lead.verified|lead.erased>" in helps["webhooks add"]
    assert "Usage: leadcap webhooks replay [OPTIONS] [DELIVERY_ID]" in helps["webhooks replay"]
    assert "<day|hour|source|campaign|utm_campaign|variant>" in helps["stats"]
    assert "<csv|jsonl>" in helps["export-leads"]
    assert "--locale" in helps["init"] and "fa|en" in helps["init"]


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


def no_stores(data_dir: Path, **extra: str) -> dict[str, str]:
    """No store URL, and a data folder no `serve` uses: nothing is configured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCAP_")}
    return {**env, "LEADCAP_DATA_DIR": str(data_dir), **extra}


def test_health_with_nothing_configured_reports_down(tmp_path: Path) -> None:
    as_json = servers.leadcap("health", "--json", env=no_stores(tmp_path / "data"), cwd=tmp_path)
    assert as_json.returncode == 2, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["status"] == "down"
    for name in ("postgres", "redis", "mongo", "workers"):
        assert report["checks"][name]["status"] == "down"
        assert report["checks"][name]["error"] == "not configured"
    assert report["checks"]["workers"]["count"] == 0 and report["checks"]["workers"]["last_seen_s"] is None
    table = servers.leadcap("health", env=no_stores(tmp_path / "data"), cwd=tmp_path)
    assert table.returncode == 2 and "not configured" in table.stdout


def test_health_reports_the_stores_it_has(tmp_path: Path, stores: Stores) -> None:
    env = no_stores(tmp_path / "data", LEADCAP_REDIS_URL=stores.redis)
    result = servers.leadcap("health", "--json", env=env, cwd=tmp_path)
    checks = json.loads(result.stdout)["checks"]
    assert result.returncode == 2
    assert checks["redis"]["status"] == "ok" and checks["postgres"]["error"] == "not configured"


def test_health_in_production_still_requires_every_url(tmp_path: Path) -> None:
    result = servers.leadcap(
        "health", "--json", env=no_stores(tmp_path, LEADCAP_ENV="production"), cwd=tmp_path
    )
    assert result.returncode == 78 and "LEADCAP_DATABASE_URL" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:hunter2@db/leads?password=hunter2",
        "postgresql://app@db/leads?PASSWORD=hunter2",
        "postgresql://app:hunter2/x@db/leads",
    ],
)
def test_config_never_prints_a_password(tmp_path: Path, url: str) -> None:
    result = servers.leadcap("config", env=no_stores(tmp_path, LEADCAP_DATABASE_URL=url), cwd=tmp_path)
    assert "hunter" not in result.stdout + result.stderr
    assert result.returncode in (0, 78)


def test_change_me_is_refused_in_production(tmp_path: Path) -> None:
    env = no_stores(
        tmp_path,
        LEADCAP_ENV="production",
        LEADCAP_DATABASE_URL="postgresql://leadcap:CHANGE_ME@db/leadcap",
        LEADCAP_REDIS_URL="redis://:s3cret@cache/0",
        LEADCAP_MONGO_URL="mongodb://app:s3cret@m/x",
    )
    result = servers.leadcap("config", env=env, cwd=tmp_path)
    assert result.returncode == 78 and "LEADCAP_DATABASE_URL" in result.stderr
    assert "leadcap:CHANGE" not in result.stderr and "s3cret" not in result.stderr and result.stdout == ""


def test_env_file_with_inline_comments_and_secret_files(tmp_path: Path) -> None:
    secret = tmp_path / "redis_url"
    secret.write_text("redis://:from-a-file@cache:6379/0\n")
    (tmp_path / ".env").write_text(f"LEADCAP_PORT=8001 # the dev port\nLEADCAP_REDIS_URL_FILE={secret}\n")
    result = servers.leadcap("config", env=no_stores(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "LEADCAP_PORT=8001\n" in result.stdout
    assert (
        "LEADCAP_REDIS_URL=redis://:***@cache:6379/0" in result.stdout and "from-a-file" not in result.stdout
    )
    secret.chmod(0)
    unreadable = servers.leadcap("config", env=no_stores(tmp_path), cwd=tmp_path)
    if os.geteuid() != 0:  # root reads any file
        assert unreadable.returncode == 78 and "LEADCAP_REDIS_URL_FILE" in unreadable.stderr
    secret.unlink()
    missing = servers.leadcap("config", env=no_stores(tmp_path), cwd=tmp_path)
    assert missing.returncode == 78 and "LEADCAP_REDIS_URL_FILE" in missing.stderr


def test_version_and_completion(tmp_path: Path) -> None:
    from leadcap import __version__

    version = servers.leadcap("--version", env={}, cwd=tmp_path)
    assert (version.returncode, version.stdout.strip()) == (0, f"leadcap {__version__}")
    shown = servers.leadcap("--help", env={"COLUMNS": "200"}, cwd=tmp_path).stdout
    assert "--install-completion" in shown and "--version" in shown


def test_flush_cache_needs_only_redis(tmp_path: Path, stores: Stores) -> None:
    redis_only = no_stores(tmp_path / "data", LEADCAP_REDIS_URL=servers.with_database(stores.redis, "12"))
    flushed = servers.leadcap("flush-cache", env=redis_only, cwd=tmp_path)
    assert flushed.returncode == 0, flushed.stderr
    assert "LEADCAP_DATABASE_URL" not in flushed.stderr


def test_a_misspelt_setting_is_one_warning_line_and_nothing_else(tmp_path: Path) -> None:
    result = servers.leadcap("config", env={"LEADCAP_VERFY": "sms"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "leadcap: warning: LEADCAP_VERFY is not a leadcap setting and is ignored; did you mean"
        " LEADCAP_VERIFY?"
    ]
    assert "LEADCAP_VERIFY=off" in result.stdout.splitlines()
