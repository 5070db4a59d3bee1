"""docker-compose.yml as Compose itself reads it (`docker-compose config`): the shape the issue
and docs/operations.md promise. The commands in it are run for real in test_commands.py."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from leadcap.settings import read_env_file
from tests.deploy import helpers

LEADCAP_SERVICES = ("web", "worker")
STORES = {"db": "/var/lib/postgresql/data", "redis": "/data", "mongo": "/data/db"}
ALL = {"migrate", "web", "worker", "tls-bootstrap", "nginx", "db", "redis", "mongo"}
ONE_SHOT = ("migrate", "tls-bootstrap")  # they exit; what needs them waits for that
# Capabilities given back after `cap_drop: [ALL]`, each explained in docker-compose.yml: the
# official images' entrypoints start as root to fix the data folder's owner, then drop to their
# user; nginx's master binds :80 and drops to `nginx` for its workers. leadcap needs none.
CAPABILITIES = {
    "migrate": set(),
    "web": set(),
    "worker": set(),
    "tls-bootstrap": set(),
    "nginx": {"CHOWN", "NET_BIND_SERVICE", "SETGID", "SETUID"},
    "db": {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"},
    "redis": {"CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"},
    "mongo": {"CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"},
}
# Where a read-only container may still write (besides its data volume).
SCRATCH = {
    "migrate": {"/var/lib/leadcap", "/tmp"},
    "web": {"/var/lib/leadcap", "/tmp"},
    "worker": {"/var/lib/leadcap", "/tmp"},
    "tls-bootstrap": {"/tmp"},
    "nginx": {"/var/cache/nginx", "/run", "/tmp"},
    "db": {"/var/run/postgresql", "/tmp"},
    "redis": {"/tmp"},
    "mongo": {"/tmp"},
}


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == ALL
    for name, service in compose["services"].items():
        if name in ONE_SHOT:  # the others wait for it to complete instead
            assert service["restart"] == "no"
            assert service["healthcheck"]["disable"] is True
            continue
        check = service.get("healthcheck", {})
        assert not check.get("disable"), name
        assert check.get("test", [None])[0] in ("CMD", "CMD-SHELL"), name


def test_services_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    expected = {
        "migrate": {"db"},
        "web": {"migrate", "db", "redis", "mongo"},
        "worker": {"migrate", "db", "redis"},
        "nginx": {"tls-bootstrap", "web"},
    }
    for name, needs in expected.items():
        depends = services[name]["depends_on"]
        assert set(depends) == needs, name
        conditions = {d["condition"] for n, d in depends.items() if n not in ONE_SHOT}
        assert conditions == {"service_healthy"}, name
        for one_shot in needs & set(ONE_SHOT):  # the schema, the certificate: there before it starts
            assert depends[one_shot]["condition"] == "service_completed_successfully", name


def test_migrations_run_once_before_web_and_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert helpers.command_argv(services["migrate"]["command"]) == ["leadcap", "migrate"]
    assert helpers.command_argv(services["web"]["command"]) == ["leadcap", "serve"]
    assert helpers.command_argv(services["worker"]["command"]) == ["leadcap", "worker"]
    assert services["migrate"]["image"] == services["web"]["image"]


def test_redis_keeps_an_fsynced_append_only_file(compose: dict[str, Any]) -> None:
    command = " ".join(compose["services"]["redis"]["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command
    assert "--maxmemory-policy noeviction" in command  # queued leads are never evicted


def test_redis_refuses_writes_before_the_kernel_kills_it(compose: dict[str, Any]) -> None:
    """maxmemory well under the container's limit: full memory is Valkey's OOM error to a
    write (leadcap's fallback or 503), not the OOM killer; the rest covers an AOF rewrite's fork."""
    service = compose["services"]["redis"]
    found = re.search(r"--maxmemory (\d+)mb\b", " ".join(service["command"]))
    assert found, "no --maxmemory in the redis command"
    assert 0 < int(found.group(1)) * 2**20 <= memory_limit(service) // 2


def memory_limit(service: dict[str, Any]) -> int:
    return int(service["mem_limit"])


def test_every_service_has_a_memory_limit_without_swap(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        limit = memory_limit(service)
        assert 64 * 2**20 <= limit <= 2 * 2**30, name
        assert int(service["memswap_limit"]) == limit, name  # no swap on top of it
        assert 0 < int(service["pids_limit"]) <= 1024, name


def test_every_service_is_read_only_with_tmpfs_for_scratch(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service.get("read_only") is True, name
        mounts = {entry.split(":", 1)[0] for entry in service.get("tmpfs", [])}
        assert mounts == SCRATCH[name], name


def test_leadcap_scratch_belongs_to_the_image_user(compose: dict[str, Any]) -> None:
    for name in ("migrate", *LEADCAP_SERVICES):
        for entry in compose["services"][name]["tmpfs"]:
            assert "uid=10001" in entry and "mode=0700" in entry, (name, entry)


def test_every_service_drops_every_capability_it_does_not_need(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service.get("cap_drop") == ["ALL"], name
        assert set(service.get("cap_add", [])) == CAPABILITIES[name], name
        assert "privileged" not in service or service["privileged"] is False, name


def test_no_service_may_gain_privileges(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert "no-new-privileges:true" in service.get("security_opt", []), name


def argvs(service: dict[str, Any]) -> list[list[str]]:
    """Every command the service runs: its command and its healthcheck."""
    found = [helpers.command_argv(service["command"])] if service.get("command") else []
    test = service.get("healthcheck", {}).get("test")
    if test:
        found.append(helpers.command_argv(test))
    return found


PASSWORD_FLAGS = re.compile(r"(^|\s)(-a|-p|-u|--pass|--password|--requirepass)(\s|=|$)")


def test_no_password_is_put_on_a_command_line(compose: dict[str, Any]) -> None:
    """A command line is in the host's process list (`ps`, /proc/*/cmdline), readable by anyone."""
    for name, service in compose["services"].items():
        for argv in argvs(service):
            text = " ".join(argv)
            assert not PASSWORD_FLAGS.search(text), (name, text)
            if name != "redis":
                assert "PASSWORD" not in text, (name, text)
    # Valkey's password goes to valkey-cli in its environment and to valkey-server on stdin.
    redis = compose["services"]["redis"]
    check = helpers.command_argv(redis["healthcheck"]["test"])[2]
    assert check.startswith('REDISCLI_AUTH="$REDIS_PASSWORD" valkey-cli ')
    command = helpers.command_argv(redis["command"])[2]
    assert "valkey-server - " in command
    assert command.count("PASSWORD") == 1
    assert '<<CONFIG\nrequirepass "${REDIS_PASSWORD:?}"\nCONFIG' in command


def test_stores_keep_their_data_in_named_volumes(compose: dict[str, Any]) -> None:
    for name, path in STORES.items():
        mounts = [m for m in compose["services"][name]["volumes"] if m["type"] == "volume"]
        assert path in [m["target"] for m in mounts], name
        assert all(m["source"] in compose["volumes"] for m in mounts), name


def test_init_scripts_are_mounted_read_only(compose: dict[str, Any]) -> None:
    expected = {"db": helpers.POSTGRES_INIT, "mongo": helpers.MONGO_INIT}
    for name, script in expected.items():
        binds = [m for m in compose["services"][name]["volumes"] if m["type"] == "bind"]
        assert [(m["source"], m["target"], m.get("read_only")) for m in binds] == [
            (str(script), f"/docker-entrypoint-initdb.d/{script.name}", True)
        ], name


def test_only_nginx_is_published_on_ports_80_and_443(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        ports = service.get("ports", [])
        if name == "nginx":
            assert [(p["target"], p["published"]) for p in ports] == [(80, "80"), (443, "443")]
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
    for name in ("migrate", "worker", *STORES):
        assert set(services[name]["networks"]) == {"backend"}, name
    assert networks["backend"].get("internal") is True
    for name in LEADCAP_SERVICES:
        assert services[name]["environment"]["LEADCAP_TRUSTED_PROXIES"] == f"{nginx_address}/32"


def env_files(*paths: Any) -> dict[str, str]:
    """The files in order, each followed by its optional `.local` override."""
    values: dict[str, str] = {}
    for path in paths:
        values.update(read_env_file(path))
        values.update(read_env_file(path.with_name(path.name + ".local")))
    return values


def test_each_service_gets_only_its_own_configuration(compose: dict[str, Any]) -> None:
    services = compose["services"]
    leadcap = env_files(helpers.ENV_DOCKER)
    for name in LEADCAP_SERVICES:
        assert services[name]["environment"] == leadcap, name
    assert services["migrate"]["environment"] == env_files(helpers.ENV_DOCKER, helpers.ENV_MIGRATE)
    for name in STORES:
        assert services[name]["environment"] == env_files(helpers.ENV_STORES), name
    assert "environment" not in services["nginx"]  # nginx.conf is its whole configuration
    assert "environment" not in services["tls-bootstrap"]


def test_web_and_worker_hold_no_administrator_secret(compose: dict[str, Any]) -> None:
    """Least privilege: an attacker inside web or worker gets the app roles, nothing more."""
    stores = env_files(helpers.ENV_STORES)
    for name in LEADCAP_SERVICES:
        env = compose["services"][name]["environment"]
        assert not {k for k in env if not k.startswith("LEADCAP_")}, name
        database = urlsplit(env["LEADCAP_DATABASE_URL"])
        assert database.username == stores["DB_APP_USER"], name
        assert database.username not in (stores["POSTGRES_USER"], stores["DB_OWNER_USER"], "postgres")
        assert database.password == stores["DB_APP_PASSWORD"], name
        mongo = urlsplit(env["LEADCAP_MONGO_URL"])
        assert mongo.username == stores["MONGO_APP_USER"] != stores["MONGO_INITDB_ROOT_USERNAME"], name
        assert mongo.password == stores["MONGO_APP_PASSWORD"], name
        # The user is defined in, and only allowed on, the log database itself.
        assert mongo.path == "/" + stores["MONGO_APP_DB"], name
        assert parse_qs(mongo.query)["authSource"] == [stores["MONGO_APP_DB"]], name
    migrate = urlsplit(compose["services"]["migrate"]["environment"]["LEADCAP_DATABASE_URL"])
    assert (migrate.username, migrate.password) == (stores["DB_OWNER_USER"], stores["DB_OWNER_PASSWORD"])


def test_web_writes_the_page_nginx_serves_get_from(compose: dict[str, Any]) -> None:
    """One `edgepage` volume: web's LEADCAP_EDGE_DIR, writable by its uid, read-only in nginx at
    the folder nginx.conf's `location = /` reads, and in memory (no old build survives a restart)."""
    services = compose["services"]
    folder = services["web"]["environment"]["LEADCAP_EDGE_DIR"]
    web = [m for m in services["web"]["volumes"] if m["source"] == "edgepage"]
    edge = [m for m in services["nginx"]["volumes"] if m["source"] == "edgepage"]
    assert [(m["type"], m["target"], m.get("read_only", False)) for m in web] == [("volume", folder, False)]
    assert [(m["type"], m["target"], m.get("read_only")) for m in edge] == [("volume", folder, True)]
    assert f"root {folder};" in helpers.NGINX_CONF.read_text()
    options = compose["volumes"]["edgepage"]["driver_opts"]
    assert options["type"] == "tmpfs"
    assert "uid=10001" in options["o"]
    assert "worker" not in [n for n, s in services.items() if "edgepage" in str(s.get("volumes"))]


def binds(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """A service's bind mounts: container path → (host path, read-only)."""
    return {
        m["target"]: (m["source"], bool(m.get("read_only")))
        for m in service["volumes"]
        if m["type"] == "bind"
    }


def test_nginx_reads_the_certificate_and_webroot_from_the_documented_folders(compose: dict[str, Any]) -> None:
    """./tls (tls.crt, tls.key) and ./acme (certbot's webroot) of the compose folder, read-only,
    where nginx.conf looks; tls-bootstrap writes the same ./tls and nothing else, with no network."""
    services, conf = compose["services"], helpers.NGINX_CONF.read_text()
    nginx, bootstrap = binds(services["nginx"]), binds(services["tls-bootstrap"])
    tls, acme = str(helpers.ROOT / "tls"), str(helpers.ROOT / "acme")
    assert nginx["/etc/leadcap/tls"] == (tls, True)
    assert nginx["/srv/leadcap/acme"] == (acme, True)
    assert "ssl_certificate /etc/leadcap/tls/tls.crt;" in conf
    assert "ssl_certificate_key /etc/leadcap/tls/tls.key;" in conf
    assert "root /srv/leadcap/acme;" in conf
    assert bootstrap == {"/etc/leadcap/tls": (tls, False)}
    assert services["tls-bootstrap"]["network_mode"] == "none"
    assert services["tls-bootstrap"]["image"] == services["web"]["image"]  # the runtime's openssl
    ignored = set((helpers.ROOT / ".dockerignore").read_text().split())
    assert {"tls", "acme"} <= ignored  # the key never goes to a builder
    assert {"/tls/", "/acme/"} <= set((helpers.ROOT / ".gitignore").read_text().split())
