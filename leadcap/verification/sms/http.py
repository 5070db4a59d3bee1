"""The one pooled HTTP client every SMS provider posts with (leadcap.outbound.client: connections
kept alive, no proxy taken from the environment), no redirects followed, LEADCAP_SMS_TIMEOUT for
the whole exchange. No SSRF guard: the provider's address is the operator's (LEADCAP_SMS_BASE_URL),
never a visitor's. The session is opened on the first send, on the loop that runs it, and closed
with the Verifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from leadcap.outbound import client

MAX_ANSWER_BYTES = 64 * 1024  # a provider's answer is a few hundred bytes; more is not read


class TransportError(Exception):
    """No HTTP answer: `reason` is safe to log (a class name or "timeout", never the URL, which
    holds Kavenegar's key)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return orjson.loads(self.body)  # orjson.JSONDecodeError is a ValueError


class Client:
    def __init__(self, *, timeout_s: float, max_connections: int) -> None:
        self.timeout_s = timeout_s
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        return client.session("sms", timeout_s=self.timeout_s, max_connections=self.max_connections)

    async def post(
        self,
        url: str,
        *,
        form: dict[str, str] | None = None,
        json: object = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """POST a form (application/x-www-form-urlencoded) or a JSON body; raise TransportError."""
        if self._session is None:
            self._session = self._open()
        sent_headers = dict(headers or {})
        data: Any = form
        if json is not None:  # compact JSON, as httpx sent it
            data = orjson.dumps(json)
            sent_headers["content-type"] = "application/json"
        try:
            reply = await client.post(
                self._session, url, data=data, headers=sent_headers, max_bytes=MAX_ANSWER_BYTES
            )
            return Answer(reply.status, reply.body)
        except TimeoutError:
            raise TransportError("timeout") from None
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a URL aiohttp cannot take
            raise TransportError(type(exc).__name__) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
