"""docker-compose.yml as Compose itself reads it (`docker-compose config`): the shape the issue
and docs/operations.md promise. The commands in it are run for real in test_commands.py."""

from __future__ import annotations

import ipaddress
from typing import Any

from leadcap.settings import read_env_file
from tests.deploy import helpers

LEADCAP_SERVICES = ("web", "worker")
STORES = {"db": "/var/lib/postgresql/data", "redis": "/data", "mongo": "/data/db"}


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"web", "worker", "nginx", "db", "redis", "mongo"}
    for name, service in compose["services"].items():
        check = service.get("healthcheck", {})
        assert not check.get("disable"), name
        assert check.get("test", [None])[0] in ("CMD", "CMD-SHELL"), name


def test_services_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    expected = {
        "web": {"db", "redis", "mongo"},
        "worker": {"db", "redis", "web"},  # web healthy = the schema is migrated
        "nginx": {"web"},
    }
    for name, needs in expected.items():
        depends = services[name]["depends_on"]
        assert set(depends) == needs, name
        assert {d["condition"] for d in depends.values()} == {"service_healthy"}, name


def test_web_migrates_once_before_serving(compose: dict[str, Any]) -> None:
    argv = helpers.command_argv(compose["services"]["web"]["command"])
    assert argv == ["sh", "-c", "leadcap migrate && exec leadcap serve"]
    assert helpers.command_argv(compose["services"]["worker"]["command"]) == ["leadcap", "worker"]


def test_redis_keeps_an_fsynced_append_only_file(compose: dict[str, Any]) -> None:
    command = " ".join(compose["services"]["redis"]["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command
    assert "--maxmemory-policy noeviction" in command  # queued leads are never evicted


def test_stores_keep_their_data_in_named_volumes(compose: dict[str, Any]) -> None:
    for name, path in STORES.items():
        mounts = compose["services"][name]["volumes"]
        assert [(m["type"], m["target"]) for m in mounts] == [("volume", path)], name
        assert mounts[0]["source"] in compose["volumes"], name


def test_only_nginx_is_published_on_port_80(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        ports = service.get("ports", [])
        if name == "nginx":
            assert [(p["target"], p["published"]) for p in ports] == [(80, "80")]
        else:
            assert ports == [], name


def test_web_and_worker_scale(compose: dict[str, Any]) -> None:
    """Nothing pins one replica: no container name, no host port, no fixed address."""
    for name in LEADCAP_SERVICES:
        service = compose["services"][name]
        assert "container_name" not in service
        assert all(not (net or {}).get("ipv4_address") for net in service["networks"].values())
        assert service["build"]["target"] == "runtime"
        assert service["image"] == compose["services"]["web"]["image"]  # one image, many roles
    assert compose["services"]["nginx"]["build"]["target"] == "edge"


def test_leadcap_trusts_only_nginx(compose: dict[str, Any]) -> None:
    services, networks = compose["services"], compose["networks"]
    nginx_address = ipaddress.ip_address(services["nginx"]["networks"]["edge"]["ipv4_address"])
    subnet = ipaddress.ip_network(networks["edge"]["ipam"]["config"][0]["subnet"])
    assert nginx_address in subnet
    assert set(services["nginx"]["networks"]) == {"edge"}
    assert set(services["web"]["networks"]) == {"edge", "backend"}
    for name in ("worker", *STORES):
        assert set(services[name]["networks"]) == {"backend"}, name
    assert networks["backend"].get("internal") is True
    for name in LEADCAP_SERVICES:
        assert services[name]["environment"]["LEADCAP_TRUSTED_PROXIES"] == f"{nginx_address}/32"


def test_every_service_is_configured_from_env_docker(compose: dict[str, Any]) -> None:
    expected = read_env_file(helpers.ENV_DOCKER)
    expected.update(read_env_file(helpers.ROOT / ".env.docker.local"))  # the optional override
    for name, service in compose["services"].items():
        if name == "nginx":
            continue  # nginx.conf is its whole configuration
        assert service["environment"] == expected, name
