"""`leadcap campaigns …` as an operator runs it, against a real PostgreSQL: add, list, update,
archive, and every hostile slug, host and file refused with exit 2 before anything is stored."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from cli import main
from tests import servers
from tests.cli.test_webhooks import Ran
from tests.servers import Stores

DEFAULT = json.loads((Path(main.__file__).parents[1] / "web" / "campaign.default.json").read_text("utf-8"))


@pytest.fixture(scope="module")
async def own_env(env: dict[str, str], stores: Stores) -> dict[str, str]:
    """The suite's environment on a database of its own (campaigns are install-wide rows)."""
    return {**env, "LEADCAP_DATABASE_URL": await servers.migrated_database(stores.database)}


def cli(*args: str, env: dict[str, str]) -> Ran:
    result = CliRunner().invoke(main.app, ["campaigns", *args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def campaign_file(tmp_path: Path, name: str = "c.json", **changes: object) -> Path:
    data = json.loads(json.dumps(DEFAULT))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def listed(env: dict[str, str]) -> dict[str, dict[str, object]]:
    ran = cli("list", "--json", env=env)
    assert ran.returncode == 0, ran.stderr
    return {row["slug"]: row for row in json.loads(ran.stdout)}


def stored(env: dict[str, str], slug: str) -> dict[str, object]:
    """The campaign file PostgreSQL holds for `slug` (the CLI runs its own event loop, so this too)."""

    async def read() -> str:
        conn = await asyncpg.connect(env["LEADCAP_DATABASE_URL"])
        try:
            return str(await conn.fetchval("SELECT document FROM campaigns WHERE slug = $1", slug))
        finally:
            await conn.close()

    return dict(json.loads(asyncio.run(read())))


def test_add_list_update_archive(own_env: dict[str, str], tmp_path: Path) -> None:
    path = campaign_file(tmp_path, locales__en__headline="Spring sale")
    added = cli("add", "spring-26", "--file", str(path), "--host", "spring.example.com", env=own_env)
    assert added.returncode == 0, added.stderr
    row = listed(own_env)["spring-26"]
    assert (row["path"], row["host"], row["status"]) == ("/spring-26/", "spring.example.com", "live")
    assert stored(own_env, "spring-26")["locales"]["en"]["headline"] == "Spring sale"  # type: ignore[index]
    updated = cli(
        "update", "spring-26", "--file", str(campaign_file(tmp_path, locales__en__headline="Summer")),
        env=own_env,
    )  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    assert stored(own_env, "spring-26")["locales"]["en"]["headline"] == "Summer"  # type: ignore[index]
    assert listed(own_env)["spring-26"]["host"] == "spring.example.com"  # kept when not given
    # a second live campaign cannot take the host; the slug is taken for good
    other = cli("add", "fall", "--file", str(path), "--host", "spring.example.com", env=own_env)
    assert other.returncode == 2 and "--host" in other.stderr
    assert cli("add", "spring-26", "--file", str(path), env=own_env).returncode == 2
    assert cli("archive", "spring-26", env=own_env).returncode == 0
    assert cli("archive", "spring-26", env=own_env).returncode == 0  # twice is fine
    row = listed(own_env)["spring-26"]
    assert row["status"] == "archived"
    # times in LEADCAP_TIMEZONE, as every other listing shows them
    assert str(row["archived_at"]).endswith("+03:30")
    with_tz = cli("list", "--json", env={**own_env, "LEADCAP_TIMEZONE": "UTC"})
    assert json.loads(with_tz.stdout)[0]["archived_at"].endswith("+00:00")
    assert cli("update", "spring-26", "--file", str(path), env=own_env).returncode == 1
    assert cli("add", "spring-26", "--file", str(path), env=own_env).returncode == 2
    # an archived campaign gives its host up
    assert (
        cli("add", "fall", "--file", str(path), "--host", "spring.example.com", env=own_env).returncode == 0
    )
    assert cli("archive", "nothing-here", env=own_env).returncode == 1
    table = cli("list", env=own_env)
    assert table.returncode == 0 and "fall" in table.stdout


@pytest.mark.parametrize(
    "slug",
    ["api", "admin", "assets", "static", "metrics", "default", "well-known", "Spring", "spring sale",
     "../etc", "a" * 41, "bahar\u200c", "بهار", "x;drop", "%2e%2e", "-x_y", ""],
)  # fmt: skip
def test_refused_slugs(own_env: dict[str, str], tmp_path: Path, slug: str) -> None:
    ran = cli("add", slug, "--file", str(campaign_file(tmp_path)), env=own_env)
    assert ran.returncode == 2, ran.stdout
    assert "Traceback" not in ran.stderr and slug not in listed(own_env)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "JSON object"),
        (json.dumps({**DEFAULT, "privacy_url": "javascript:alert(1)"}).encode(), "privacy_url"),
        (json.dumps({**DEFAULT, "badges": [{"image": "https://*; script-src *"}]}).encode(), "badges.0"),
        (json.dumps({**DEFAULT, "hours": []}).encode(), "hours"),
        (json.dumps({k: v for k, v in DEFAULT.items() if k != "locales"}).encode(), "locales"),
        (b" " * (300 * 1024), "larger than"),
    ],
)
def test_refused_files(own_env: dict[str, str], tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    ran = cli("add", "hostile-file", "--file", str(path), env=own_env)
    assert ran.returncode == 2 and says in ran.stderr and "Traceback" not in ran.stderr
    assert "LEADCAP_CAMPAIGN_FILE" not in ran.stderr  # named for the option it came from
    assert "hostile-file" not in listed(own_env)


def test_refused_paths_and_hosts(own_env: dict[str, str], tmp_path: Path) -> None:
    for path in (tmp_path / "missing.json", tmp_path):
        ran = cli("add", "nowhere", "--file", str(path), env=own_env)
        assert ran.returncode == 2 and "--file" in ran.stderr
    assert cli("add", "nofile", env=own_env).returncode == 2
    good = str(campaign_file(tmp_path))
    for host in (
        "https://x.example.com",
        "X.example.com",
        "x.example.com:8080",
        "localhost",
        "a..b",
        "a b.com",
    ):
        ran = cli("add", "hosted", "--file", good, "--host", host, env=own_env)
        assert ran.returncode == 2 and "--host" in ran.stderr, host
    assert "hosted" not in listed(own_env)
