"""The contract through the real edge: Debian's nginx with the project's nginx.conf in front of
`leadcap serve` and `leadcap worker`, started with docker-compose.yml's own commands."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import subprocess
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import redis.asyncio as aioredis

from leadcap import keys
from leadcap.campaign import visits
from leadcap.intake import visitor
from leadcap.ops import embedded
from tests import factories
from tests.deploy import conftest, helpers
from tests.deploy.conftest import Stack
from tests.deploy.helpers import Nginx
from tests.servers import client, wait_for
from web import responses

LEADS = "/api/leads/"


def only(response: httpx.Response, name: str) -> str:
    """The header's value, asserting it is there exactly once (nginx must not duplicate leadcap's)."""
    values = response.headers.get_list(name)
    assert len(values) == 1, f"{name}: {values}"
    return values[0]


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) <= {"code", "message", "field"}
    assert body["error"]["message"]
    code: str = body["error"]["code"]
    return code


def padded(size: int, phone: str) -> bytes:
    """A valid JSON lead of exactly `size` bytes (trailing whitespace is still JSON)."""
    body = json.dumps({"phone": phone}).encode()
    return body + b" " * (size - len(body))


async def bucket_size(redis: aioredis.Redis, address: str) -> int:
    """How many POSTs leadcap's rate limiter has counted for this client address."""
    count: int = await redis.zcard(keys.rate_bucket(address))
    return count


async def test_a_lead_goes_through_the_edge_to_postgresql(edge: Nginx, stack_pg: asyncpg.Pool) -> None:
    phone = factories.mobile()
    async with helpers.edge_client(edge) as http:
        response = await http.post(LEADS, json={"phone": phone, "source": "hero"})
    assert response.status_code == 202
    body = response.json()
    assert body == {"id": body["id"], "status": "queued", "phone": factories.e164(phone), "duplicate": False}
    assert only(response, "RateLimit-Limit") == "10"
    assert only(response, "X-Request-ID")

    async def stored() -> Any:
        return await stack_pg.fetchval("SELECT submissions FROM leads WHERE id = $1", body["id"])

    assert await wait_for(stored, timeout=20) == 1  # the compose `worker` command wrote it


async def test_errors_pass_through_unchanged(edge: Nginx) -> None:
    async with helpers.edge_client(edge) as http:
        invalid = await http.post(LEADS, json={"phone": "12"})
        media = await http.post(LEADS, content=b"phone=1", headers={"content-type": "text/plain"})
        junk = await http.post("/api/leads", content=b"{", headers={"content-type": "application/json"})
        unknown = await http.get("/api/nothing-here/")
        method = await http.get(LEADS)
    assert (invalid.status_code, error_code(invalid), invalid.json()["error"]["field"]) == (
        422,
        "invalid_phone",
        "phone",
    )
    assert (media.status_code, error_code(media)) == (415, "unsupported_media_type")
    assert (junk.status_code, error_code(junk)) == (400, "invalid_body")
    assert (unknown.status_code, error_code(unknown)) == (404, "not_found")
    assert (method.status_code, error_code(method)) == (405, "method_not_allowed")


async def test_a_form_post_is_redirected_to_the_same_origin(edge: Nginx) -> None:
    async with helpers.edge_client(edge) as http:
        response = await http.post(LEADS, data={"phone": factories.mobile()})
    assert response.status_code == 303
    assert response.headers["Location"] == "/?submitted=1"


SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options")


def from_the_edge_file(response: httpx.Response) -> bool:
    """nginx answered from LEADCAP_EDGE_DIR (a static answer has Last-Modified; leadcap's has none)."""
    return "Last-Modified" in response.headers


