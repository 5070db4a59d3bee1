"""The Kubernetes edge: the nginx.conf of the ConfigMap `leadcap-edge`, as the cluster gets it,
held to the repository's nginx.conf rule for rule, run on a real nginx in front of `leadcap
serve` (TLS with a certificate made here), and the flush-cache promise across two web pods,
each with its own nginx and page folder, as the web Deployment lays them out."""

from __future__ import annotations

import contextlib
import os
import ssl
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from leadcap import keys
from leadcap.ops import embedded
from tests import factories, servers
from tests.deploy import helpers, kube
from tests.deploy.conftest import Stack
from tests.deploy.helpers import NGINX_CONF, Running, nginxconf
from tests.servers import wait_for

EDGE_CONF = kube.KUBERNETES / "base" / "edge" / "nginx.conf"
HSTS = "Strict-Transport-Security"


# --- the two files, rule for rule ------------------------------------------------------------

Directive = tuple[str, tuple[str, ...], tuple[Any, ...]]  # name, arguments, block (nested)


def parse_nginx(text: str) -> tuple[Directive, ...]:
    """nginx's configuration syntax into nested directives: words, quoted strings, `;`, blocks
    and comments. Enough for these two files, and exact about them."""
    tokens = _tokens(text)
    block, rest = _block(tokens, 0)
    assert rest == len(tokens), "unbalanced braces"
    return block


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "#":
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif ch in "{};":
            tokens.append(ch)
            i += 1
        elif ch in "'\"":
            end = text.index(ch, i + 1)
            tokens.append(text[i : end + 1])
            i = end + 1
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in "{};":
                i += 1
            tokens.append(text[start:i])
    return tokens


def _block(tokens: list[str], i: int) -> tuple[tuple[Directive, ...], int]:
    out: list[Directive] = []
    words: list[str] = []
    while i < len(tokens):
        token = tokens[i]
        if token == ";":
            out.append((words[0], tuple(words[1:]), ()))
            words = []
        elif token == "{":
            inner, i = _block(tokens, i + 1)
            out.append((words[0], tuple(words[1:]), inner))
            words = []
        elif token == "}":
            return tuple(out), i
        else:
            words.append(token)
        i += 1
    return tuple(out), i


def only(block: tuple[Directive, ...], name: str, *args: str) -> Directive:
    found = [d for d in block if d[0] == name and d[1][: len(args)] == args]
    assert len(found) == 1, f"{name} {args}: {len(found)}"
    return found[0]


def without(block: tuple[Directive, ...], *names: str) -> list[Directive]:
    return [d for d in block if d[0] not in names]


def test_the_kubernetes_edge_keeps_every_rule_of_nginx_conf() -> None:
    """Identical but for what docs/kubernetes.md lists: the upstream (this pod's web), ports,
    paths under /tmp, logs to stdout/stderr, no resolver, no ACME webroot nor /.edge-health, and
    the probes' server. TLS, the redirect and HSTS are the same directives."""
    compose = only(parse_nginx(NGINX_CONF.read_text()), "http")[2]
    k8s = only(parse_nginx(EDGE_CONF.read_text()), "http")[2]
    machine = ("resolver", "upstream", "server", "access_log")
    temp = (
        "client_body_temp_path",
        "proxy_temp_path",
        "fastcgi_temp_path",
        "uwsgi_temp_path",
        "scgi_temp_path",
    )
    assert without(k8s, *machine, *temp) == without(compose, *machine)
    assert only(k8s, "access_log")[1] == ("/dev/stdout", "leadcap")
    k8s_upstream, compose_upstream = (
        only(k8s, "upstream", "leadcap")[2],
        only(compose, "upstream", "leadcap")[2],
    )
    assert only(k8s_upstream, "server")[1] == ("127.0.0.1:8000",)  # this pod's own web container
    assert without(k8s_upstream, "server") == without(compose_upstream, "server", "zone")
    site = only(compose, "server")[2]
    (k8s_site,) = [
        s[2] for s in k8s if s[0] == "server" and ("8443", "ssl", "default_server") in listens(s[2])
    ]
    assert listens(site) == [("80", "default_server"), ("443", "ssl", "default_server")]
    assert listens(k8s_site) == [("8080", "default_server"), ("8443", "ssl", "default_server")]
    compose_only = [
        ("location", ("^~", "/.well-known/acme-challenge/")),
        ("location", ("=", "/.edge-health")),
    ]
    assert without(k8s_site, "listen") == [
        d for d in without(site, "listen") if (d[0], d[1]) not in compose_only
    ]
    assert len(without(site, "listen")) - len(without(k8s_site, "listen")) == len(compose_only)


