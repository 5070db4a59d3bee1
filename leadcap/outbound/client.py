"""The one HTTP client factory for calls that leave the machine: aiohttp, connections kept alive,
certifi's CA bundle, no proxy taken from the environment, a total timeout per exchange, and a
`leadcap-<name>/<version>` user agent. With `guarded`, the SSRF guard sits in the client's
resolver and socket factory (guard.py), so the address that was checked is the one connected to.
`post` sends with `allow_redirects=False` (a 3xx is an answer, never an instruction) and caps what it reads.

aiohttp rather than httpx: the same signed POST to a local receiver costs about 0.2 ms of CPU
against httpx's 1.4 ms (bench/experiments/webhook_clients.py); with SMS verification on,
httpx/httpcore took 70 % of the web process's CPU (bench/verify.py). aiohttp wants a running
loop to open a session, so callers open it on their first request and close it with themselves.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import certifi

from leadcap import __version__
from leadcap.outbound.guard import GuardedResolver, guarded_socket

KEEPALIVE_S = 30.0
DNS_TTL_S = 10  # a resolved (and, guarded, checked) host is reused this long; only checked ones are kept


def session(
    name: str,
    *,
    timeout_s: float,
    max_connections: int,
    guarded: bool = False,
    allow_private: bool = False,
    decompress: bool = True,
) -> aiohttp.ClientSession:
    """A pooled session for `name`'s calls (sms, webhooks, …). `guarded`: names are resolved and
    checked by the SSRF guard and every socket is checked once more (`allow_private` lets the
    guard pass private addresses, LEADCAP_WEBHOOK_ALLOW_PRIVATE). `decompress=False`: no
    Accept-Encoding is sent and nothing is inflated (for answers that are only counted, not read)."""
    connector = aiohttp.TCPConnector(
        limit=max_connections,
        limit_per_host=0,  # a per-destination cap, where there is one, is the caller's
        keepalive_timeout=KEEPALIVE_S,
        ssl=ssl.create_default_context(cafile=certifi.where()),
        use_dns_cache=True,
        ttl_dns_cache=DNS_TTL_S,
        resolver=GuardedResolver(allow_private=allow_private) if guarded else None,
        socket_factory=guarded_socket(allow_private=allow_private) if guarded else None,
    )
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=False,  # no proxy from the environment
        timeout=aiohttp.ClientTimeout(total=timeout_s),
        headers={"user-agent": f"leadcap-{name}/{__version__}"},
        skip_auto_headers=() if decompress else ("accept-encoding",),
        auto_decompress=decompress,
        raise_for_status=False,
    )


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes  # at most the max_bytes asked for
    headers: Mapping[str, str]  # aiohttp's, looked up case-insensitively


async def post(
    session: aiohttp.ClientSession, url: str, *, data: Any, headers: dict[str, str], max_bytes: int
) -> Reply:
    """POST once, a 3xx taken as the answer (never followed), the answer's body read up to
    `max_bytes`: past that the rest is not read and that connection is not reused. aiohttp's
    errors (and ValueError for a URL it cannot take) are the caller's to name."""
    async with session.post(url, data=data, headers=headers, allow_redirects=False) as response:
        chunks: list[bytes] = []
        read = 0
        async for chunk in response.content.iter_any():
            chunks.append(chunk)
            read += len(chunk)
            if read > max_bytes:
                response.close()
                break
        return Reply(response.status, b"".join(chunks)[:max_bytes], response.headers)