async def test_the_page_keeps_its_etag_and_security_headers_once(edge: Nginx, stack: Stack) -> None:
    """From leadcap (a first view) and from nginx's file (a counted browser), the same headers."""
    async with client(stack.url) as direct:
        reference = await direct.get("/")
    async with helpers.edge_client(edge) as http:
        first = await http.get("/", headers={"Accept-Encoding": "gzip"})
        marked = await http.get("/", headers={"Accept-Encoding": "gzip"})  # carries the cookie now
        pages = [first, marked]
        marked_again = await http.get("/", headers={"If-None-Match": only(marked, "ETag")})
    async with helpers.edge_client(edge) as unmarked:  # a browser not yet counted
        first_again = await unmarked.get("/", headers={"If-None-Match": only(first, "ETag")})
    revalidated = [first_again, marked_again]
    assert not from_the_edge_file(first)
    assert from_the_edge_file(marked)
    assert first.text == marked.text == reference.text
    for page, again in zip(pages, revalidated, strict=True):
        assert page.status_code == 200
        assert "built page" in page.text
        assert only(page, "Content-Type") == "text/html; charset=utf-8"
        assert only(page, "Cache-Control") == "no-cache"
        assert not only(page, "ETag").startswith("W/")  # nginx must not weaken the tag (gzip would)
        assert again.status_code == 304
        assert only(page, "X-Request-ID")
        for name in SECURITY_HEADERS:  # nginx.conf's copy of web/responses.py's headers, in step
            assert only(page, name) == only(reference, name), name
    assert "frame-ancestors 'none'" in only(marked, "Content-Security-Policy")
    assert only(marked, "X-Frame-Options") == "DENY"


def image_allowed(policies: list[str], url: str, page_origin: str) -> bool:
    """Whether a browser given all of `policies` loads an image from `url`: each policy must
    allow it (img-src, else default-src), by 'self', a scheme (data:, https:) or its origin."""
    scheme, _, rest = url.partition(":")
    origin = f"{scheme}://{rest[2:].split('/', 1)[0]}" if rest.startswith("//") else None
    for policy in policies:
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        sources = directives.get("img-src", directives.get("default-src", []))
        if not (
            ("'self'" in sources and origin == page_origin)
            or f"{scheme}:" in sources
            or (origin is not None and origin in sources)
        ):
            return False
    return True


async def test_the_edge_page_shows_the_campaigns_badges_and_no_other_images(
    edge: Nginx, stack: Stack
) -> None:
    """nginx serves the page of a campaign with trust badges from its file, with nginx.conf's
    header rendered from the same source as leadcap's (web/responses.py), and the page's own
    policy narrows images to the badges' origins: a browser loads the badges and nothing else."""
    async with helpers.edge_client(edge) as http:
        await http.get("/")  # a first view, counted: the browser is marked
        marked = await http.get("/")
    assert from_the_edge_file(marked)
    header = only(marked, "Content-Security-Policy")
    assert header == responses.PAGE_HEADERS["Content-Security-Policy"]
    for name, value in responses.PAGE_HEADERS.items():  # nginx.conf's copy, word for word
        assert only(marked, name) == value, name
    metas = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', marked.text)
    assert metas == [f"img-src 'self' data: {' '.join(conftest.BADGE_ORIGINS)}"]
    assert marked.text.index(metas[0]) < marked.text.index("<title>")  # before anything it covers
    policies = [header, *metas]
    for badge in conftest.BADGE_ORIGINS:
        assert image_allowed(policies, f"{badge}/logo.aspx?id=1", edge.url)
    assert image_allowed(policies, f"{edge.url}/assets/logo.svg", edge.url)
    assert image_allowed(policies, "data:image/png;base64,AAAA", edge.url)
    assert not image_allowed(policies, "https://tracker.example/pixel.gif", edge.url)
    assert not image_allowed(policies, "http://trustseal.enamad.ir/logo.aspx", edge.url)


async def test_flush_cache_reaches_the_page_nginx_serves(
    edge: Nginx, stack: Stack, stack_redis: aioredis.Redis
) -> None:
    """The promise through the edge: after `leadcap flush-cache` returns, the very next GET /
    through nginx is the new build, and nginx serves it from its file again."""
    index = stack.dist / "template.fa.html"
    original = index.read_text()
    async with helpers.edge_client(edge) as http:
        await http.get("/")  # a first view: counted by leadcap, the browser marked
        before = await http.get("/")
        assert from_the_edge_file(before)
        assert helpers.without_policy(before.text) == original
        try:
            for build in ("build two", "build three"):
                index.write_text(original.replace("built page", f"built page, {build}"))
                flush_cache(stack)
                after = await http.get("/")
                assert after.status_code == 200
                assert f"built page, {build}" in after.text
                assert from_the_edge_file(after)
        finally:
            index.write_text(original)
            flush_cache(stack)
            # tests/web/test_landing.py's servers share this Redis db: leave no shared copy behind
            await stack_redis.delete(keys.LANDING_CAMPAIGN)
        assert helpers.without_policy((await http.get("/")).text) == original


