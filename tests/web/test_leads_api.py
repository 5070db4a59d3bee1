"""POST /api/leads/ through a real `leadcap serve`: every row of the contract's table."""

from __future__ import annotations

import socket
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from tests import factories
from tests.servers import Server, client, wait_for_lead

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


def assert_error(response: httpx.Response, status: int, code: str, *, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    expected_keys = {"code", "message", "field"} if field else {"code", "message"}
    assert set(body["error"]) == expected_keys
    assert body["error"]["code"] == code and body["error"]["message"]
    if field:
        assert body["error"]["field"] == field
    assert "Traceback" not in response.text
    assert response.headers["X-Request-ID"]


def assert_rate_headers(response: httpx.Response) -> None:
    for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
        assert response.headers[name].isdigit(), name


@pytest.mark.parametrize("path", ["/api/leads/", "/api/leads"])
async def test_accepted(server: Server, ip: str, path: str) -> None:
    number = factories.mobile()
    async with client(server.url, ip) as http:
        response = await http.post(
            path,
            json={
                "phone": factories.persian(number),
                "source": "hero",
                "utm": {"source": "google", "medium": "cpc", "campaign": "fall"},
            },
        )
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"id", "status", "phone", "duplicate"}
    assert uuid.UUID(body["id"]).version == 7
    assert (body["status"], body["phone"], body["duplicate"]) == ("queued", factories.e164(number), False)
    assert_rate_headers(response)
    assert response.headers["RateLimit-Limit"] == "10" and response.headers["RateLimit-Remaining"] == "9"


async def test_duplicate_within_window(server: Server, ip: str) -> None:
    number = factories.mobile()
    async with client(server.url, ip) as http:
        first = (await http.post("/api/leads/", json={"phone": number})).json()
        again = await http.post("/api/leads/", json={"phone": factories.arabic_indic(number)})
    assert again.status_code == 202
    assert again.json() == {**first, "duplicate": True}


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'"09123456789"',
        b"",
        b'{"phone": "09123456789", "source": 1}',
        b'{"phone": "09123456789", "source": "' + b"s" * 65 + b'"}',
        b'{"phone": "09123456789", "utm": {"campaign": "' + b"c" * 129 + b'"}}',
        b'{"phone": "09123456789", "utm": []}',
        b"\xff\xfe{}",
        b'{"phone": "09121110001", "source": "a\\u0000b"}',
        b'{"phone": "09121110001", "utm": {"campaign": "a\\u001fb"}}',
        b'{"phone": "09121110001", "utm": {"content": "a\\u007fb"}}',
    ],
)
async def test_invalid_body(server: Server, ip: str, content: bytes) -> None:
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", content=content, headers=JSON)
    assert_error(response, 400, "invalid_body")
    assert_rate_headers(response)


@pytest.mark.parametrize("body", [{}, {"phone": None}, {"phone": ""}, {"phone": "   "}, {"source": "x"}])
async def test_missing_phone(server: Server, ip: str, body: dict[str, object]) -> None:
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", json=body)
    assert_error(response, 422, "missing_phone", field="phone")


@pytest.mark.parametrize(
    "value", [9123456789, ["0912"], {"a": 1}, True, "0" * 33, "12345", "hello", "0912345678"]
)
async def test_invalid_phone(server: Server, ip: str, value: object) -> None:
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", json={"phone": value})
    assert_error(response, 422, "invalid_phone", field="phone")


async def test_not_mobile(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", json={"phone": "021 8888 8888"})
    assert_error(response, 422, "not_mobile", field="phone")


async def test_region_not_allowed(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", json={"phone": "+447400123456"})
    assert_error(response, 422, "region_not_allowed", field="phone")


async def test_body_too_large(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", content=b'{"phone": "' + b"1" * 5000 + b'"}', headers=JSON)
    assert_error(response, 413, "body_too_large")
    assert_rate_headers(response)


async def test_body_just_under_the_cap_is_read(server: Server, ip: str) -> None:
    body = b'{"phone": "09123456789", "pad": "' + b"x" * 4000 + b'"}'
    assert len(body) <= 4096
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", content=body, headers=JSON)
    assert response.status_code == 202


def test_a_megabyte_is_refused_before_it_is_read(server: Server, ip: str) -> None:
    """Announce 1 MB, send only the headers: the answer must come without waiting for the body."""
    parts = urlsplit(server.url)
    # From its own address: 127.0.0.1's rate-limit bucket is shared with other tests.
    with socket.create_connection((parts.hostname, parts.port), timeout=5, source_address=(ip, 0)) as sock:
        sock.sendall(
            b"POST /api/leads/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1048576\r\n\r\n"
        )
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413") and '"body_too_large"' in reply


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", None])
async def test_unsupported_media_type(server: Server, ip: str, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", content=b'{"phone":"09123456789"}', headers=headers)
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_other_methods(server: Server, ip: str, method: str) -> None:
    async with client(server.url, ip) as http:
        response = await http.request(method, "/api/leads/")
    assert_error(response, 405, "method_not_allowed")


async def test_honeypot_gets_202_but_is_not_stored(
    server: Server, ip: str, pg: object, worker: object
) -> None:
    number = factories.mobile()
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", json={"phone": number, "website": "http://spam.example"})
        control = await http.post("/api/leads/", json={"phone": factories.mobile()})
    assert response.status_code == 202 and response.json()["phone"] == factories.e164(number)
    await wait_for_lead(pg, control.json()["phone"])  # the worker has caught up past it
    assert await pg.fetchval("SELECT count(*) FROM leads WHERE phone = $1", factories.e164(number)) == 0  # type: ignore[attr-defined]


async def test_honeypot_with_an_invalid_phone_gets_the_phone_error(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", json={"phone": "nope", "website": "x"})
    assert_error(response, 422, "invalid_phone", field="phone")


async def test_form_post_redirects(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        response = await http.post(
            "/api/leads/", content=f"phone={factories.mobile()}&source=hero&utm_source=x", headers=FORM
        )
    assert response.status_code == 303 and response.headers["location"] == "/?submitted=1"
    assert_rate_headers(response)


@pytest.mark.parametrize("field", ["source", "utm_source", "utm_term"])
async def test_form_with_a_control_character_is_refused(server: Server, ip: str, field: str) -> None:
    async with client(server.url, ip) as http:
        response = await http.post(
            "/api/leads/", content=f"phone={factories.mobile()}&{field}=a%00b", headers=FORM
        )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


async def test_form_error_rerenders_the_page(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", content="phone=021+8888+8888", headers=FORM)
        as_json = await http.post("/api/leads/", json={"phone": "021 8888 8888"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert as_json.json()["error"]["message"] in response.text
    assert "Content-Security-Policy" in response.headers


async def test_request_id_echoed_or_made(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        echoed = await http.get("/api/health/", headers={"X-Request-ID": "abc.DEF_1-2"})
        replaced = await http.get("/api/health/", headers={"X-Request-ID": "bad id!"})
        too_long = await http.get("/api/health/", headers={"X-Request-ID": "a" * 129})
    assert echoed.headers["X-Request-ID"] == "abc.DEF_1-2"
    assert replaced.headers["X-Request-ID"] not in ("bad id!", "")
    assert len(too_long.headers["X-Request-ID"]) < 129


async def test_unknown_api_path(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        for path in ("/api/nope", "/api/leads/extra", "/api/"):
            assert_error(await http.get(path), 404, "not_found")
