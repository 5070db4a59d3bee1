"""Hostile requests through a real `leadcap serve`: invented methods, long paths, other origins."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.servers import Server, client, wait_for
from tests.web.test_operations import log_docs

UNKNOWN_METHODS = 2_500
METHOD_SIZE = 4096


def rss_bytes(pid: int) -> int:
    """The resident set of a process, from /proc (Linux, as the suite's servers are)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


async def send_unknown_methods(server: Server, start: int, count: int) -> None:
    """`count` requests, each with its own 4 KB method name (a valid HTTP token)."""

    async def one_client(offset: int) -> None:
        async with client(server.url) as http:
            for n in range(start + offset, start + count, 8):
                method = f"M{n:07d}".ljust(METHOD_SIZE, "X")
                response = await http.request(method, "/no-such-page")
                assert response.status_code in (404, 405), response.text

    await asyncio.gather(*(one_client(offset) for offset in range(8)))


async def test_invented_methods_leave_the_web_process_flat(server: Server) -> None:
    """Before the fix every new method name stayed in the metrics cache (and a metric child) for
    good: 2,500 names of 4 KB kept at least 10 MB. Allocator noise and warm caches stay far
    below the 3 MB allowed here, so a leak of even a third of that fails."""
    assert server.process.popen is not None
    pid = server.process.popen.pid
    await send_unknown_methods(server, 0, 300)  # warm up: pools, buffers, first allocations
    before = rss_bytes(pid)
    await send_unknown_methods(server, 300, UNKNOWN_METHODS)
    grown = rss_bytes(pid) - before
    assert grown < 3 * 1024 * 1024, f"RSS grew by {grown / 2**20:.1f} MiB"


async def test_the_request_log_keeps_no_invented_path_or_method(server: Server, mongo_url: str) -> None:
    """An unmatched /api/ request is logged under one fixed name, with its method normalised:
    neither a scanner's paths nor its methods reach MongoDB (they were stored in full)."""
    async with client(server.url) as http:
        missing = await http.get("/api/" + "p" * 6000)
        invented = await http.request("Q" * 3000, "/api/leads/")
    assert (missing.status_code, invented.status_code) == (404, 405)

    async def both() -> list[dict[str, Any]]:
        docs = [
            *await log_docs(mongo_url, request_id=missing.headers["X-Request-ID"]),
            *await log_docs(mongo_url, request_id=invented.headers["X-Request-ID"]),
        ]
        return docs if len(docs) == 2 else []

    docs = await wait_for(both, 10)
    assert docs, "the two requests were never logged"
    by_status = {d["status"]: d for d in docs}  # type: ignore[attr-defined]
    assert (by_status[404]["method"], by_status[404]["path"]) == ("GET", "unmatched")
    assert (by_status[405]["method"], by_status[405]["path"]) == ("OTHER", "unmatched")


async def test_posts_from_other_sites_are_refused(server: Server, ip: str) -> None:
    """A third-party page cannot make its visitors' browsers post leads here: by Origin, or by
    Sec-Fetch-Site when the browser sends no usable Origin. Each refusal still counts against
    the client's rate limit, as every POST does."""
    own = server.url  # http://127.0.0.1:<port>, the Host the client sends
    port = own.rsplit(":", 1)[1]
    cases = [
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"}, 403),  # Origin decides
        ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Origin": f"http://localhost:{port}"}, 403),  # another host name is another site
        ({"Origin": "not a url"}, 403),
    ]
    async with client(server.url, ip) as http:
        answers = [
            await http.post("/api/leads/", json={"phone": "nope"}, headers=headers) for headers, _ in cases
        ]
        form = await http.post(
            "/api/leads/",
            content=b"phone=09121110001",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"},
        )
    for (headers, status), answer in zip(cases, answers, strict=True):
        assert answer.status_code == status, (headers, answer.text)
        assert answer.json() == {
            "error": {"code": "forbidden_origin", "message": answer.json()["error"]["message"]}
        }
    assert [a.headers["RateLimit-Remaining"] for a in answers] == [str(9 - n) for n in range(len(cases))]
    assert form.status_code == 403 and form.headers["content-type"].startswith("text/html")  # the page again


async def test_own_pages_and_non_browsers_are_judged_as_any_other(server: Server, ip: str) -> None:
    own = server.url
    port = int(own.rsplit(":", 1)[1])
    cases = [
        {"Origin": own},
        {"Origin": own.upper(), "Sec-Fetch-Site": "same-origin"},
        {"Origin": f"http://127.0.0.1:{port + 1}"},  # the port is not part of the site
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},  # strict referrer policies send null
        {"Sec-Fetch-Site": "same-origin"},
        {},  # curl, a server-side integration: no browser headers at all
    ]
    async with client(server.url, ip) as http:
        for headers in cases:
            answer = await http.post("/api/leads/", json={"phone": "nope"}, headers=headers)
            assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_phone", headers
