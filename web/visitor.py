"""Who a request counts as: its client address, and the visitor its cookie names (if valid).

The rules are leadcap.intake.visitor's; here they meet the request: the cookie is read and
checked in process (an HMAC, no Redis), and the windows a request counts in are made for the
intake's limit, the code step's and the SMS budgets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sanic import Request
from sanic.response import HTTPResponse

from leadcap.intake import clientip, visitor
from leadcap.settings import RateLimit, Settings
from web.state import state

# A client's SMS budgets are named after their window, as the metrics label a spent one.
_SMS_NAMES = {visitor.ADDRESS: "ip", visitor.VISITOR: "visitor", visitor.SHARED: "shared_ip"}


@dataclass(frozen=True, slots=True)
class Who:
    address: str  # the client's address bucket (its /64 for IPv6)
    visitor_id: str | None  # the id of a valid visitor cookie, else None

    def windows(self, settings: Settings) -> tuple[visitor.Window, ...]:
        """The windows a POST counts in (LEADCAP_RATE_LIMIT, LEADCAP_SHARED_IP_LIMIT)."""
        return visitor.counted_in(
            self.address,
            self.visitor_id,
            rate_limit=settings.rate_limit,
            shared_limit=settings.shared_ip_limit,
        )

    def sms_budgets(self, settings: Settings) -> list[tuple[str, str, RateLimit]]:
        """The client's SMS budgets by the same rule (LEADCAP_SMS_PER_IP, LEADCAP_SMS_SHARED_IP)."""
        counted = visitor.counted_in(
            self.address,
            self.visitor_id,
            rate_limit=settings.sms_per_ip,
            shared_limit=settings.sms_shared_ip,
        )
        return [(_SMS_NAMES[w.kind], w.bucket, w.limit) for w in counted]


def who(request: Request, settings: Settings) -> Who:
    """Who the request counts as; its client address is noted on the request for its log."""
    address = clientip.client_address(
        request.ip, request.headers.get("x-forwarded-for"), settings.trusted_proxies
    )
    state(request).client = address
    return Who(clientip.bucket(address), visitor_id(request))


def visitor_id(request: Request) -> str | None:
    """The id of a valid visitor cookie this request carries, else None."""
    value = request.cookies.get(visitor.COOKIE)
    if not value:
        return None
    return visitor.read(request.app.ctx.visitor_key, value, int(time.time()))


def this_visitor(request: Request) -> str:
    """The visitor id of this request: its valid cookie's, or that of the cookie give_cookie
    will set on this answer (minted here, once per request), so a first GET already counts as
    the visitor it will be from now on (its campaign variant, leadcap/landing/variants.py)."""
    found = visitor_id(request)
    if found is not None:
        return found
    now = int(time.time())
    value = getattr(request.ctx, "visitor_cookie", None) or visitor.mint(request.app.ctx.visitor_key, now)
    request.ctx.visitor_cookie = value
    minted = visitor.read(request.app.ctx.visitor_key, value, now)
    assert minted is not None  # just signed with this key
    return minted


def give_cookie(request: Request, response: HTTPResponse) -> HTTPResponse:
    """A browser without a valid visitor cookie gets a new one with this answer (the one
    this_visitor minted, when it did)."""
    if visitor_id(request) is None:
        value = getattr(request.ctx, "visitor_cookie", None) or visitor.mint(
            request.app.ctx.visitor_key, int(time.time())
        )
        response.headers.add("Set-Cookie", visitor.set_cookie(value))
    return response
