"""The headers every HTML response carries, and a response whose fixed headers are encoded once.

Sanic sanitises and encodes every header of every response; for the landing page, which is the
same bytes until `flush-cache`, that was a tenth of the CPU of a `GET /`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import orjson
from sanic.response import HTTPResponse

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)


def csp(image_origins: tuple[str, ...] = ()) -> str:
    """The Content-Security-Policy of an HTML response; `image_origins` (the campaign's trust
    badges, e.g. https://trustseal.enamad.ir, each checked to be https://host[:port] by
    web/campaign.py) are added to img-src and nothing else."""
    return CSP.replace("img-src 'self' data:", " ".join(("img-src 'self' data:", *image_origins)))


def html_headers(image_origins: tuple[str, ...] = ()) -> dict[str, str]:
    """The security headers of an HTML response (see csp)."""
    return {
        "Content-Security-Policy": csp(image_origins),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
    }


HTML_HEADERS = html_headers()

# The landing page is one file whether leadcap or nginx serves it (LEADCAP_EDGE_DIR), and
# nginx.conf cannot take a header from a campaign file that changes at run time. So its headers
# are fixed, the same from both, with img-src open to https: images, and the page itself narrows
# img-src to its campaign's badge origins with a <meta http-equiv> policy (page_policy): a browser
# enforces every policy it is given, and a <meta> one can narrow but never widen, so what it
# allows is exactly csp(image_origins). nginx.conf's `location = /` carries these headers word
# for word (tests/deploy/test_nginx.py checks them through a real nginx).
PAGE_HEADERS = html_headers(("https:",))


def page_policy(image_origins: tuple[str, ...]) -> bytes:
    """The <meta> policy the landing page carries (see PAGE_HEADERS)."""
    sources = " ".join(("'self' data:", *image_origins))
    return f'<meta http-equiv="Content-Security-Policy" content="img-src {sources}">'.encode()


HTML = "text/html; charset=utf-8"

EncodedHeaders = tuple[tuple[bytes, bytes], ...]


def encode(headers: Mapping[str, str]) -> EncodedHeaders:
    """Headers as Sanic writes them; only for values we wrote ourselves (nothing to sanitise)."""
    return tuple((name.lower().encode("ascii"), value.encode("ascii")) for name, value in headers.items())


class PrebuiltResponse(HTTPResponse):
    """A response with a set of already-encoded headers, the security headers among them. The
    middleware adds only per-request headers to `headers` (the request id), never these."""

    def __init__(
        self, body: bytes, prebuilt: EncodedHeaders, *, content_type: str = HTML, status: int = 200
    ) -> None:
        super().__init__(body, status=status, content_type=content_type)
        self.prebuilt = prebuilt

    @property
    def processed_headers(self) -> Iterator[tuple[bytes, bytes]]:
        yield from self.prebuilt
        yield from super().processed_headers


# The security headers of a JSON answer (what the middleware gives any non-HTML response).
JSON_SECURITY = encode({"X-Content-Type-Options": "nosniff"})


def json_answer(body: dict[str, object], headers: Mapping[str, str], *, status: int) -> PrebuiltResponse:
    """A JSON answer whose `headers` are ours (the RateLimit figures): encoded as they are, where
    Sanic would sanitise each one, and the body by orjson. The 202 of every accepted lead."""
    return PrebuiltResponse(
        orjson.dumps(body), JSON_SECURITY + encode(headers), content_type="application/json", status=status
    )