def flush_cache(stack: Stack) -> None:
    done = subprocess.run(
        ["leadcap", "flush-cache"], env=stack.env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 web process(es)" in done.stdout  # both Sanic workers confirmed


async def test_a_first_view_through_the_edge_is_counted_and_marks_the_browser(
    edge: Nginx, stack: Stack, stack_redis: aioredis.Redis
) -> None:
    """Visits are counted by leadcap on a browser's first view of the hour; nginx answers the
    views after it from the file, so it must not answer the first one."""
    agent = f"edge-visit-test/{uuid.uuid4()}"

    async def visitors() -> int:
        zone = ZoneInfo(stack.env.get("LEADCAP_TIMEZONE", "Asia/Tehran"))
        day = datetime.now(zone).strftime("%Y-%m-%d")
        count: int = await stack_redis.pfcount(keys.visits_day(day))
        return count

    counted = await visitors()
    async with helpers.edge_client(edge) as http:
        first = await http.get("/", headers={"User-Agent": agent})
        again = await http.get("/", headers={"User-Agent": agent})
        asked = await http.get("/?submitted=1", headers={"User-Agent": agent})
    assert not from_the_edge_file(first)
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith(f"{visits.COUNTED_COOKIE}=1;")
    max_age = int(cookie.lower().split("max-age=")[1].split(";")[0])
    assert 0 < max_age <= 3600
    assert from_the_edge_file(again)
    assert not from_the_edge_file(asked)  # a query is leadcap's (the no-JavaScript thanks page)

    async def one_more() -> bool:
        return await visitors() >= counted + 1

    assert await wait_for(one_more, timeout=10)


async def test_request_ids_pass_through_or_are_made(edge: Nginx) -> None:
    async with helpers.edge_client(edge) as http:
        kept = await http.get("/api/health/", headers={"X-Request-ID": "trace.42-A_b"})
        replaced = await http.get("/api/health/", headers={"X-Request-ID": "no spaces allowed"})
        made = await http.get("/api/health/")
    assert only(kept, "X-Request-ID") == "trace.42-A_b"
    assert only(replaced, "X-Request-ID") not in ("", "no spaces allowed")
    assert only(made, "X-Request-ID")
    assert only(made, "X-Request-ID") != only(replaced, "X-Request-ID")


async def test_health_through_the_edge(edge: Nginx) -> None:
    async with helpers.edge_client(edge) as http:

        async def ok() -> bool:
            return (await http.get("/api/health/")).json()["status"] == "ok"

        assert await wait_for(ok, timeout=20)  # every store and the worker's heartbeat
        response = await http.get("/api/health/")
    assert response.status_code == 200
    assert response.json()["checks"]["workers"]["count"] >= 1


async def test_the_rate_limiter_counts_the_address_nginx_forwards(
    edge: Nginx, stack_redis: aioredis.Redis
) -> None:
    """leadcap sees every request come from nginx (127.0.0.1) yet counts each client apart."""
    first, second = helpers.client_ip(), helpers.client_ip()
    async with helpers.edge_client(edge, first) as http:
        answers = [await http.post(LEADS, json={"phone": factories.mobile()}) for _ in range(11)]
    assert [a.status_code for a in answers] == [202] * 10 + [429]
    refused = answers[-1]
    assert error_code(refused) == "rate_limited"
    assert only(refused, "RateLimit-Limit") == "10"  # leadcap's limit, not the edge's
    assert 1 <= int(only(refused, "Retry-After")) <= 60
    assert await bucket_size(stack_redis, first) == 10
    assert await bucket_size(stack_redis, "127.0.0.1") == 0  # nginx itself is never the client
    async with helpers.edge_client(edge, second) as http:
        assert (await http.post(LEADS, json={"phone": factories.mobile()})).status_code == 202
    assert await bucket_size(stack_redis, second) == 1


async def test_a_spoofed_forwarded_for_does_not_change_the_bucket(
    edge: Nginx, stack_redis: aioredis.Redis
) -> None:
    spoofer, victim = helpers.client_ip(), helpers.client_ip()
    lies = {"X-Forwarded-For": f"{victim}, 203.0.113.9", "X-Real-IP": victim}
    async with helpers.edge_client(edge, spoofer) as http:
        answers = [
            await http.post(LEADS, json={"phone": factories.mobile()}, headers=lies) for _ in range(11)
        ]
    assert [a.status_code for a in answers] == [202] * 10 + [429]
    assert await bucket_size(stack_redis, spoofer) == 10
    assert await bucket_size(stack_redis, victim) == 0
    assert await bucket_size(stack_redis, "203.0.113.9") == 0
    async with helpers.edge_client(edge, victim) as http:  # the victim's own bucket is untouched
        assert (await http.post(LEADS, json={"phone": factories.mobile()})).status_code == 202


async def test_an_oversize_body_is_refused_at_the_edge(edge: Nginx, stack_redis: aioredis.Redis) -> None:
    address = helpers.client_ip()
    async with helpers.edge_client(edge, address) as http:
        largest = await http.post(
            LEADS, content=padded(4096, factories.mobile()), headers={"content-type": "application/json"}
        )
        assert largest.status_code == 202  # exactly 4 KiB is allowed by the contract
        counted = await bucket_size(stack_redis, address)
        declared = await http.post(
            LEADS,
            content=padded(4097, factories.mobile()),
            headers={"content-type": "application/json", "X-Request-ID": "big-1"},
        )

        async def chunks() -> Any:
            for _ in range(5):
                yield b" " * 1024

        chunked = await http.post(LEADS, content=chunks(), headers={"content-type": "application/json"})
    for response in (declared, chunked):
        assert response.status_code == 413
        assert error_code(response) == "body_too_large"
        assert response.headers["content-type"] == "application/json"
        assert "RateLimit-Limit" not in response.headers  # leadcap never saw it
    assert only(declared, "X-Request-ID") == "big-1"
    assert await bucket_size(stack_redis, address) == counted == 1


async def test_assets_come_from_nginx_with_immutable_caching_and_gzip(edge: Nginx, stack: Stack) -> None:
    async with helpers.edge_client(edge) as http:
        asset = await http.get(f"/assets/{conftest.ASSET}", headers={"Accept-Encoding": "gzip"})
        edge_only = await http.get(f"/assets/{conftest.EDGE_ONLY_ASSET}")
        web_only = await http.get(f"/assets/{conftest.WEB_ONLY_ASSET}")
        missing = await http.get("/assets/missing-000000.js")
    async with client(stack.url) as direct:
        not_in_web = await direct.get(f"/assets/{conftest.EDGE_ONLY_ASSET}")

    assert asset.status_code == 200
    assert only(asset, "Content-Encoding") == "gzip"
    assert asset.text == conftest.ASSET_JS  # httpx undid the gzip
    assert asset.num_bytes_downloaded < len(conftest.ASSET_JS) / 4
    assert "javascript" in only(asset, "Content-Type")
    assert only(asset, "Cache-Control") == "public, max-age=31536000, immutable"
    assert only(asset, "X-Content-Type-Options") == "nosniff"
    assert only(asset, "Vary") == "Accept-Encoding"
    assert only(asset, "X-Request-ID")
    # Only nginx has this file, so nginx answered, not leadcap.
    assert (edge_only.status_code, not_in_web.status_code) == (200, 404)
    # A file only the (newer) web image has is still found, with leadcap's headers, once each.
    assert web_only.status_code == 200
    assert only(web_only, "Cache-Control") == "public, max-age=31536000, immutable"
    assert only(web_only, "X-Content-Type-Options") == "nosniff"
    assert missing.status_code == 404
    assert "Cache-Control" not in missing.headers  # a miss is never cached for a year


async def test_metrics_are_not_served_at_the_edge(edge: Nginx, stack: Stack) -> None:
    """leadcap allows loopback peers, and nginx is one here: only nginx.conf keeps it private."""
    async with client(stack.url, "127.0.0.1") as direct:
        assert (await direct.get("/metrics")).status_code == 200
    async with helpers.edge_client(edge) as http:
        assert (await http.get("/metrics")).status_code == 404


# Request targets sent byte for byte (an HTTP client would tidy some of them up first).
METRICS_SPELLINGS = [
    "/metrics",
    "/metrics/",
    "/metrics/x",
    "/metrics?x=1",
    "/metrics/?x=1",
    "//metrics",
    "///metrics/",
    "/metrics;x",
    "/metrics%3Bx",
    "/%6Detrics",
    "/%6d%65%74%72%69%63%73",
    "/metrics%2F",
    "/./metrics",
    "/%2E/metrics",
    "/api/../metrics",
    "/api/%2E%2E/metrics",
    "/assets/../metrics/",
    "/METRICS",
    "/Metrics/",
    "http://localhost/metrics",
]


async def test_no_spelling_of_metrics_passes_the_edge(edge: Nginx, stack: Stack) -> None:
    """Each one is nginx's 404 in the contract's shape, and leadcap counts no request for it."""
    # Each web process folds its counts into the shared metrics once a second (docs/api.md):
    # let an earlier test's scrapes land before counting, and this one's before the second.
    await asyncio.sleep(1.5)
    before = await raw_get(stack.url, "/metrics", "127.0.0.1")
    for target in METRICS_SPELLINGS:
        status, headers, body = await raw_get(edge.url, target, helpers.client_ip(), edge.tls)
        assert status == 404, target
        assert json.loads(body)["error"]["code"] == "not_found", target
        assert "ratelimit-limit" not in headers  # nginx answered, not leadcap
    await asyncio.sleep(1.5)
    after = await raw_get(stack.url, "/metrics", "127.0.0.1")
    # The first scrape is the only request to the metrics route leadcap saw in between.
    assert metrics_requests(after[2]) - metrics_requests(before[2]) == 1


async def test_the_app_itself_answers_some_spellings(stack: Stack) -> None:
    """Why the edge must close them: straight to leadcap from an allowed peer, these are the page."""
    answered = []
    for target in METRICS_SPELLINGS:
        status, _, body = await raw_get(stack.url, target, "127.0.0.1")
        if status == 200 and b"# HELP" in body:
            answered.append(target)
    # /metrics/ (and with a query) is what `location = /metrics` used to let through.
    assert {"/metrics", "/metrics/", "/metrics/?x=1"} <= set(answered)


async def raw_get(
    base_url: str, target: str, source: str, tls: ssl.SSLContext | None = None
) -> tuple[int, dict[str, str], bytes]:
    """GET `target` exactly as written, from the local address `source` (over TLS with `tls`)."""
    host, port = base_url.split("://", 1)[1].split(":")
    reader, writer = await asyncio.open_connection(host, int(port), local_addr=(source, 0), ssl=tls)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return int(status_line.split()[1]), headers, body


def dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


def metrics_requests(exposition: bytes) -> float:
    """leadcap's own count of answered requests to its metrics route (a scrape counts itself
    only after answering: in the next scrape)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.decode().splitlines()
        if line.startswith("leadcap_http_requests_total{") and 'route="metrics"' in line
    )


async def test_edge_health_answers_only_locally(edge: Nginx) -> None:
    """Over plain HTTP too (the container's healthcheck asks http://127.0.0.1/.edge-health)."""
    async with client(edge.http_url, "127.0.0.1") as local:
        assert (await local.get("/.edge-health")).text == "ok\n"
    async with helpers.edge_client(edge, "127.0.0.1") as local:
        assert (await local.get("/.edge-health")).text == "ok\n"
    async with helpers.edge_client(edge) as outside:
        assert (await outside.get("/.edge-health")).status_code == 404


async def test_the_edge_rate_limit_triggers_first_when_lower(
    stack: Stack, stack_redis: aioredis.Redis, deploy_dir: Path
) -> None:
    """The same nginx.conf with its edge rate lowered below leadcap's: nginx answers the 429."""
    address, neighbour = helpers.client_ip(), helpers.client_ip()
    with helpers.edge_nginx(
        deploy_dir / "nginx-low-rate",
        upstream=stack.url.removeprefix("http://"),
        assets_root=stack.edge_root,
        changes={"rate=5r/s;": "rate=1r/m;", "burst=20 nodelay;": "burst=2 nodelay;"},
    ) as low:
        async with helpers.edge_client(low, address) as http:
            answers = [await http.post(LEADS, json={"phone": factories.mobile()}) for _ in range(5)]
            reads = [await http.get(LEADS) for _ in range(5)]  # only POSTs count at the edge
        async with helpers.edge_client(low, neighbour) as http:
            other = await http.post(LEADS, json={"phone": factories.mobile()})
    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    for refused in answers[3:]:
        assert error_code(refused) == "rate_limited"
        assert only(refused, "Retry-After") == "1"
        assert only(refused, "X-Request-ID")
        assert "RateLimit-Limit" not in refused.headers  # nginx's answer, not leadcap's
    assert await bucket_size(stack_redis, address) == 3  # leadcap never saw the refused ones
    assert [r.status_code for r in reads] == [405] * 5
    assert other.status_code == 202


async def test_a_dead_upstream_answers_503_in_the_contract_shape(stack: Stack, deploy_dir: Path) -> None:
    nobody = embedded.free_port()
    with helpers.edge_nginx(
        deploy_dir / "nginx-dead-upstream", upstream=f"127.0.0.1:{nobody}", assets_root=stack.edge_root
    ) as dead:
        async with helpers.edge_client(dead) as http:
            lead = await http.post(LEADS, json={"phone": factories.mobile()})
            health = await http.get("/api/health/")
            asset = await http.get(f"/assets/{conftest.ASSET}")
    for response in (lead, health):
        assert response.status_code == 503
        assert error_code(response) == "unavailable"
        assert 1 <= int(only(response, "Retry-After")) <= 60
    assert asset.status_code == 200  # nginx's own copy needs no upstream


async def test_many_phones_behind_one_address_pass_the_edge(edge: Nginx, stack_redis: aioredis.Redis) -> None:
    """Issue 24 through the real nginx: 100 phones behind one carrier address (each its own
    cookie jar: GET /, then one POST) all get in, the first view of each reaching leadcap for its
    visitor cookie; cookie-less clients of that address are still held at their 11th POST."""
    address = helpers.client_ip()

    async def phone() -> tuple[bool, httpx.Response]:
        async with helpers.edge_client(edge, address) as http:
            page = await http.get("/")
            assert page.status_code == 200 and visitor.COOKIE in http.cookies
            return from_the_edge_file(page), await http.post(LEADS, json={"phone": factories.mobile()})

    results = await asyncio.gather(*(phone() for _ in range(100)))
    assert not any(edge_file for edge_file, _ in results)  # no visitor cookie yet: leadcap answers
    assert [answer.status_code for _, answer in results] == [202] * 100
    assert {only(answer, "RateLimit-Limit") for _, answer in results} == {"10"}
    assert await bucket_size(stack_redis, "shared:" + address) == 100
    async with helpers.edge_client(edge, address) as bare:
        answers = [await bare.post(LEADS, json={"phone": factories.mobile()}) for _ in range(11)]
    assert [a.status_code for a in answers] == [202] * 10 + [429]
    assert "RateLimit-Limit" in answers[-1].headers  # leadcap's refusal, not the edge's


async def test_only_a_browser_with_a_visitor_cookie_gets_the_edge_file(edge: Nginx) -> None:
    """A browser marked as counted but without a visitor cookie (or with a garbled one) reaches
    leadcap, which gives it one; with that, the file is served."""
    garbled = {visits.COUNTED_COOKIE: "1", visitor.COOKIE: "not-a-visitor-cookie"}
    for cookies in ({visits.COUNTED_COOKIE: "1"}, garbled):
        async with helpers.edge_client(edge, cookies=cookies) as http:
            first = await http.get("/")
            minted = only_cookie(first, visitor.COOKIE)
        async with helpers.edge_client(edge, cookies={**cookies, visitor.COOKIE: minted}) as http:
            served = await http.get("/")
        assert not from_the_edge_file(first)
        assert from_the_edge_file(served)


def only_cookie(response: httpx.Response, name: str) -> str:
    values = [c for c in response.headers.get_list("set-cookie") if c.startswith(name + "=")]
    assert len(values) == 1, values
    return values[0].split(";", 1)[0].split("=", 1)[1]


async def test_a_cookieless_flood_is_cut_at_the_edge_and_visitors_are_not(
    stack: Stack, stack_redis: aioredis.Redis, deploy_dir: Path
) -> None:
    """With the edge's per-client rate lowered below leadcap's, a cookie-less client is refused by
    nginx, while a dozen visitors behind the same address each still get through."""
    address = helpers.client_ip()
    with helpers.edge_nginx(
        deploy_dir / "nginx-low-rate-visitors",
        upstream=stack.url.removeprefix("http://"),
        assets_root=stack.edge_root,
        changes={"rate=5r/s;": "rate=1r/m;", "burst=20 nodelay;": "burst=2 nodelay;"},
    ) as low:
        async with helpers.edge_client(low, address) as bare:
            flood = [await bare.post(LEADS, json={"phone": factories.mobile()}) for _ in range(5)]
        visitors = []
        for _ in range(12):
            async with helpers.edge_client(low, address) as http:
                await http.get("/")
                visitors.append(await http.post(LEADS, json={"phone": factories.mobile()}))
    assert [a.status_code for a in flood] == [202, 202, 202, 429, 429]
    assert "RateLimit-Limit" not in flood[-1].headers  # nginx's answer
    assert [a.status_code for a in visitors] == [202] * 12