def listens(block: tuple[Directive, ...]) -> list[tuple[str, ...]]:
    return [d[1] for d in block if d[0] == "listen"]


def test_every_answer_over_https_carries_hsts_in_both_files() -> None:
    """add_header in a location replaces the server's: each location that has one repeats HSTS."""
    for path in (NGINX_CONF, EDGE_CONF):
        http = only(parse_nginx(path.read_text()), "http")[2]
        site = next(
            s[2] for s in http if s[0] == "server" and any("ssl" in d[1] for d in s[2] if d[0] == "listen")
        )
        assert ("add_header", (HSTS, "$leadcap_hsts", "always"), ()) in site, path
        assert only(site, "ssl_protocols")[1] == ("TLSv1.2", "TLSv1.3"), path
        for name, args, block in site:
            headers = [d for d in block if d[0] == "add_header"]
            if headers:
                assert (
                    "add_header",
                    (HSTS, "$leadcap_hsts", "always"),
                    (),
                ) in headers, f"{path}: {name} {args} lacks {HSTS}"


def test_the_configmap_carries_this_file() -> None:
    docs = kube.overlay("production")
    edge = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("leadcap-edge")
    )
    assert edge["data"]["nginx.conf"] == EDGE_CONF.read_text()


# --- the file on a real nginx ----------------------------------------------------------------


@dataclass
class Edge:
    http: str
    https: str
    probes: str
    tls: ssl.SSLContext
    folder: Path


