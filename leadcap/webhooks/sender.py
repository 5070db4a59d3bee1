"""The one pooled HTTP client webhooks are sent with: aiohttp, the SSRF guard in its resolver and
in its socket factory, no redirects followed, no proxy taken from the environment, 10 s for the
whole exchange.

aiohttp rather than httpx: the same signed POST to a local receiver costs about 0.2 ms of CPU
against httpx's 1.4 ms (bench/experiments/webhook_clients.py), most of httpx's going to its
connection pool's bookkeeping and to three socket writes per request where aiohttp makes one.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass

import aiohttp
import certifi

from leadcap import __version__
from leadcap.webhooks.guard import AddressRefused, GuardedResolver, guarded_socket
from leadcap.webhooks.schedule import TIMEOUT_S

MAX_RESPONSE_BYTES = 64 * 1024  # a receiver's answer is read this far, then dropped
DNS_TTL_S = 10  # a resolved and checked host is reused this long; only checked addresses are kept
KEEPALIVE_S = 30.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST got: an HTTP status, or the reason there was none."""

    status: int | None
    error: str | None
    latency_ms: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Sender:
    """Posts signed bodies; never raises for a receiver's failure, it reports it.

    The session is opened on the first post (aiohttp wants a running loop for it)."""

    def __init__(self, *, allow_private: bool, max_connections: int = 256) -> None:
        self.allow_private = allow_private
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            limit_per_host=0,  # the per-endpoint cap is the Breaker's
            keepalive_timeout=KEEPALIVE_S,
            ssl=ssl.create_default_context(cafile=certifi.where()),
            # Names: resolved and checked by the guard, and only the checked addresses are cached
            # and connected to. Every socket, literal addresses included, is checked once more.
            resolver=GuardedResolver(allow_private=self.allow_private),
            use_dns_cache=True,
            ttl_dns_cache=DNS_TTL_S,
            socket_factory=guarded_socket(allow_private=self.allow_private),
        )
        return aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # no proxy from the environment
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
            headers={"user-agent": f"leadcap-webhooks/{__version__}"},
            skip_auto_headers=("accept-encoding",),
            auto_decompress=False,
            raise_for_status=False,
        )

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        if self._session is None:
            self._session = self._open()
        try:
            async with (
                asyncio.timeout(TIMEOUT_S),
                self._session.post(
                    url,
                    data=body,
                    headers=headers,
                    allow_redirects=False,  # a 3xx is an answer, not an instruction: never followed
                ) as response,
            ):
                read = 0
                async for chunk in response.content.iter_any():
                    read += len(chunk)
                    if read > MAX_RESPONSE_BYTES:
                        response.close()  # the rest is not read: the connection is not reused
                        break
                status = response.status
        except AddressRefused as exc:
            error = f"refused: {exc.message}"
        except aiohttp.ClientConnectorError as exc:
            refused = _refusal_in(exc)
            error = f"refused: {refused.message}" if refused else type(exc).__name__
        except aiohttp.InvalidURL as exc:  # e.g. 2130706433 for 127.0.0.1: refused, never resolved
            error = f"refused: not a URL webhooks send to ({exc})"
        except TimeoutError:
            error = f"timeout: no answer within {TIMEOUT_S:g}s"
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a URL aiohttp cannot take
            error = type(exc).__name__
        return Attempt(status, error, round((time.perf_counter() - started) * 1000, 1))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _refusal_in(exc: BaseException) -> AddressRefused | None:
    """The guard's refusal behind a connection error, if that is what it was."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, AddressRefused):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
