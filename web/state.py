"""The one typed object a request carries through handlers, middleware and the error handler.

Sanic's `request.ctx` is an untyped namespace; everything leadcap keeps per request lives in one
`RequestState` on it, read through `state(request)`, so a misspelt field fails type checking
instead of reading back as a silent `None`.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field

from sanic import Request

from leadcap import logs
from leadcap.intake.accept import Receipt
from leadcap.intake.clientip import IPAddress
from leadcap.intake.ratelimit import Quota

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


@dataclass(slots=True)
class RequestState:
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    form: bool = False  # a form post: errors re-render the page instead of JSON
    client: IPAddress | None = None  # the client address, once a handler has worked it out
    quota: Quota | None = None  # the rate-limit state of a POST, for its RateLimit headers
    receipt: Receipt | None = None  # what the intake answered an accepted POST
    verify_id: str | None = None  # the lead of a code-step request: its errors stay on the code step
    campaign: str = "default"  # the slug a POST named: a form's error re-renders that campaign's page


def _request_id(request: Request) -> str:
    """The caller's X-Request-ID if it is well-formed, otherwise a new one."""
    incoming = request.headers.get("x-request-id", "")
    if incoming and _REQUEST_ID.fullmatch(incoming):
        return incoming
    # A correlation id, not a secret (callers may choose their own): Python's generator, without
    # os.urandom's system call per request.
    return f"{random.getrandbits(128):032x}"


def state(request: Request) -> RequestState:
    """The request's state, made on first use: by the first request middleware normally, or by
    the error handler or a response middleware when Sanic refused the request before that."""
    current: RequestState | None = getattr(request.ctx, "state", None)
    if current is None:
        current = RequestState(_request_id(request))
        request.ctx.state = current
        logs.request_id.set(current.request_id)
    return current
