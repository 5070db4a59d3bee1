"""SMS providers: one module each, one shape (`Provider.send`), one shared HTTP client
(leadcap.verification.sms.http: pooled aiohttp, kept alive).

    send(phone, code) ─► returns when the provider took the message
                      └► raises SmsError(kind) with kind one of
                           invalid_number   the provider refuses this receptor
                           no_credit        the account is out of credit
                           provider_down    timeout, refused connection, 5xx, garbage answer
                           rejected         anything else it refused (key, template, …)

A provider never logs or raises with the code or the API key in the text: Kavenegar carries
the key in its URL path, so transport errors are reported by their class name only.
"""

from __future__ import annotations

from typing import Protocol

from leadcap.errors import ConfigError
from leadcap.settings import Settings
from leadcap.verification.sms.http import Client


class Provider(Protocol):
    name: str

    async def send(self, phone: str, code: str) -> None:
        """Hand one code for `phone` (E.164) to the provider; raise SmsError."""
        ...


def receptor(e164: str) -> str:
    """The number as Iranian providers document it: 09… at home, 00<country>… abroad."""
    if e164.startswith("+98"):
        return "0" + e164[3:]
    return "00" + e164[1:]


def make(settings: Settings, client: Client) -> Provider:
    """The provider LEADCAP_SMS_PROVIDER names, configured from the settings."""
    from leadcap.verification.sms import kavenegar, logprovider, smsir  # one module per provider

    if settings.sms_provider == "log":
        if settings.production:  # settings refuse it too; this is the second lock on the door
            raise ConfigError("LEADCAP_SMS_PROVIDER", "log is refused when LEADCAP_ENV=production")
        return logprovider.LogProvider()
    key, template = settings.sms_api_key or "", settings.sms_template or ""
    if settings.sms_provider == "kavenegar":
        return kavenegar.Kavenegar(client, api_key=key, template=template, base_url=settings.sms_base_url)
    return smsir.SmsIr(client, api_key=key, template=template, base_url=settings.sms_base_url)
