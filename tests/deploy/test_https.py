"""HTTPS at the edge, through Debian's nginx running the repository's nginx.conf with certificates
made here by openssl: HSTS, the redirect from plain HTTP, the TLS versions and ciphers a client
can and cannot get, HTTP/2 by ALPN, certbot's webroot, a renewed certificate after a reload,
OCSP stapling, a load balancer that ends TLS, and a sign-in to /admin/ through it all."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from leadcap import keys
from leadcap.ops import embedded
from tests import factories
from tests.deploy import conftest, helpers
from tests.deploy.conftest import Stack
from tests.deploy.helpers import NGINX_CONF, Nginx, nginxconf
from tests.deploy.test_nginx import raw_get
from tests.servers import client, wait_for

HSTS = "Strict-Transport-Security"
ONE_YEAR = "max-age=31536000"
# Mozilla's intermediate TLS 1.2 suites that an ECDSA certificate (the tests') can negotiate.
INTERMEDIATE_ECDSA = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
)
# Suites OpenSSL's defaults would agree to with that certificate, and the intermediate list does not.
NOT_INTERMEDIATE = ("ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA")


def only(response: httpx.Response, name: str) -> str:
    values = response.headers.get_list(name)
    assert len(values) == 1, f"{name}: {values}"
    return values[0]


def host_port(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[1].split(":")
    return host, int(port)


# --- HSTS and the redirect -------------------------------------------------------------------


async def test_every_answer_over_https_carries_hsts(edge: Nginx) -> None:
    """leadcap's answers and nginx's own (a file, a refusal, the page): HSTS once, one year."""
    async with helpers.edge_client(edge) as http:
        answers = {
            "proxied": await http.get("/api/health/"),
            "page": await http.get("/"),
            "asset": await http.get(f"/assets/{conftest.ASSET}"),  # nginx's own file
            "refused": await http.get("/metrics"),
            "too large": await http.post(
                "/api/leads/", content=b" " * 5000, headers={"content-type": "application/json"}
            ),
        }
    assert answers["refused"].status_code == 404 and answers["too large"].status_code == 413
    for what, response in answers.items():
        assert only(response, HSTS) == ONE_YEAR, what


async def test_plain_http_moves_to_https_keeping_the_path_and_query(edge: Nginx) -> None:
    async with client(edge.http_url, helpers.client_ip()) as http:
        answers = [
            await http.get("/api/leads/?x=1&y=a%20b", headers={"Host": "leads.example"}),
            await http.get("/", headers={"Host": "leads.example:8080"}),  # nginx's $host: no port
            await http.post(
                "/api/leads/", json={"phone": factories.mobile()}, headers={"Host": "leads.example"}
            ),
            await http.get("/admin/login?lang=en", headers={"Host": "Leads.Example"}),
            await http.get("/.well-known/security.txt", headers={"Host": "leads.example"}),
        ]
    assert [(a.status_code, a.headers["Location"]) for a in answers] == [
        (301, "https://leads.example/api/leads/?x=1&y=a%20b"),
        (301, "https://leads.example/"),
        (301, "https://leads.example/api/leads/"),
        (301, "https://leads.example/admin/login?lang=en"),
        (301, "https://leads.example/.well-known/security.txt"),
    ]
    for answer in answers:
        assert HSTS not in answer.headers  # meaningless over plain HTTP, so never sent there
        assert "RateLimit-Limit" not in answer.headers  # nginx answered; leadcap saw nothing


# --- TLS versions, ciphers, ALPN ---------------------------------------------------------------


def s_client(url: str, *options: str) -> subprocess.CompletedProcess[str]:
    """`openssl s_client` to `url` with `options`, closing as soon as the handshake is done."""
    host, port = host_port(url)
    return subprocess.run(
        [helpers.tool("openssl"), "s_client", "-connect", f"{host}:{port}", "-brief", *options],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def handshake(done: subprocess.CompletedProcess[str]) -> str | None:
    """The protocol `s_client -brief` negotiated, or None when the handshake failed."""
    found = re.search(r"^Protocol version: (\S+)$", done.stdout + done.stderr, re.MULTILINE)
    return found.group(1) if done.returncode == 0 and found else None


OLD_CLIENTS = {"TLSv1": "-tls1", "TLSv1.1": "-tls1_1"}  # each offers only that version
ANY_CIPHER = "DEFAULT:@SECLEVEL=0"  # OpenSSL 3 allows TLS 1.0/1.1 only at security level 0


@pytest.fixture(scope="module")
def permissive_edge(stack: Stack, deploy_dir: Path) -> Iterator[Nginx]:
    """nginx.conf with TLS 1.0 and 1.1 allowed: what the old clients' test must catch."""
    text = NGINX_CONF.read_text()
    (protocols,) = re.findall(r"ssl_protocols [^;]+;", text)
    (ciphers,) = re.findall(r"ssl_ciphers [^;]+;", text)
    with helpers.edge_nginx(
        deploy_dir / "nginx-permissive",
        upstream=stack.url.removeprefix("http://"),
        assets_root=stack.edge_root,
        changes={
            protocols: "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;",
            ciphers: f"ssl_ciphers {ANY_CIPHER};",
        },
    ) as running:
        yield running