def render_edge(folder: Path, *, upstream: str, assets: Path, page: Path) -> tuple[Path, dict[str, int]]:
    """The ConfigMap's file with this machine's ports and paths, for Debian's nginx 1.22
    (nginxconf.for_nginx_1_22); each substituted line must appear exactly once, so the file
    cannot drift from what runs here without failing."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = nginxconf.self_signed(folder / "tls")  # as the Secret `leadcap-tls` holds one
    ports = {name: embedded.free_port() for name in ("http", "https", "probes")}
    temp = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    substitutions = {
        # nginx as root runs its workers as nobody, who cannot read pytest's folders.
        "worker_processes 2;": ("user root;\n" if os.geteuid() == 0 else "") + "worker_processes 2;",
        "pid /tmp/nginx.pid;": f"pid {folder / 'nginx.pid'};",
        **{f"{name}_temp_path /tmp/{name};": f"{name}_temp_path {folder / name};" for name in temp},
        "access_log /dev/stdout leadcap;": f"access_log {folder / 'access.log'} leadcap;",
        "include /etc/nginx/balancers/*.conf;": f"include {folder / 'balancers'}/*.conf;",
        "server 127.0.0.1:8000;": f"server {upstream};",
        "listen 8080 default_server;": f"listen 127.0.0.1:{ports['http']} default_server;",
        "listen 8443 ssl http2 default_server;": (
            f"listen 127.0.0.1:{ports['https']} ssl http2 default_server;"
        ),
        "listen 8081;": f"listen 127.0.0.1:{ports['probes']};",
        "ssl_certificate /etc/leadcap/tls/tls.crt;": f"ssl_certificate {cert};",
        "ssl_certificate_key /etc/leadcap/tls/tls.key;": f"ssl_certificate_key {key};",
        "root /srv/leadcap/ui;": f"root {assets};",
        "root /srv/leadcap/page;": f"root {page};",
    }
    docs = kube.overlay("production")
    text = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("leadcap-edge")
    )["data"]["nginx.conf"]
    text = nginxconf.for_nginx_1_22(text)
    for old, new in substitutions.items():
        assert text.count(old) == 1, f"the edge's nginx.conf should contain {old!r} exactly once"
        text = text.replace(old, new)
    for name in temp:
        (folder / name).mkdir(exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(text)
    return conf, ports


@contextlib.contextmanager
def edge_nginx(folder: Path, *, upstream: str, assets: Path, page: Path) -> Iterator[Edge]:
    conf, ports = render_edge(folder, upstream=upstream, assets=assets, page=page)
    with helpers.nginx(conf, ports["http"], ports["https"]) as running:
        helpers.wait_for_port(ports["probes"], running.process, folder / "error.log")
        yield Edge(running.http_url, running.url, f"http://127.0.0.1:{ports['probes']}", running.tls, folder)


def tls_client(edge: Edge, ip: str | None = None) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=ip or helpers.client_ip(), verify=edge.tls)
    return httpx.AsyncClient(base_url=edge.https, transport=transport, timeout=10)


@pytest.fixture(scope="module")
def k8s_edge(stack: Stack, deploy_dir: Path) -> Iterator[Edge]:
    with edge_nginx(
        deploy_dir / "k8s-edge",
        upstream=stack.url.removeprefix("http://"),
        assets=stack.edge_root,
        page=stack.edge_page,
    ) as running:
        yield running


def hsts(response: httpx.Response) -> str:
    values = response.headers.get_list(HSTS)
    assert len(values) == 1, values
    return values[0]


async def test_plain_http_moves_to_https(k8s_edge: Edge) -> None:
    async with servers.client(k8s_edge.http, helpers.client_ip()) as http:
        response = await http.get("/api/leads/?x=1", headers={"Host": "leads.example"})
    assert response.status_code == 301
    assert response.headers["Location"] == "https://leads.example/api/leads/?x=1"


async def test_a_lead_over_tls_reaches_postgresql(k8s_edge: Edge, stack_pg: asyncpg.Pool) -> None:
    async with tls_client(k8s_edge) as http:
        response = await http.post("/api/leads/", json={"phone": factories.mobile()})
    assert response.status_code == 202
    assert hsts(response) == "max-age=31536000"
    assert response.headers["RateLimit-Limit"] == "10"  # leadcap answered, through nginx
    lead_id = response.json()["id"]

    async def stored() -> Any:
        return await stack_pg.fetchval("SELECT submissions FROM leads WHERE id = $1", lead_id)

    assert await wait_for(stored, timeout=20) == 1


async def test_the_edge_answers_its_own_refusals_over_tls(k8s_edge: Edge) -> None:
    async with tls_client(k8s_edge) as http:
        metrics = [await http.get(path) for path in ("/metrics", "/METRICS/x", "/api/../metrics")]
        too_large = await http.post(
            "/api/leads/", content=b"{" + b" " * 5000 + b"}", headers={"content-type": "application/json"}
        )
        asset = await http.get("/assets/" + "index-abc123.js")
        probe_path = await http.get("/healthz")  # the probes' server is not the site
    for response in metrics:
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        hsts(response)
    assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "body_too_large"
    hsts(too_large)
    assert asset.status_code == 200 and asset.headers["Cache-Control"].endswith("immutable")
    hsts(asset)
    assert probe_path.status_code == 404 and probe_path.json()["error"]["code"] == "not_found"


async def test_the_probes_answer_as_the_manifest_asks(k8s_edge: Edge, stack: Stack) -> None:
    """Every httpGet probe of the web pod, sent where the kubelet would send it: the web
    container's to leadcap, the edge container's to nginx's probe server."""
    web = kube.find(kube.overlay("production"), "Deployment", "leadcap-web")["spec"]["template"]["spec"]
    where = {"app": stack.url, "edge-health": k8s_edge.probes}
    asked = 0
    async with httpx.AsyncClient(timeout=5) as http:
        for container in web["containers"]:
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                probe = container.get(kind, {}).get("httpGet")
                if probe is None:
                    continue
                assert probe["port"] in where, probe  # named ports of the pod, mapped here
                response = await http.get(where[probe["port"]] + probe["path"])
                assert response.status_code == 200, (container["name"], kind, response.text)
                asked += 1
    assert asked == 5


