"""The one pooled HTTP client webhooks are sent with: the SSRF guard in its network backend,
no redirects followed, no proxy taken from the environment, 10 s for the whole exchange."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass

import certifi
import httpcore
import httpx

from leadcap import __version__
from leadcap.webhooks.guard import AddressRefused, GuardedBackend
from leadcap.webhooks.schedule import TIMEOUT_S

MAX_RESPONSE_BYTES = 64 * 1024  # a receiver's answer is read this far, then dropped


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST got: an HTTP status, or the reason there was none."""

    status: int | None
    error: str | None
    latency_ms: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose network backend is the SSRF guard."""

    def __init__(self, *, allow_private: bool, max_connections: int) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=GuardedBackend(allow_private=allow_private),
        )


class Sender:
    """Posts signed bodies; never raises for a receiver's failure, it reports it."""

    def __init__(self, *, allow_private: bool, max_connections: int = 256) -> None:
        self.client = httpx.AsyncClient(
            transport=GuardedTransport(allow_private=allow_private, max_connections=max_connections),
            follow_redirects=False,  # a 3xx is an answer, not an instruction: never followed
            trust_env=False,
            timeout=httpx.Timeout(TIMEOUT_S),
            headers={"user-agent": f"leadcap-webhooks/{__version__}"},
        )

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(TIMEOUT_S):
                request = self.client.build_request("POST", url, content=body, headers=headers)
                response = await self.client.send(request, stream=True)
                try:
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read > MAX_RESPONSE_BYTES:
                            break
                finally:
                    await response.aclose()
                status = response.status_code
        except AddressRefused as exc:
            error = f"refused: {exc.message}"
        except TimeoutError:
            error = f"timeout: no answer within {TIMEOUT_S:g}s"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        return Attempt(status, error, round((time.perf_counter() - started) * 1000, 1))

    async def close(self) -> None:
        await self.client.aclose()
