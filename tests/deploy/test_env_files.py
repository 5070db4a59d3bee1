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
    filled.write_text(helpers.ENV_DOCKER.read_text().replace(PLACEHOLDER, "s3cret-filled-in"))
    loaded = settings.load(environ={}, env_file=filled)
    assert loaded.production
    assert loaded.database_url and loaded.redis_url and loaded.mongo_url
    assert loaded.host == "0.0.0.0" and loaded.port == 8000  # nginx.conf proxies to web:8000
    assert [str(n) for n in loaded.trusted_proxies] == ["172.30.80.10/32"]


def test_env_example_is_a_valid_local_configuration() -> None:
    loaded = settings.load(environ={}, env_file=ENV_EXAMPLE)
    assert not loaded.production
    assert loaded.trusted_proxies == ()  # trust no one unless a proxy is really there


def test_env_docker_holds_placeholders_only_and_they_agree() -> None:
    values = read_env_file(helpers.ENV_DOCKER)
    for name, value in values.items():
        if "PASSWORD" in name:
            assert value == PLACEHOLDER, name
    database = urlsplit(values["LEADCAP_DATABASE_URL"])
    assert (database.username, database.password, database.path) == (
        values["POSTGRES_USER"],
        values["POSTGRES_PASSWORD"],
        "/" + values["POSTGRES_DB"],
    )
    assert urlsplit(values["LEADCAP_REDIS_URL"]).password == values["REDIS_PASSWORD"]
    mongo = urlsplit(values["LEADCAP_MONGO_URL"])
    assert (mongo.username, mongo.password) == (
        values["MONGO_INITDB_ROOT_USERNAME"],
        values["MONGO_INITDB_ROOT_PASSWORD"],
    )
    assert "authSource=admin" in mongo.query  # the root user lives in the admin database