def test_tls_1_0_and_1_1_are_refused(edge: Nginx, permissive_edge: Nginx) -> None:
    """A client that offers only TLS 1.0 (or 1.1) with every cipher gets no session; the same
    client does get one from an nginx that allows them, so this machine's openssl can offer
    them and the refusal is nginx.conf's."""
    for version, option in OLD_CLIENTS.items():
        assert handshake(s_client(permissive_edge.url, option, "-cipher", ANY_CIPHER)) == version
        refused = s_client(edge.url, option, "-cipher", ANY_CIPHER)
        assert handshake(refused) is None, refused.stdout + refused.stderr
        assert "protocol version" in refused.stdout + refused.stderr  # nginx's alert, not a lost line


def tls_connect(url: str, context: ssl.SSLContext) -> ssl.SSLSocket:
    host, port = host_port(url)
    raw = socket.create_connection((host, port), timeout=10)
    return context.wrap_socket(raw, server_hostname=host)


def pinned(edge: Nginx, version: ssl.TLSVersion) -> ssl.SSLContext:
    context = helpers.trusting(edge.folder / "tls" / "tls.crt")
    context.minimum_version = context.maximum_version = version
    return context


def test_tls_1_2_and_1_3_are_accepted(edge: Nginx) -> None:
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        with tls_connect(edge.url, pinned(edge, version)) as connection:
            assert connection.version() == name


def test_tls_1_2_offers_the_intermediate_ciphers_only(edge: Nginx) -> None:
    for cipher in INTERMEDIATE_ECDSA:
        context = pinned(edge, ssl.TLSVersion.TLSv1_2)
        context.set_ciphers(cipher)
        with tls_connect(edge.url, context) as connection:
            assert connection.cipher()[0] == cipher  # type: ignore[index]
    for cipher in NOT_INTERMEDIATE:
        context = pinned(edge, ssl.TLSVersion.TLSv1_2)
        context.set_ciphers(cipher)
        with pytest.raises(ssl.SSLError, match=r"HANDSHAKE_FAILURE|handshake failure|NO_SHARED_CIPHER"):
            tls_connect(edge.url, context).close()


