"""What was built, run as docker-compose.yml runs it (stack.py): migrate, web, worker and the
edge on the session's own networks, ports published on 127.0.0.1 only, requests sent there."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from tests import factories
from tests.deploy.helpers import nginxconf
from tests.images.conftest import Built, Deployed, write_campaign
from tests.images.engine import docker
from tests.images.stack import SERVICES
from tests.servers import wait_for, wait_for_lead

MARK = "پیام تازه از tests/images"  # a headline: escaped like any copy, so no markup


def test_compose_ran_migrate_then_web_worker_and_the_edge_healthy(deployed: Deployed) -> None:
    stack = deployed.stack
    assert stack.inspect("migrate", "{{.State.Status}} {{.State.ExitCode}}") == "exited 0"
    assert "applied" in stack.compose("logs", "--no-color", "migrate").stdout
    assert stack.inspect("tls-bootstrap", "{{.State.Status}} {{.State.ExitCode}}") == "exited 0"
    assert "self-signed" in stack.compose("logs", "--no-color", "tls-bootstrap").stdout
    for service in ("web", "worker", "nginx"):
        assert stack.inspect(service, "{{.State.Health.Status}}") == "healthy", stack.logs()


def test_every_store_answers_the_containers(deployed: Deployed) -> None:
    """Not only healthy (degraded is healthy: leads stay safe without MongoDB) but ok: PostgreSQL,
    Redis and MongoDB all reached through the relays, and the worker seen."""
    for service in ("web", "worker"):
        report = json.loads(deployed.stack.exec(service, "leadcap", "health", "--json").stdout)
        assert report["status"] == "ok", report


def test_containers_run_as_the_image_user_on_a_read_only_root(deployed: Deployed, built: Built) -> None:
    user = docker("image", "inspect", "--format", "{{.Config.User}}", built.tags["runtime"]).stdout.split(
        ":"
    )[0]
    for service in ("web", "worker"):
        assert deployed.stack.exec(service, "id", "-u").stdout.strip() == user.strip()
        assert deployed.stack.exec(service, "touch", "/opt/leadcap/x", check=False).returncode != 0


def test_compose_limits_and_privileges_reached_the_containers(
    deployed: Deployed, compose: dict[str, Any]
) -> None:
    """What docker-compose.yml declares is what the engine applied (Compose, engine 20.10)."""
    for service in SERVICES:
        declared = compose["services"][service]
        applied = json.loads(deployed.stack.inspect(service, "{{json .HostConfig}}"))
        assert applied["Memory"] == int(declared["mem_limit"]), service
        assert applied["MemorySwap"] == int(declared["memswap_limit"]), service
        assert applied["PidsLimit"] == declared["pids_limit"], service
        assert applied["ReadonlyRootfs"] is declared["read_only"] is True, service
        assert applied["CapDrop"] == declared["cap_drop"], service
        added = sorted(cap.removeprefix("CAP_") for cap in applied["CapAdd"] or [])
        assert added == sorted(declared.get("cap_add", [])), service
        assert applied["SecurityOpt"] == declared["security_opt"], service
        assert bool(applied.get("Init")) is declared.get("init", False), service
        assert sorted(applied["Tmpfs"]) == sorted(entry.split(":")[0] for entry in declared["tmpfs"]), service


def test_only_loopback_ports_are_published(deployed: Deployed, compose: dict[str, Any]) -> None:
    for service in ("web", "nginx"):
        bindings = deployed.stack.inspect(service, "{{json .NetworkSettings.Ports}}")
        assert '"HostIp":"127.0.0.1"' in bindings and '"HostIp":"0.0.0.0"' not in bindings, bindings
    assert compose["networks"]["backend"]["internal"] is True  # the stores' network has no way out


def test_config_prints_the_settings_with_secrets_masked(deployed: Deployed) -> None:
    shown = deployed.stack.exec("web", "leadcap", "config").stdout
    assert "LEADCAP_DATABASE_URL" in shown
    for url in deployed.container_urls["web"].values():
        password = urlsplit(url).password
        assert password and password not in shown


async def test_a_lead_posted_through_the_edge_reaches_postgres(
    deployed: Deployed, stack_pg: asyncpg.Pool
) -> None:
    number = factories.mobile()
    async with deployed.stack.edge_client() as http:
        response = await http.post("/api/leads/", json={"phone": factories.persian(number)})
    assert response.status_code == 202, response.text
    row = await wait_for_lead(stack_pg, factories.e164(number))
    assert str(row["phone"]) == factories.e164(number)


async def test_the_edge_serves_the_built_assets_itself(deployed: Deployed) -> None:
    request_id = f"images-{uuid.uuid4().hex}"
    async with deployed.stack.edge_client() as http:
        page = await http.get("/")
        asset = page.text.split('src="/assets/', 1)[1].split('"', 1)[0]
        headers = {"Accept-Encoding": "gzip", "X-Request-ID": request_id}
        response = await http.get(f"/assets/{asset}", headers=headers)
    assert page.status_code == 200 and response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers.get("Content-Encoding") == "gzip"

    async def logged() -> str:
        lines = deployed.stack.compose("logs", "--no-color", "--no-log-prefix", "nginx").stdout.splitlines()
        return next((line for line in lines if f"id={request_id}" in line), "")

    line = await wait_for(logged, timeout=10)
    assert line, "the edge did not log the request"
    # nginx.conf's log format: … $request_time $upstream_response_time "$http_user_agent" id=…
    assert str(line).split('"')[2].split()[-1] == "-", line  # no upstream: nginx served the file


async def test_flush_cache_through_the_container_holds_its_promise(deployed: Deployed) -> None:
    """The campaign file compose mounts (./campaign), changed on the host and published with
    `leadcap flush-cache` run in the web container: once it returns, every web process and the
    edge (its page file, for a browser already counted) serve the new copy on the next request,
    with no rebuild; a bad file exits 1 naming the field and changes nothing."""
    stack = deployed.stack

    async def pages() -> list[str]:
        async with (
            # A browser already counted this hour: nginx answers from web's page file.
            stack.edge_client(cookies={"leadcap_visited": "1"}) as counted,
            stack.edge_client() as edge,
            httpx.AsyncClient(base_url=stack.web_url, timeout=10) as web,
        ):
            return [
                *[(await counted.get("/")).text for _ in range(4)],
                *[(await edge.get("/")).text for _ in range(4)],
                *[(await web.get("/")).text for _ in range(8)],  # two Sanic processes answer
            ]

    first = await pages()
    assert not any(MARK in page for page in first)
    assert all('src="/campaign-assets/logo.svg"' in page for page in first)  # from the mounted folder
    async with httpx.AsyncClient(base_url=stack.web_url, timeout=10) as web:
        assert (await web.get("/campaign-assets/logo.svg")).status_code == 200
    campaign = stack.campaign / "campaign.json"
    try:
        write_campaign(campaign, MARK)
        flushed = stack.exec("web", "leadcap", "flush-cache").stdout
        assert "2 web process(es) serving it" in flushed, flushed  # LEADCAP_WEB_WORKERS=2 (.env.docker)
        served = await pages()
        assert all(MARK in page for page in served), [MARK in page for page in served]
        campaign.write_text(campaign.read_text().replace(MARK, " "))
        refused = stack.exec("web", "leadcap", "flush-cache", check=False)
        assert refused.returncode == 1 and "locales.fa.headline" in refused.stderr, refused.stderr
        assert all(MARK in page for page in await pages())  # the good page stays
    finally:  # the first campaign again, for whatever runs next
        write_campaign(campaign, None)
        stack.exec("web", "leadcap", "flush-cache")


async def test_docker_stop_of_the_worker_under_load_loses_nothing(
    deployed: Deployed, stack_pg: asyncpg.Pool
) -> None:
    """Submissions go straight to web's published port (the edge holds one address to 5 POSTs/s)
    while `docker stop` sends the worker SIGTERM, as `docker compose stop` or a deploy would; the
    load goes on with no worker, then the container starts again: every 202 becomes a row."""
    stack = deployed.stack
    accepted: dict[str, str] = {}
    statuses: dict[int, int] = {}
    done = asyncio.Event()

    async def client() -> None:
        async with httpx.AsyncClient(base_url=stack.web_url, timeout=10) as http:
            while not done.is_set():
                response = await http.post("/api/leads/", json={"phone": factories.mobile()})
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code == 202:
                    accepted[response.json()["id"]] = response.json()["phone"]

    load = asyncio.gather(*(client() for _ in range(16)))
    await wait_for(lambda: _at_least(accepted, 300), timeout=60)
    await asyncio.to_thread(stack.stop_container, "worker")  # the load goes on meanwhile
    stopped_at = len(accepted)
    await wait_for(lambda: _at_least(accepted, stopped_at + 300), timeout=60)  # queued, no worker
    done.set()
    await load
    assert set(statuses) == {202}, statuses
    assert stack.inspect("worker", "{{.State.ExitCode}}") == "0", stack.logs()  # finished in-flight work
    stack.start_container("worker")
    ids = list(accepted)
    started = time.monotonic()

    async def all_rows() -> bool:
        found = await stack_pg.fetchval("SELECT count(*) FROM submissions WHERE id = ANY($1::uuid[])", ids)
        return int(found) == len(ids)

    assert await wait_for(all_rows, timeout=120, every=0.5), "accepted submissions missing from PostgreSQL"
    twice = await stack_pg.fetchval(
        "SELECT count(*) FROM leads WHERE phone = ANY($1::text[]) AND submissions <> 1",
        list(accepted.values()),
    )
    assert twice == 0
    seconds = time.monotonic() - started
    print(f"\nworker stopped under load: {len(ids)} accepted, in PostgreSQL {seconds:.1f}s after its restart")


async def _at_least(accepted: dict[str, str], count: int) -> bool:
    return len(accepted) >= count


def served_certificate(url: str) -> bytes:
    host, port = url.removeprefix("https://").split(":")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only to read what is served
    with socket.create_connection((host, int(port)), timeout=10) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der
    return der


async def test_the_edge_serves_https_from_the_bootstrap_then_from_an_installed_certificate(
    deployed: Deployed,
) -> None:
    """The first `up` with an empty ./tls: tls-bootstrap's openssl (in the runtime image) made a
    pair and nginx serves it over HTTPS with HTTP/2, redirects plain HTTP and serves certbot's
    webroot. Then a certificate installed as docs/operations.md says (files replaced, then
    `docker compose kill -s HUP nginx`) is what new connections get, with no restart."""
    stack = deployed.stack
    bootstrap = stack.tls / "tls.crt"
    assert served_certificate(stack.edge_url) == ssl.PEM_cert_to_DER_cert(bootstrap.read_text())
    assert oct((stack.tls / "tls.key").stat().st_mode & 0o777) == "0o600"
    async with stack.edge_client() as https:
        health = await https.get("/api/health/")
    assert health.status_code == 200 and health.headers["Strict-Transport-Security"] == "max-age=31536000"
    alpn = ssl.create_default_context(cafile=str(bootstrap))
    alpn.set_alpn_protocols(["h2", "http/1.1"])
    host, port = stack.edge_url.removeprefix("https://").split(":")
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        alpn.wrap_socket(raw, server_hostname=host) as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"

    token = uuid.uuid4().hex
    challenges = stack.acme / ".well-known" / "acme-challenge"
    challenges.mkdir(parents=True, mode=0o755)
    for folder in (challenges.parent, challenges):
        folder.chmod(0o755)  # as certbot leaves them: nginx's workers are not root
    (challenges / token).write_text("proof")
    (challenges / token).chmod(0o644)
    async with httpx.AsyncClient(base_url=stack.edge_http_url, timeout=10) as http:
        moved = await http.get("/api/health/?x=1")
        proof = await http.get(f"/.well-known/acme-challenge/{token}")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/api/health/?x=1")
    assert moved.headers["Location"].startswith("https://")
    assert proof.status_code == 200 and proof.text == "proof"

    cert, key = nginxconf.self_signed(stack.tls.parent / "installed")
    shutil.copyfile(cert, stack.tls / "tls.crt.new")
    shutil.copyfile(key, stack.tls / "tls.key.new")
    (stack.tls / "tls.key.new").chmod(0o600)
    (stack.tls / "tls.key.new").replace(stack.tls / "tls.key")
    (stack.tls / "tls.crt.new").replace(stack.tls / "tls.crt")
    stack.compose("kill", "-s", "HUP", "nginx")

    async def installed_is_served() -> bool:
        return served_certificate(stack.edge_url) == ssl.PEM_cert_to_DER_cert(cert.read_text())

    assert await wait_for(installed_is_served, timeout=20), stack.logs()
    async with stack.edge_client() as https:  # trusts the installed certificate now
        assert (await https.get("/api/health/")).status_code == 200
    assert stack.inspect("nginx", "{{.State.Status}}") == "running"  # reloaded, not restarted
