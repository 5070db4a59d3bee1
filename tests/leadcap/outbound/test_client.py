"""One HTTP client factory for every call that leaves the machine: the SMS client and the webhook
sender both get their session from leadcap.outbound.client, each with its own user agent, neither
following a redirect, and the webhook one behind the SSRF guard."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from leadcap import __version__
from leadcap.verification.sms.http import Client
from leadcap.webhooks.sender import Sender
from tests.servers import ROOT


@contextmanager
def redirecting() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A loopback server answering every POST with a redirect; (its URL, the (path, user agent)
    of each request it got)."""
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            seen.append((self.path, self.headers.get("user-agent", "")))
            self.send_response(307)
            self.send_header("location", "/elsewhere")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/in", seen
    finally:
        server.shutdown()
        server.server_close()


async def test_sms_and_webhooks_post_through_the_one_factory() -> None:
    with redirecting() as (url, seen):
        sms = Client(timeout_s=2, max_connections=2)
        webhooks = Sender(allow_private=True)
        guarded = Sender(allow_private=False)
        try:
            assert (await sms.post(url, form={"a": "1"})).status_code == 307
            assert (await webhooks.post(url, b"{}", {})).status == 307
            refused = await guarded.post(url, b"{}", {})
        finally:
            await sms.close()
            await webhooks.close()
            await guarded.close()
    assert seen == [("/in", f"leadcap-sms/{__version__}"), ("/in", f"leadcap-webhooks/{__version__}")]
    assert refused.status is None and (refused.error or "").startswith("refused:")


def test_no_module_but_the_factory_opens_an_http_client() -> None:
    """A second place that builds a session would be a second set of rules (CA bundle, proxies,
    timeouts, the guard) to keep in step."""
    opening = re.compile(r"\b(ClientSession|TCPConnector)\(|httpx\.(Async)?Client\(")
    places = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "leadcap").rglob("*.py"))
        if opening.search(path.read_text())
    ]
    assert places == ["leadcap/outbound/client.py"]
