"""Posting signed webhook bodies: one pooled client (leadcap.outbound.client, with the SSRF guard
in its resolver and socket factory), no redirects followed, 10 s for the whole exchange, the
receiver's answer counted and never read past 64 KiB."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp

from leadcap.outbound import client
from leadcap.outbound.guard import AddressRefused
from leadcap.webhooks.schedule import TIMEOUT_S

MAX_RESPONSE_BYTES = 64 * 1024  # a receiver's answer is read this far, then dropped


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST got: an HTTP status, or the reason there was none."""

    status: int | None
    error: str | None
    latency_ms: float
    retry_after_s: float | None = None  # the receiver asked us to wait this long (a bot API's 429)
    disable: str | None = None  # the receiver will never take these: why the endpoint stops

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
        # Names resolved and checked by the guard, only the checked addresses cached and connected
        # to, every socket (literal addresses too) checked once more; answers are not inflated.
        return client.session(
            "webhooks",
            timeout_s=TIMEOUT_S,
            max_connections=self.max_connections,
            guarded=True,
            allow_private=self.allow_private,
            decompress=False,
        )

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        if self._session is None:
            self._session = self._open()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                reply = await client.post(
                    self._session, url, data=body, headers=headers, max_bytes=MAX_RESPONSE_BYTES
                )
            status = reply.status
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
