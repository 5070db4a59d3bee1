"""The code step's token for the page without JavaScript: kept in a cookie, never in a URL.

The first 202 of a lead carries a token that /verify and /resend require (leadcap/verification/verifier.py).
A page with JavaScript keeps it in memory and sends it in the body; a form posted without
JavaScript is answered with a 303 to `/?verify=<id>`, and the token rides in this cookie instead:
HttpOnly (no script reads it), SameSite=Strict (another site's form posts without it), sent only
to that lead's `/api/leads/<id>/` endpoints, and gone when the verification's hold in Redis is.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from leadcap import keys
from web import https

NAME = "leadcap_vt"


def _path(lead_id: str) -> str:
    return f"/api/leads/{lead_id}/"


def keep(request: Request, response: HTTPResponse, lead_id: str, token: str) -> HTTPResponse:
    """Give the browser the lead's token for its code step."""
    response.add_cookie(
        NAME,
        token,
        path=_path(lead_id),
        max_age=keys.VERIFY_HOLD_S,
        httponly=True,
        samesite="Strict",
        secure=https.is_https(request),
    )
    return response


def drop(request: Request, response: HTTPResponse, lead_id: str) -> HTTPResponse:
    """The code step is over: the browser may forget the token."""
    response.add_cookie(
        NAME,
        "",
        path=_path(lead_id),
        max_age=0,
        httponly=True,
        samesite="Strict",
        secure=https.is_https(request),
    )
    return response


def sent(request: Request) -> str | None:
    """The token the browser's cookie carries for this request's lead, if any."""
    return request.cookies.get(NAME)
