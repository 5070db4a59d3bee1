"""SMS.ir's send/verify API: a code sent through a template id made in its panel.

Request (SMS.ir developer docs, https://app.sms.ir/developer/help/verify, "ارسال وریفای"):

    POST {base}/v1/send/verify
    X-API-KEY: <key>
    Accept: application/json
    Content-Type: application/json
    {"mobile": "09123456789", "templateId": 123456, "parameters": [{"name": "CODE", "value": "12345"}]}

LEADCAP_SMS_TEMPLATE is the template id, optionally followed by `:NAME` for the template's
parameter (default `CODE`), e.g. `123456:Code`.

Answer: JSON `{"status": 1, "message": "…", "data": {"messageId": …, "cost": …}}`; `status` 1 is
success. HTTP 401 is a bad or disabled key; 5xx or no JSON, the service is away. Other `status`
values are the documented failure codes, of which 111 (invalid mobile) and 113/114 (not enough
credit) are told apart here; the rest are classed as rejected.
"""

from __future__ import annotations

from leadcap.errors import SmsError
from leadcap.verification.sms import receptor
from leadcap.verification.sms.http import Answer, Client, TransportError

BASE_URL = "https://api.sms.ir"
_INVALID_NUMBER = {111}
_NO_CREDIT = {113, 114}


class SmsIr:
    name = "smsir"

    def __init__(self, client: Client, *, api_key: str, template: str, base_url: str | None) -> None:
        self.client = client
        template_id, _, parameter = template.partition(":")
        self.template_id: int | str = int(template_id) if template_id.strip().isdigit() else template_id
        self.parameter = parameter.strip() or "CODE"
        self._url = f"{(base_url or BASE_URL).rstrip('/')}/v1/send/verify"
        self._headers = {"X-API-KEY": api_key, "Accept": "application/json"}

    async def send(self, phone: str, code: str) -> None:
        body = {
            "mobile": receptor(phone),
            "templateId": self.template_id,
            "parameters": [{"name": self.parameter, "value": code}],
        }
        try:
            response = await self.client.post(self._url, json=body, headers=self._headers)
        except TransportError as exc:
            raise SmsError("provider_down", exc.reason) from None
        status = _status(response)
        if response.status_code == 200 and status == 1:
            return
        if response.status_code >= 500 or (status is None and response.status_code != 401):
            raise SmsError("provider_down", f"smsir http {response.status_code}")
        if status in _INVALID_NUMBER:
            raise SmsError("invalid_number", f"smsir {status}")
        if status in _NO_CREDIT:
            raise SmsError("no_credit", f"smsir {status}")
        raise SmsError("rejected", f"smsir http {response.status_code} status {status}")


def _status(response: Answer) -> int | None:
    try:
        status = response.json()["status"]
    except (ValueError, KeyError, TypeError):
        return None
    return status if isinstance(status, int) else None
