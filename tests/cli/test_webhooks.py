"""`leadcap webhooks …` as an operator runs it, and a lead travelling from `POST /api/leads/`
through a real `leadcap serve` and `leadcap worker` to a real receiver, signed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from typer.testing import CliRunner

from cli import main
from tests import factories, servers
from tests.servers import Process, Stores
from tests.webhook_receiver import receiving

REDIS_DB = 14  # this module's own Redis database: its worker drains only its own stream


@pytest.fixture(scope="module")
async def own_env(env: dict[str, str], stores: Stores) -> dict[str, str]:
    """The suite's environment on a database and Redis database of its own, guard off."""
    url = await servers.migrated_database(stores.database)
    return {
        **env,
        "LEADCAP_DATABASE_URL": url,
        "LEADCAP_REDIS_URL": servers.on_db(stores.redis, REDIS_DB),
        "LEADCAP_WEBHOOK_ALLOW_PRIVATE": "true",
        "LEADCAP_WEBHOOK_BACKOFF_CAP_SECONDS": "1",
    }


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, env: dict[str, str], group: str = "webhooks") -> Ran:
    """`leadcap webhooks …` (or another `group`'s commands) in this process (a subprocess per
    call costs seconds of CPU here); the end-to-end test below runs the real command line too."""
    result = CliRunner().invoke(main.app, [group, *args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def test_add_list_remove(own_env: dict[str, str]) -> None:
    added = cli(
        "add", "https://crm.example.com/hook", env={**own_env, "LEADCAP_WEBHOOK_ALLOW_PRIVATE": "true"}
    )
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    mine = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo3ODkwMTI="
    given = cli(
        "add",
        "https://crm.example.com/other",
        "--event",
        "lead.created",
        "--event",
        "lead.verified",
        "--secret",
        mine,
        env=own_env,
    )
    assert given.returncode == 0 and "whsec_" not in given.stdout
    listed = cli("list", "--json", env=own_env)
    assert listed.returncode == 0 and secret not in listed.stdout and mine not in listed.stdout
    rows = {r["url"]: r for r in json.loads(listed.stdout)}
    other = rows["https://crm.example.com/other"]
    assert other["events"] == ["lead.created", "lead.verified"] and other["enabled"]
    table = cli("list", env=own_env)
    assert table.returncode == 0 and "whsec_" not in table.stdout
    for row in rows.values():
        assert cli("remove", str(row["id"]), env=own_env).returncode == 0
    gone = cli("remove", str(other["id"]), env=own_env)
    assert gone.returncode == 1 and "no webhook endpoint" in gone.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("ftp://crm.example.com/x",), "http"),
        (("https://user:pw@crm.example.com/x",), "password"),
        (("https://crm.example.com/x", "--event", "lead.deleted"), "lead.deleted"),
        (("https://crm.example.com/x", "--secret", "not-a-secret"), "whsec_"),
    ],
)
def test_add_refuses_what_it_cannot_take(own_env: dict[str, str], args: tuple[str, ...], said: str) -> None:
    result = cli("add", *args, env=own_env)
    assert result.returncode == 1 and said in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9999/hook",
        "http://10.0.0.1/hook",
        "http://[::1]/h",
        "http://[::ffff:127.0.0.1]/h",
        "http://localhost:9999/hook",
    ],
)
def test_add_refuses_private_addresses_with_the_guard_on(own_env: dict[str, str], url: str) -> None:
    """A usage error (2), in one line that says why and which setting allows it, and that the
    processes that deliver need it too (they check every delivery again)."""
    result = cli("add", url, env={**own_env, "LEADCAP_WEBHOOK_ALLOW_PRIVATE": "false"})
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: webhook host ") and " address (" in line
    assert line.endswith(
        "; to allow private addresses, set LEADCAP_WEBHOOK_ALLOW_PRIVATE=true here and for"
        " `leadcap serve` and `leadcap worker` too (they check every delivery again)"
    )
    assert url not in {row["url"] for row in json.loads(cli("list", "--json", env=own_env).stdout)}


def test_add_of_a_host_that_does_not_resolve_names_no_setting(own_env: dict[str, str]) -> None:
    result = cli("add", "https://crm.invalid/hook", env={**own_env, "LEADCAP_WEBHOOK_ALLOW_PRIVATE": "false"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == ["error: webhook host crm.invalid does not resolve"]


def test_replay_needs_an_id_or_failed(own_env: dict[str, str]) -> None:
    assert cli("replay", env=own_env).returncode == 2
    assert cli("replay", "1", "--failed", env=own_env).returncode == 2
    unknown = cli("replay", "987654", env=own_env)
    assert unknown.returncode == 1 and "987654" in unknown.stderr
    nothing = cli("replay", "--failed", env=own_env)
    assert nothing.returncode == 0 and "0 deliveries due again now" in nothing.stdout
    failed = cli("deliveries", "--failed", "--json", env=own_env)
    assert failed.returncode == 0 and json.loads(failed.stdout) == []


@pytest.fixture(scope="module")
def stack(own_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `leadcap serve` and a `leadcap worker` on the module's own stores; yields the base URL."""
    logs = tmp_path_factory.mktemp("webhook-stack")
    server = servers.start_server(own_env, logs / "serve.log")
    worker = Process(("worker",), own_env, logs / "worker.log").start()
    try:
        yield server.url
    finally:
        worker.stop()
        server.process.stop()


def test_a_submitted_lead_arrives_signed_within_a_second(own_env: dict[str, str], stack: str) -> None:
    with receiving("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo3ODkwMTI=") as receiver:
        added = servers.leadcap("webhooks", "add", receiver.url, "--secret", receiver.secret, env=own_env)
        assert added.returncode == 0, added.stderr
        endpoint_id = added.stdout.split()[2]
        tested = cli("test", endpoint_id, env=own_env)
        assert tested.returncode == 0, tested.stderr
        assert receiver.attempts == 1 and receiver.bad == []
        with httpx.Client(base_url=stack, transport=httpx.HTTPTransport(local_address="127.0.0.77")) as http:
            # The worker re-reads its endpoints once a second: a first lead delivered shows it
            # knows this one, so the lead timed next waits on nothing but its own delivery.
            assert http.post("/api/leads/", json={"phone": factories.mobile()}).status_code == 202
            servers.wait_until(lambda: len(receiver.received) >= 2, "the first lead never arrived")
            phone = factories.mobile()
            answer = http.post("/api/leads/", json={"phone": phone, "source": "hero"})
            sent = time.time()
        assert answer.status_code == 202
        servers.wait_until(lambda: len(receiver.received) >= 3, "the lead never arrived", timeout=10)
        arrived = receiver.received[2]
        lag = arrived["at"] - sent
        assert arrived["body"]["type"] == "lead.created"
        assert arrived["body"]["data"]["phone"] == factories.e164(phone)
        assert receiver.bad == []
        assert lag < 1.0, f"the lead took {lag:.2f}s"
        listed = cli("deliveries", "--json", env=own_env)
        rows = json.loads(listed.stdout)
        assert rows[0]["state"] == "delivered" and rows[0]["last_status"] == 200
        assert cli("deliveries", env=own_env).returncode == 0
        replayed = cli("replay", str(rows[0]["id"]), env=own_env)
        assert replayed.returncode == 0, replayed.stderr
        servers.wait_until(lambda: len(receiver.received) >= 4, "the replay never arrived", timeout=10)
        assert receiver.received[3]["id"] == arrived["id"]  # the same webhook-id: receivers dedupe
        assert cli("remove", endpoint_id, env=own_env).returncode == 0
