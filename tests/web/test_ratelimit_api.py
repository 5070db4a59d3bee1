"""The rate limit through the real server: per client, sliding, not fooled by X-Forwarded-For."""

from __future__ import annotations

from tests import factories
from tests.servers import Server, client


async def test_eleventh_post_in_a_minute_is_refused_but_another_ip_passes(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        answers = [await http.post("/api/leads/", json={"phone": factories.mobile()}) for _ in range(10)]
        eleventh = await http.post("/api/leads/", json={"phone": factories.mobile()})
    assert [a.status_code for a in answers] == [202] * 10
    assert [a.headers["RateLimit-Remaining"] for a in answers] == [str(9 - i) for i in range(10)]
    assert eleventh.status_code == 429
    assert eleventh.json()["error"]["code"] == "rate_limited"
    assert set(eleventh.json()["error"]) == {"code", "message"}
    retry_after = int(eleventh.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert eleventh.headers["RateLimit-Remaining"] == "0"
    assert eleventh.headers["RateLimit-Reset"] == str(retry_after)
    async with client(server.url, ip.replace("127.10.", "127.11.")) as other:
        assert (await other.post("/api/leads/", json={"phone": factories.mobile()})).status_code == 202


async def test_every_outcome_counts(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        for _ in range(10):
            await http.post("/api/leads/", content=b"junk", headers={"content-type": "application/json"})
        response = await http.post("/api/leads/", json={"phone": factories.mobile()})
        junk = await http.post("/api/leads/", content=b"junk", headers={"content-type": "application/json"})
    assert response.status_code == 429
    # Over the limit, the limit answers before the body's own error, with the rate headers.
    assert (junk.status_code, junk.json()["error"]["code"]) == (429, "rate_limited")
    assert junk.headers["RateLimit-Remaining"] == "0" and "Retry-After" in junk.headers


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        answers = [
            await http.post(
                "/api/leads/",
                json={"phone": factories.mobile()},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            )
            for i in range(11)
        ]
    assert [a.status_code for a in answers] == [202] * 10 + [429]


async def test_trusted_proxy_forwards_the_client(server: Server) -> None:
    """127.0.0.250 is the configured proxy: its clients are counted apart, and a client's own
    X-Forwarded-For entry (left of what the proxy appended) changes nothing."""
    async with client(server.url, "127.0.0.250") as proxy:
        for i in range(10):
            spoofed = f"10.9.9.{i}, 203.0.113.7"  # client wrote 10.9.9.i; the proxy appended the peer
            response = await proxy.post(
                "/api/leads/", json={"phone": factories.mobile()}, headers={"X-Forwarded-For": spoofed}
            )
            assert response.status_code == 202
        blocked = await proxy.post(
            "/api/leads/", json={"phone": factories.mobile()}, headers={"X-Forwarded-For": "203.0.113.7"}
        )
        other = await proxy.post(
            "/api/leads/", json={"phone": factories.mobile()}, headers={"X-Forwarded-For": "203.0.113.8"}
        )
    assert blocked.status_code == 429
    assert other.status_code == 202
