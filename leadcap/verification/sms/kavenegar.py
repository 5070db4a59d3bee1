"""Kavenegar's verify/lookup API: a code sent through a template approved in its panel.

Request (https://kavenegar.com/rest.html, "verify lookup"; the same shape as the official
kavenegar-python SDK's `verify_lookup`):

    POST {base}/v1/{API-KEY}/verify/lookup.json
    Content-Type: application/x-www-form-urlencoded
    receptor=09123456789&token=12345&template=<template name>

Answer: JSON `{"return": {"status": 200, "message": "…"}, "entries": [{"messageid": …}]}`; on
failure the HTTP status and `return.status` carry the error code: 411 invalid receptor, 418
not enough credit, 409/5xx the server cannot answer now, and 400/401/403/412/424/… a request
or account problem (missing parameter, disabled account, bad key, unknown template).
"""

from __future__ import annotations

from leadcap.errors import SmsError
from leadcap.verification.sms import receptor
from leadcap.verification.sms.http import Answer, Client, TransportError

BASE_URL = "https://api.kavenegar.com"
_INVALID_NUMBER = {411}
_NO_CREDIT = {418}
_DOWN = {409}


class Kavenegar:
    name = "kavenegar"

    def __init__(self, client: Client, *, api_key: str, template: str, base_url: str | None) -> None:
        self.client = client
        self.template = template
        self._url = f"{(base_url or BASE_URL).rstrip('/')}/v1/{api_key}/verify/lookup.json"

    async def send(self, phone: str, code: str) -> None:
        form = {"receptor": receptor(phone), "token": code, "template": self.template}
        try:
            response = await self.client.post(self._url, form=form)
        except TransportError as exc:
            raise SmsError("provider_down", exc.reason) from None
        status = _status(response)
        if response.status_code == 200 and status == 200:
            return
        if status in _INVALID_NUMBER:
            raise SmsError("invalid_number", f"kavenegar {status}")
        if status in _NO_CREDIT:
            raise SmsError("no_credit", f"kavenegar {status}")
        if status in _DOWN or status is None or response.status_code >= 500:
            raise SmsError("provider_down", f"kavenegar http {response.status_code} status {status}")
        raise SmsError("rejected", f"kavenegar {status}")


def _status(response: Answer) -> int | None:
    """`return.status` of an answer, or None when it is not Kavenegar's JSON."""
    try:
        status = response.json()["return"]["status"]
    except (ValueError, KeyError, TypeError):
        return None
    return status if isinstance(status, int) else None
