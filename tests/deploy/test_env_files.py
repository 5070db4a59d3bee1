""".env.example (local) and .env.docker (compose): every setting documented, each file valid
for leadcap, and no secret but the documented placeholder."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from leadcap import settings
from leadcap.settings import Settings, read_env_file
from tests.deploy import helpers

ENV_EXAMPLE = helpers.ROOT / ".env.example"
PLACEHOLDER = "CHANGE_ME"
KNOWN = set(Settings().masked())  # every LEADCAP_* variable leadcap reads, new ones included


def mentioned(path: Path) -> set[str]:
    """LEADCAP_* names set or shown commented out (an optional URL is documented that way)."""
    return set(re.findall(r"^#?\s*(LEADCAP_[A-Z0-9_]+)=", path.read_text(), flags=re.MULTILINE))


@pytest.mark.parametrize("path", [ENV_EXAMPLE, helpers.ENV_DOCKER], ids=lambda p: p.name)
def test_every_setting_is_documented_and_none_is_unknown(path: Path) -> None:
    names = mentioned(path)
    assert sorted(KNOWN - names) == [], "settings missing from the file"
    assert sorted(names - KNOWN) == [], "variables leadcap does not read"
    text = path.read_text()
    for name in names:  # each one has a comment line above it (or above its group)
        before = text[: text.index(f"{name}=")].rstrip("# \n").splitlines()
        assert any(line.startswith("#") for line in before[-4:]), name


def test_env_docker_is_refused_until_its_placeholders_are_replaced(tmp_path: Path) -> None:
    with pytest.raises(settings.ConfigError) as refused:
        settings.load(environ={}, env_file=helpers.ENV_DOCKER)
    assert PLACEHOLDER not in refused.value.message.replace("the CHANGE_ME placeholder", "")
    filled = tmp_path / ".env"
    filled.write_text(
        helpers.ENV_DOCKER.read_text().replace(PLACEHOLDER, "s3cret-filled-in-" * 2)
    )  # 32+: a key too
    loaded = settings.load(environ={}, env_file=filled)
    assert loaded.production
    assert loaded.database_url and loaded.redis_url and loaded.mongo_url
    assert loaded.host == "0.0.0.0" and loaded.port == 8000  # nginx.conf proxies to web:8000
    assert [str(n) for n in loaded.trusted_proxies] == ["172.30.80.10/32"]


def test_env_example_is_a_valid_local_configuration() -> None:
    loaded = settings.load(environ={}, env_file=ENV_EXAMPLE)
    assert not loaded.production
    assert loaded.trusted_proxies == ()  # trust no one unless a proxy is really there


def test_env_docker_files_hold_placeholders_only_and_they_agree() -> None:
    """Each password appears in two files (the store's and its user's URL): they must agree, and
    each login is its own placeholder variable, so a real deploy can give each its own value."""
    leadcap = read_env_file(helpers.ENV_DOCKER)
    migrate = read_env_file(helpers.ENV_MIGRATE)
    stores = read_env_file(helpers.ENV_STORES)
    for path, values in (
        (helpers.ENV_DOCKER, leadcap),
        (helpers.ENV_MIGRATE, migrate),
        (helpers.ENV_STORES, stores),
    ):
        for name, value in values.items():
            if "PASSWORD" in name:
                assert value == PLACEHOLDER, (path.name, name)
            if name.endswith("_URL"):
                assert urlsplit(value).password in (None, "", PLACEHOLDER), (path.name, name)
    assert set(migrate) == {"LEADCAP_DATABASE_URL"}  # the one thing migrate does differently

    app, owner = urlsplit(leadcap["LEADCAP_DATABASE_URL"]), urlsplit(migrate["LEADCAP_DATABASE_URL"])
    assert (app.username, app.password) == (stores["DB_APP_USER"], stores["DB_APP_PASSWORD"])
    assert (owner.username, owner.password) == (stores["DB_OWNER_USER"], stores["DB_OWNER_PASSWORD"])
    assert app.path == owner.path == "/" + stores["POSTGRES_DB"]
    assert (app.hostname, owner.hostname) == ("db", "db")
    assert len({stores["POSTGRES_USER"], stores["DB_OWNER_USER"], stores["DB_APP_USER"]}) == 3

    assert urlsplit(leadcap["LEADCAP_REDIS_URL"]).password == stores["REDIS_PASSWORD"]

    mongo = urlsplit(leadcap["LEADCAP_MONGO_URL"])
    assert (mongo.username, mongo.password) == (stores["MONGO_APP_USER"], stores["MONGO_APP_PASSWORD"])
    assert mongo.username != stores["MONGO_INITDB_ROOT_USERNAME"]
    assert f"authSource={stores['MONGO_APP_DB']}" in mongo.query  # the user lives in its own database


def test_no_leadcap_file_holds_an_administrator_password() -> None:
    for path in (helpers.ENV_DOCKER, helpers.ENV_MIGRATE):
        names = set(read_env_file(path))
        assert not names & {"POSTGRES_PASSWORD", "MONGO_INITDB_ROOT_PASSWORD", "DB_OWNER_PASSWORD"}, path.name


def test_the_mongo_init_script_grants_read_write_on_the_log_database_only() -> None:
    """Read, since no MongoDB with users runs here: one user, one role, on MONGO_APP_DB."""
    script = helpers.MONGO_INIT.read_text()
    assert script.count("createUser(") == 1
    assert 'roles: [{ role: "readWrite", db: database }]' in script
    assert "db.getSiblingDB(database)" in script
    assert 'const database = required("MONGO_APP_DB")' in script
    for name in ("MONGO_APP_USER", "MONGO_APP_PASSWORD"):
        assert f'required("{name}")' in script
    assert re.findall(r'role: "(\w+)"', script) == ["readWrite"]
