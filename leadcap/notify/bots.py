"""Telegram's and Bale's Bot API (Bale's mirrors Telegram's at its own address): one sendMessage
per group of lead events, as a Transport of the webhook delivery loop.

What the API's answers mean here:
- `ok`: delivered.
- 429 (`parameters.retry_after`): nothing is sent to that chat before then; the events wait.
- 403 (the bot was blocked, kicked or is not in the chat), 400 `chat not found`, 401 (the token
  is wrong or revoked): the channel is disabled, with the API's own words as the reason
  (`notify list` shows it). A 403 that speaks of a limit (Bale's older `HIT_LIMIT`) is a rate
  limit, not a refusal: retried with backoff.
- Anything else (5xx, no answer, a 3xx, which is never followed): retried with backoff and jitter.

The base address is the operator's (LEADCAP_TELEGRAM_BASE_URL, LEADCAP_BALE_BASE_URL) and may be
private (a proxy), so the SSRF guard is not in front of it. The token travels only in the URL's
path; it never reaches a log, an error or a stored outcome.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import aiohttp
import orjson

from leadcap.notify import message
from leadcap.outbound import client
from leadcap.stores.postgres.webhooks import Claim, Endpoint
from leadcap.webhooks.schedule import TIMEOUT_S
from leadcap.webhooks.sender import Attempt

MAX_ANSWER_BYTES = 64 * 1024
MAX_REASON = 200  # characters of the API's description kept as an error or a disabled reason


def refusal(status: int, description: str) -> bool:
    """The chat or the token will never take a message: disable the channel."""
    text = description.lower()
    if status == 403:
        return "limit" not in text
    return status == 401 or (status == 400 and "chat not found" in text)


def events_of(claims: Sequence[Claim]) -> list[message.Event]:
    return [message.Event(c.type, orjson.loads(c.data)) for c in claims]


class Bot:
    """One Bot API (`kind`: telegram or bale) at `base_url`."""

    batch = message.MOST
    cap = 1  # one message in flight per chat: they arrive in order

    def __init__(self, kind: str, base_url: str, style: message.Style, *, interval_s: float) -> None:
        self.kind = kind
        self.base_url = base_url.rstrip("/")
        self.style = style
        self.interval_s = interval_s
        self._session: aiohttp.ClientSession | None = None

    async def send(self, endpoint: Endpoint, claims: Sequence[Claim]) -> Attempt:
        text = message.many(events_of(claims), self.style.showing(full_phone=endpoint.full_phone))
        return await self.post(endpoint, text)

    async def post(self, endpoint: Endpoint, text: str) -> Attempt:
        """sendMessage of `text` to the endpoint's chat; the answer read as the module says."""
        if self._session is None:
            self._session = client.session(f"notify-{self.kind}", timeout_s=TIMEOUT_S, max_connections=64)
        started = time.perf_counter()
        body = orjson.dumps({"chat_id": endpoint.chat, "text": text})
        url = f"{self.base_url}/bot{endpoint.secret}/sendMessage"
        try:
            async with asyncio.timeout(TIMEOUT_S):
                reply = await client.post(
                    self._session,
                    url,
                    data=body,
                    headers={"content-type": "application/json"},
                    max_bytes=MAX_ANSWER_BYTES,
                )
        except TimeoutError:
            return self._attempt(None, f"timeout: no answer within {TIMEOUT_S:g}s", started)
        except (aiohttp.ClientError, ValueError) as exc:  # never str(exc): it may hold the URL
            return self._attempt(None, type(exc).__name__, started)
        status = reply.status
        answer = _json(reply.body)
        if 200 <= status < 300 and answer.get("ok") is not False:
            return self._attempt(status, None, started)
        description = str(answer.get("description") or f"HTTP {status}")
        reason = message.clean(description.replace(endpoint.secret, "***"), MAX_REASON)
        parameters = answer.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        if status == 429 and retry_after is None:
            retry_after = _number(reply.headers.get("retry-after"))
        attempt = self._attempt(status if status >= 300 else 502, f"{self.kind}: {reason}", started)
        if isinstance(retry_after, int | float) and 0 <= retry_after <= 86400:
            return replace(attempt, retry_after_s=float(retry_after))
        if refusal(status, description):
            return replace(attempt, disable=f"{self.kind} answered {status}: {reason}")
        return attempt

    def _attempt(self, status: int | None, error: str | None, started: float) -> Attempt:
        return Attempt(status, error, round((time.perf_counter() - started) * 1000, 1))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
