"""Bad input and abuse through the real server: arbitrary requests, slow clients, limiter bypasses."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories, servers
from tests.servers import Server, client

CONTRACT_STATUSES = {202, 303, 400, 403, 404, 405, 413, 415, 422, 429, 503}
CODES = {"invalid_body", "missing_phone", "invalid_phone", "not_mobile", "region_not_allowed",
         "body_too_large", "unsupported_media_type", "rate_limited", "unavailable", "method_not_allowed",
         "not_found", "forbidden_origin"}  # fmt: skip


@pytest.fixture(scope="module")
def open_server(env: dict[str, str], run_dir: Path) -> Iterator[Server]:
    with servers.serving({**env, "LEADCAP_RATE_LIMIT": "100000/minute"}, run_dir / "abuse.log") as running:
        yield running


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: __import__("orjson").dumps(v)),
    st.fixed_dictionaries(
        {"phone": st.one_of(st.text(max_size=40), json_values)},
        optional={"source": json_values, "utm": json_values, "website": json_values},
    ).map(lambda v: __import__("orjson").dumps(v)),
    st.text(max_size=200).map(str.encode),
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded", "text/plain",
     "multipart/form-data", "", "application/JSON", "application/json;;;", "*/*"]
)  # fmt: skip
headers = st.dictionaries(
    st.sampled_from(["X-Forwarded-For", "X-Request-ID", "Origin", "Accept", "User-Agent", "X-Real-IP"]),
    # what an HTTP client can send at all: printable ASCII, no surrounding spaces
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(str.strip),
    max_size=3,
)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=bodies,
    content_type=content_types,
    extra=headers,
    path=st.sampled_from(["/api/leads/", "/api/leads"]),
)
def test_any_post_gets_a_contract_answer(
    open_server: Server, body: bytes, content_type: str, extra: dict[str, str], path: str
) -> None:
    response = httpx.post(
        open_server.url + path, content=body, headers={**extra, "Content-Type": content_type}
    )
    assert response.status_code in CONTRACT_STATUSES, response.text
    assert "Traceback" not in response.text
    assert response.headers["X-Request-ID"]
    if response.status_code >= 400 and response.headers["content-type"].startswith("application/json"):
        error = response.json()["error"]
        assert error["code"] in CODES and error["message"]
        assert set(error) <= {"code", "message", "field"}


def test_slow_clients_are_cut_off_without_starving_others(open_server: Server) -> None:
    """Slowloris: 40 connections trickle half a request line; a normal client is still served at
    once, and the server closes the slow ones after its request timeout (10 s)."""
    parts = urlsplit(open_server.url)
    slow = []
    for _ in range(40):
        sock = socket.create_connection((parts.hostname, parts.port), timeout=20)
        sock.sendall(b"POST /api/leads/ HTTP/1.1\r\nHost: x\r\nContent-Type: appl")
        slow.append(sock)
    started = time.monotonic()
    response = httpx.post(open_server.url + "/api/leads/", json={"phone": factories.mobile()})
    assert response.status_code == 202 and time.monotonic() - started < 2
    closed = 0
    for sock in slow:
        try:
            data = sock.recv(1024)  # blocks until the server answers or closes
        except OSError:
            data = b""
        closed += data == b"" or data.startswith(b"HTTP/1.1 4")  # answered (invalid_body) or dropped
        sock.close()
    assert closed == 40
    assert time.monotonic() - started < 16


def test_a_slow_body_is_cut_off_too(open_server: Server) -> None:
    parts = urlsplit(open_server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(b"POST /api/leads/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"ph")  # fmt: skip
        started = time.monotonic()
        reply = sock.recv(4096)
    assert time.monotonic() - started < 8
    assert reply.startswith(b"HTTP/1.1 400") and b'"invalid_body"' in reply


async def test_path_variants_share_one_bucket(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        paths = ["/api/leads", "/api/leads/", "/api/leads?x=1", "/api/leads/?utm=2", "/api/leads//"]
        answers = [
            await http.post(paths[i % len(paths)], json={"phone": factories.mobile()}) for i in range(12)
        ]
        upper = await http.post("/API/LEADS/", json={"phone": factories.mobile()})
    accepted = [a for a in answers if a.status_code == 202]
    assert len(accepted) == 10 and answers[-1].status_code == 429
    assert upper.status_code == 404  # another path is not another way in: it takes nothing


async def test_ipv6_client_is_limited_like_any_other(env: dict[str, str], run_dir: Path) -> None:
    if not socket.has_ipv6:
        pytest.fail("this machine has no IPv6 loopback")
    port = servers.embedded.free_port()
    process = servers.Process(
        ("serve",), {**env, "LEADCAP_HOST": "::1", "LEADCAP_PORT": str(port)}, run_dir / "v6.log"
    )
    process.start()
    try:
        url = f"http://[::1]:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/api/health/", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, process.output()
                time.sleep(0.2)
        answers = [httpx.post(url + "/api/leads/", json={"phone": factories.mobile()}) for _ in range(11)]
        assert [a.status_code for a in answers] == [202] * 10 + [429]
    finally:
        process.stop()


def test_sql_is_only_ever_parameterised() -> None:
    """No query text is built from values: every SQL string is a constant or a .sql file."""
    formatted = re.compile(r"""\.(execute|fetch|fetchrow|fetchval|cursor)\(\s*f["']""")
    offenders = [
        str(path) for path in (servers.ROOT / "leadcap").rglob("*.py") if formatted.search(path.read_text())
    ]
    assert offenders == []


async def test_huge_numbers_and_deep_nesting(open_server: Server) -> None:
    async with client(open_server.url) as http:
        big = await http.post("/api/leads/", content=b'{"phone": 123456789012345678901234567890}',
                              headers={"content-type": "application/json"})  # fmt: skip
        deep = await http.post("/api/leads/", content=b"[" * 2000 + b"]" * 2000,
                               headers={"content-type": "application/json"})  # fmt: skip
    assert big.status_code == 422 and big.json()["error"]["code"] == "invalid_phone"
    assert deep.status_code == 400 and deep.json()["error"]["code"] == "invalid_body"