def test_http2_is_negotiated_by_alpn(edge: Nginx) -> None:
    context = helpers.trusting(edge.folder / "tls" / "tls.crt")
    context.set_alpn_protocols(["h2", "http/1.1"])
    with tls_connect(edge.url, context) as connection:
        assert connection.selected_alpn_protocol() == "h2"
    # A whole request over HTTP/2 (curl speaks it; httpx would need the h2 package), through
    # nginx to leadcap and back.
    done = subprocess.run(
        [
            *(helpers.tool("curl"), "--silent", "--http2", "--cacert", str(edge.folder / "tls" / "tls.crt")),
            *(
                "--output",
                "/dev/null",
                "--write-out",
                "%{http_version} %{http_code}",
                edge.url + "/api/health/",
            ),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout == "2 200", done.stdout + done.stderr


# --- certbot's webroot, renewal ------------------------------------------------------------------


async def test_acme_challenges_are_served_over_plain_http_from_the_webroot(edge: Nginx) -> None:
    """What `certbot certonly --webroot -w <the acme folder>` writes, Let's Encrypt reads over
    plain HTTP on port 80, unredirected; nothing else of the folder or the machine is served."""
    token = uuid.uuid4().hex
    challenges = edge.folder / "acme" / ".well-known" / "acme-challenge"
    challenges.mkdir(parents=True, exist_ok=True)
    (challenges / token).write_text(f"{token}.thumbprint")
    (edge.folder / "acme" / "secret.txt").write_text("not for anyone")
    async with client(edge.http_url, helpers.client_ip()) as http:
        served = await http.get(f"/.well-known/acme-challenge/{token}", headers={"Host": "leads.example"})
        missing = await http.get("/.well-known/acme-challenge/nothing-here")
    assert served.status_code == 200 and served.text == f"{token}.thumbprint"
    assert "Location" not in served.headers and HSTS not in served.headers
    assert missing.status_code == 404
    for target in (
        "/.well-known/acme-challenge/../../secret.txt",
        "/.well-known/acme-challenge/%2e%2e/%2e%2e/secret.txt",
        "/.well-known/acme-challenge/..%2F..%2Fsecret.txt",
    ):
        status, _, body = await raw_get(edge.http_url, target, helpers.client_ip())
        assert b"not for anyone" not in body, target
        assert status in (301, 400, 404), (target, status)
    async with helpers.edge_client(edge) as https:  # and over HTTPS, with HSTS
        again = await https.get(f"/.well-known/acme-challenge/{token}")
    assert again.text == f"{token}.thumbprint" and only(again, HSTS) == ONE_YEAR


def served_certificate(url: str) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only to read what is served
    with tls_connect(url, context) as connection:
        der = connection.getpeercert(binary_form=True)
    assert der
    return der


def pem_to_der(path: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(path.read_text())


async def test_a_renewed_certificate_is_served_after_a_reload(stack: Stack, deploy_dir: Path) -> None:
    """docs/operations.md's renewal: new files in place of the old, then SIGHUP to nginx's master
    (`docker compose kill -s HUP nginx`); new connections get the new certificate."""
    with helpers.edge_nginx(
        deploy_dir / "nginx-renewal", upstream=stack.url.removeprefix("http://"), assets_root=stack.edge_root
    ) as edge:
        tls = edge.folder / "tls"
        first = pem_to_der(tls / "tls.crt")
        assert served_certificate(edge.url) == first
        renewed = deploy_dir / "renewed"
        cert, key = nginxconf.self_signed(renewed)
        shutil.copyfile(key, tls / "tls.key")
        shutil.copyfile(cert, tls / "tls.crt")
        assert served_certificate(edge.url) == first  # read at start or reload only
        edge.process.send_signal(signal.SIGHUP)

        async def renewed_is_served() -> bool:
            return served_certificate(edge.url) == pem_to_der(cert)

        assert await wait_for(renewed_is_served, timeout=15), edge.error_log()
        async with helpers.edge_client(edge) as http:  # the context made at start trusted the old one
            with pytest.raises(httpx.ConnectError):
                await http.get("/api/health/")
        edge.tls = helpers.trusting(cert)
        async with helpers.edge_client(edge) as http:
            assert (await http.get("/api/health/")).status_code == 200


# --- OCSP stapling -----------------------------------------------------------------------------


def run_openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        [helpers.tool("openssl"), *args], capture_output=True, text=True, timeout=60, check=False, cwd=cwd
    )
    assert done.returncode == 0, done.stderr


def issued_with_ocsp(folder: Path, responder: str) -> tuple[Path, Path]:
    """A CA, and a certificate for 127.0.0.1 it issued that names `responder` for OCSP; tls.crt
    is the certificate then the CA, as certbot's fullchain.pem is laid out."""
    folder.mkdir(parents=True)
    (folder / "leaf.ext").write_text(
        f"subjectAltName=IP:127.0.0.1\nauthorityInfoAccess=OCSP;URI:{responder}\n"
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
    )
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    run_openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/CN=leadcap test CA", cwd=folder)  # fmt: skip
    run_openssl("req", *ec, "-keyout", "tls.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1", cwd=folder)
    run_openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "leaf.crt", "-days", "2", "-extfile", "leaf.ext", cwd=folder)  # fmt: skip
    (folder / "tls.crt").write_text((folder / "leaf.crt").read_text() + (folder / "ca.crt").read_text())
    serial = subprocess.run(
        [helpers.tool("openssl"), "x509", "-in", "leaf.crt", "-noout", "-serial", "-enddate"],
        capture_output=True, text=True, check=True, cwd=folder,
    ).stdout  # fmt: skip
    number = serial.split("serial=")[1].split()[0]
    # The CA's database as `openssl ocsp` reads it: V(alid), expiry, no revocation, serial, file, subject.
    (folder / "index.txt").write_text(f"V\t301231235959Z\t\t{number}\tunknown\t/CN=127.0.0.1\n")
    return folder / "tls.crt", folder / "tls.key"


def stapled(url: str, ca: Path) -> str:
    done = subprocess.run(
        [
            helpers.tool("openssl"),
            "s_client",
            "-connect",
            url.split("://", 1)[1],
            "-status",
            "-CAfile",
            str(ca),
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout


async def test_ocsp_is_stapled_when_the_certificate_names_a_responder(stack: Stack, deploy_dir: Path) -> None:
    """`openssl ocsp` answers for the CA; nginx asks it (on the first handshake), checks the
    answer against the chain in tls.crt and staples it from then on. The self-signed certificate
    of the other tests names no responder: nginx staples nothing and serves as well."""
    folder = deploy_dir / "ocsp"
    port = embedded.free_port()
    cert, key = issued_with_ocsp(folder, f"http://127.0.0.1:{port}")
    log = folder / "responder.log"
    with log.open("wb") as out:
        responder = subprocess.Popen(
            [helpers.tool("openssl"), "ocsp", "-port", str(port), "-index", "index.txt",
             "-CA", "ca.crt", "-rkey", "ca.key", "-rsigner", "ca.crt", "-nmin", "60"],
            cwd=folder, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # Not a probe connection: an empty one leaves `openssl ocsp` waiting on it for good.
        async def listening() -> bool:
            assert responder.poll() is None, log.read_text()
            return "waiting for OCSP client connections" in log.read_text()

        assert await wait_for(listening, timeout=15), log.read_text()
        http_port, tls_port = embedded.free_port(), embedded.free_port()
        conf = nginxconf.render(
            NGINX_CONF,
            folder / "nginx",
            listen_port=http_port,
            tls_port=tls_port,
            certificate=(cert, key),
            upstream=stack.url.removeprefix("http://"),
            assets_root=stack.edge_root,
            page_root=folder / "no-page",
            acme_root=folder / "acme",
            access_log=str(folder / "access.log"),
        )
        (folder / "nginx" / "tls").mkdir()
        shutil.copyfile(folder / "ca.crt", folder / "nginx" / "tls" / "tls.crt")  # what clients trust
        with helpers.nginx(conf, http_port, tls_port) as edge:
            url = edge.url

            async def response_stapled() -> bool:
                return "OCSP Response Status: successful" in stapled(url, folder / "ca.crt")

            assert await wait_for(response_stapled, timeout=20, every=0.5), edge.error_log()
            assert "Cert Status: good" in stapled(url, folder / "ca.crt")
    finally:
        responder.terminate()
        responder.wait(10)


async def test_a_certificate_without_a_responder_staples_nothing(edge: Nginx) -> None:
    assert "OCSP response: no response sent" in stapled(edge.url, edge.folder / "tls" / "tls.crt")


# --- behind a load balancer --------------------------------------------------------------------


@pytest.fixture(scope="module")
def balanced_edge(stack: Stack, deploy_dir: Path) -> Iterator[tuple[Nginx, str]]:
    """nginx.conf with one load balancer named in balancers/ (docs/operations.md)."""
    balancer = helpers.client_ip()
    folder = deploy_dir / "nginx-balanced"
    (folder / "balancers").mkdir(parents=True)
    (folder / "balancers" / "lb.conf").write_text(f"set_real_ip_from {balancer};\n")
    with helpers.edge_nginx(
        folder, upstream=stack.url.removeprefix("http://"), assets_root=stack.edge_root
    ) as running:
        yield running, balancer


async def bucket_size(redis: aioredis.Redis, address: str) -> int:
    count: int = await redis.zcard(keys.rate_bucket(address))
    return count


async def test_a_trusted_balancer_that_ends_tls_is_believed(
    balanced_edge: tuple[Nginx, str], stack_redis: aioredis.Redis
) -> None:
    """It sends plain HTTP with X-Forwarded-Proto: https and the client in X-Forwarded-For:
    no redirect, HSTS for the browser, and leadcap counts the client, not the balancer."""
    edge, balancer = balanced_edge
    browser = "198.51.100.23"
    said = {"X-Forwarded-Proto": "https", "X-Forwarded-For": f"203.0.113.99, {browser}"}
    async with client(edge.http_url, balancer) as http:
        posted = await http.post("/api/leads/", json={"phone": factories.mobile()}, headers=said)
        plain = await http.get("/api/health/", headers={**said, "X-Forwarded-Proto": "http"})
    assert posted.status_code == 202, posted.text
    assert only(posted, HSTS) == ONE_YEAR
    assert await bucket_size(stack_redis, browser) == 1  # the address the balancer saw
    assert await bucket_size(stack_redis, "203.0.113.99") == 0  # what the client wrote itself
    assert await bucket_size(stack_redis, balancer) == 0
    assert plain.status_code == 301  # the browser came over plain HTTP: it moves to HTTPS


async def test_anyone_else_saying_https_is_not_believed(balanced_edge: tuple[Nginx, str]) -> None:
    edge, _ = balanced_edge
    async with client(edge.http_url, helpers.client_ip()) as http:
        lied = await http.post(
            "/api/leads/",
            json={"phone": factories.mobile()},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.24"},
        )
    assert lied.status_code == 301 and HSTS not in lied.headers


# --- /admin/ through the edge --------------------------------------------------------------------


async def test_a_full_sign_in_through_the_edge_over_https(stack: Stack, edge: Nginx) -> None:
    """A browser at https://leads.example/admin/ (a host that is not loopback): nginx says HTTPS
    in X-Forwarded-Proto, leadcap believes its trusted proxy, and the `Secure` cookies the
    browser keeps over HTTPS sign it in. Over plain HTTP the edge sends it to HTTPS first."""
    name, password = f"ops-{uuid.uuid4().hex[:8]}", "correct horse battery staple"
    done = subprocess.run(
        ["leadcap", "admin", "add-user", name],
        input=password + "\n",
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=helpers.ROOT,
    )
    assert done.returncode == 0, done.stderr
    browser = {"Host": "leads.example"}
    async with client(edge.http_url, helpers.client_ip(), headers=browser) as http:
        moved = await http.get("/admin/")
    assert moved.status_code == 301 and moved.headers["Location"] == "https://leads.example/admin/"
    async with helpers.edge_client(edge, headers=browser) as https:

        async def form_shown() -> httpx.Response | None:  # admin users are looked up every 5 s
            form = await https.get("/admin/login")
            return form if form.status_code == 200 else None

        form = await wait_for(form_shown, timeout=10)
        assert isinstance(form, httpx.Response) and 'name="password"' in form.text, form
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf
        signed = await https.post(
            "/admin/login", data={"name": name, "password": password, "csrf": csrf.group(1)}
        )
        assert signed.status_code == 303 and signed.headers["Location"] == "/admin/", signed.text
        assert "secure" in signed.headers["set-cookie"].lower()
        overview = await https.get("/admin/")  # the jar sends the Secure cookie: this is HTTPS
        assert overview.status_code == 200 and name in overview.text
        assert only(overview, HSTS) == ONE_YEAR
    # Straight to leadcap over plain HTTP, for the same host: the page that says HTTPS is needed.
    async with client(stack.url, helpers.client_ip(), headers=browser) as direct:
        refused = await direct.get("/admin/login")
    assert refused.status_code == 403 and "HTTPS" in refused.text
    assert 'name="password"' not in refused.text


HOOK = helpers.ROOT / "deploy" / "tls" / "install-certificate.sh"


def install_hook(compose_dir: Path, lineage: Path, reload: str) -> subprocess.CompletedProcess[str]:
    """deploy/tls/install-certificate.sh as certbot runs it (--deploy-hook, RENEWED_LINEAGE)."""
    return subprocess.run(
        [str(HOOK)],
        env={
            "PATH": "/usr/bin:/bin",
            "RENEWED_LINEAGE": str(lineage),
            "COMPOSE_DIR": str(compose_dir),
            "NGINX_RELOAD": reload,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def lineage_of(folder: Path) -> Path:
    """What certbot keeps for a certificate: fullchain.pem and privkey.pem."""
    cert, key = nginxconf.self_signed(folder)
    cert.rename(folder / "fullchain.pem")
    key.rename(folder / "privkey.pem")
    return folder


async def test_certbots_deploy_hook_installs_the_certificate_and_reloads_nginx(
    stack: Stack, deploy_dir: Path
) -> None:
    """The hook docs/operations.md gives certbot, run against a real nginx (its reload is the
    SIGHUP that `docker compose kill -s HUP nginx` sends): the new pair in ./tls, the key 0600,
    served to the next connection. A key that does not match its certificate is refused, and
    the old pair stays and keeps serving."""
    with helpers.edge_nginx(
        deploy_dir / "nginx-hook", upstream=stack.url.removeprefix("http://"), assets_root=stack.edge_root
    ) as edge:
        reload = f"kill -HUP {edge.process.pid}"
        lineage = lineage_of(deploy_dir / "lineage")
        done = install_hook(edge.folder, lineage, reload)
        assert done.returncode == 0, done.stdout + done.stderr
        tls = edge.folder / "tls"
        assert (tls / "tls.crt").read_bytes() == (lineage / "fullchain.pem").read_bytes()
        assert (tls / "tls.key").read_bytes() == (lineage / "privkey.pem").read_bytes()
        assert (tls / "tls.key").stat().st_mode & 0o777 == 0o600
        assert sorted(p.name for p in tls.iterdir()) == ["tls.crt", "tls.key"]
        wanted = pem_to_der(lineage / "fullchain.pem")

        async def served() -> bool:
            return served_certificate(edge.url) == wanted

        assert await wait_for(served, timeout=15), edge.error_log()

        mismatched = lineage_of(deploy_dir / "mismatched")
        nginxconf.self_signed(deploy_dir / "other")[1].replace(mismatched / "privkey.pem")
        refused = install_hook(edge.folder, mismatched, reload)
        assert refused.returncode == 1 and "does not go with" in refused.stderr
        assert (tls / "tls.crt").read_bytes() == (lineage / "fullchain.pem").read_bytes()
        assert served_certificate(edge.url) == wanted