# --- flush-cache across pods -----------------------------------------------------------------


@dataclass
class Pod:
    """One web pod: `leadcap serve` writing its page folder (the `edgepage` emptyDir) and its own
    nginx reading it."""

    web: Running
    edge: Edge
    page: Path


@pytest.fixture(scope="module")
async def pods(stack: Stack, deploy_dir: Path) -> AsyncIterator[tuple[Stack, list[Pod], str]]:
    """Two web pods on a Redis database of their own (so the stack's web processes do not
    answer their flushes), sharing the stack's PostgreSQL, as pods share the stores."""
    redis_url = servers.with_database(stack.redis_url.rsplit("/", 1)[0], "8")
    flush = aioredis.Redis.from_url(redis_url)
    await flush.flushdb()
    await flush.aclose()
    running: list[Pod] = []
    with contextlib.ExitStack() as exits:
        for name in ("pod-a", "pod-b"):
            page = deploy_dir / name / "edgepage"
            page.mkdir(parents=True)
            port = embedded.free_port()
            env = {
                **stack.env,
                "LEADCAP_REDIS_URL": redis_url,
                "LEADCAP_PORT": str(port),
                "LEADCAP_WEB_WORKERS": "1",
                "LEADCAP_EDGE_DIR": str(page),
            }
            web = Running.start(["leadcap", "serve"], env, deploy_dir / name / "web.log", deploy_dir / "home")
            exits.callback(web.stop)
            helpers.wait_until_answers(f"http://127.0.0.1:{port}/api/health/live", web)
            edge = exits.enter_context(
                edge_nginx(
                    deploy_dir / name / "nginx",
                    upstream=f"127.0.0.1:{port}",
                    assets=stack.edge_root,
                    page=page,
                )
            )
            running.append(Pod(web, edge, page))
        yield stack, running, redis_url
    cleanup = aioredis.Redis.from_url(redis_url)
    await cleanup.flushdb()
    await cleanup.aclose()


async def test_flush_cache_reaches_every_pods_edge(pods: tuple[Stack, list[Pod], str]) -> None:
    """`leadcap flush-cache`, run in pod A (kubectl exec: its LEADCAP_EDGE_DIR is A's folder),
    returns once every web process has reloaded and rewritten its own pod's page; the very next
    GET / through either pod's nginx is the new build, answered from that pod's file."""
    stack, running, redis_url = pods
    index = stack.dist / "template.fa.html"
    original = index.read_text()
    clients = [tls_client(pod.edge) for pod in running]
    try:
        for http in clients:
            await http.get("/")  # a first view: leadcap counts it and marks the browser
            before = await http.get("/")
            assert (
                helpers.without_policy(before.text) == original and "Last-Modified" in before.headers
            )  # file
        for build in ("build two", "build three"):
            index.write_text(original.replace("built page", f"built page, {build} {uuid.uuid4()}"))
            done = subprocess.run(
                ["leadcap", "flush-cache"],
                env={**stack.env, "LEADCAP_REDIS_URL": redis_url, "LEADCAP_EDGE_DIR": str(running[0].page)},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert "2 web process(es)" in done.stdout  # one per pod, both confirmed
            for http in clients:
                after = await http.get("/")
                assert after.status_code == 200
                assert helpers.without_policy(after.text) == index.read_text()
                assert "Last-Modified" in after.headers  # nginx's file, rewritten in that pod
    finally:
        index.write_text(original)
        for http in clients:
            await http.aclose()
        cleanup = aioredis.Redis.from_url(redis_url)
        await cleanup.delete(keys.LANDING_CAMPAIGN)
        await cleanup.aclose()
