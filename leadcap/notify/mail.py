"""Email notifications over SMTP (aiosmtplib), as a Transport of the webhook delivery loop: one
plain-text email per group of lead events, to the channel's address.

The SMTP URL is the operator's: `smtp://[user@]host[:port]` (STARTTLS when the server offers it,
certificates checked) or `smtps://…` (TLS from the start), with `?from=ADDRESS` for the sender
(default `leadcap@<host>`). The host may be private (an internal relay). The password is kept
apart from the URL, as a webhook secret is, and never printed.

A recipient the server refuses for good (a 5xx to RCPT TO) or a refused login (535) disables the
channel with the server's words; anything else is retried with backoff and jitter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from leadcap.notify import message
from leadcap.notify.bots import events_of
from leadcap.stores.postgres.webhooks import Claim, Endpoint
from leadcap.webhooks.schedule import TIMEOUT_S
from leadcap.webhooks.sender import Attempt

PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True, slots=True)
class Server:
    host: str
    port: int
    tls: bool  # TLS from the start (smtps), else STARTTLS when offered
    user: str | None
    sender: str
    to: str = ""


def server_of(url: str) -> Server:
    """The parts of an `smtp[s]://` URL; ValueError (never echoing a password) if it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in PORTS or not parts.hostname:
        raise ValueError("the SMTP URL must be smtp:// or smtps:// with a host")
    port = parts.port or PORTS[parts.scheme]
    sender = parse_qs(parts.query).get("from", [f"leadcap@{parts.hostname}"])[0]
    if "@" not in sender or any(c in sender for c in "\r\n<>,"):
        raise ValueError("from= must be one email address")
    user = unquote(parts.username) if parts.username else None
    return Server(parts.hostname, port, parts.scheme == "smtps", user, sender)


def email(events: Sequence[message.Event], style: message.Style, *, sender: str, to: str) -> EmailMessage:
    """The email of a group of lead events."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = message.subject(events, style)
    mail.set_content(message.many(events, style))
    return mail


class Mail:
    batch = message.MOST
    cap = 1

    def __init__(self, style: message.Style, *, interval_s: float) -> None:
        self.style = style
        self.interval_s = interval_s

    async def send(self, endpoint: Endpoint, claims: Sequence[Claim]) -> Attempt:
        style = self.style.showing(full_phone=endpoint.full_phone)
        events = events_of(claims)
        return await self.deliver(endpoint, lambda srv: email(events, style, sender=srv.sender, to=srv.to))

    async def deliver(self, endpoint: Endpoint, build: Callable[[Server], EmailMessage]) -> Attempt:
        """Send the email `build` makes for the endpoint's server; report, never raise."""
        started = time.perf_counter()
        try:
            server = server_of(endpoint.url)
            mail = build(replace(server, to=str(endpoint.chat)))
            await aiosmtplib.send(
                mail,
                hostname=server.host,
                port=server.port,
                username=server.user,
                password=(endpoint.secret or None) if server.user else None,
                use_tls=server.tls,
                timeout=TIMEOUT_S,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            reason = "; ".join(f"{r.code} {message.clean(r.message, 120)}" for r in exc.recipients)
            return self._failed(started, f"email: {reason}", disable=f"email refused: {reason}")
        except aiosmtplib.SMTPAuthenticationError as exc:
            reason = f"{exc.code} {message.clean(exc.message, 120)}"
            return self._failed(started, f"email: {reason}", disable=f"email login refused: {reason}")
        except aiosmtplib.SMTPResponseException as exc:
            return self._failed(started, f"email: {exc.code} {message.clean(exc.message, 120)}")
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            return self._failed(started, f"email: {type(exc).__name__}")
        return Attempt(200, None, _ms(started))  # the server took it (250): delivered, as a 2xx is

    def _failed(self, started: float, error: str, disable: str | None = None) -> Attempt:
        return Attempt(None, error, _ms(started), None, disable)

    async def close(self) -> None:
        return None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
