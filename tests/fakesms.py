"""Fake Kavenegar and SMS.ir servers on loopback: they record what they receive, in the shapes the
providers document, and answer as the test tells them (ok, a 5xx, a slow answer, a refusal).

Kavenegar:  POST /v1/{API-KEY}/verify/lookup.json, form receptor/token/template
            → {"return": {"status": 200, "message": "تایید شد"}, "entries": [...]}
SMS.ir:     POST /v1/send/verify, X-API-KEY header, JSON mobile/templateId/parameters
            → {"status": 1, "message": "موفق", "data": {"messageId": …, "cost": 1}}
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

API_KEY = "test-key-0123456789"


@dataclass
class Received:
    provider: str
    path: str
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        if self.provider == "kavenegar":
            return self.form["token"]
        return str(self.json["parameters"][0]["value"])

    @property
    def receptor(self) -> str:
        return self.form["receptor"] if self.provider == "kavenegar" else str(self.json["mobile"])


@dataclass
class FakeSms:
    url: str
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    mode: str = "ok"  # ok | 5xx | slow | no_credit | invalid_number
    slow_s: float = 5.0

    def codes_for(self, receptor: str) -> list[str]:
        return [r.code for r in self.received if r.receptor == receptor]

    def last_code(self, receptor: str) -> str:
        return self.codes_for(receptor)[-1]


def _handler(fake: FakeSms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real providers do: one connection, many sends

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            if len(body) < length:  # the client gave up mid-request (its timeout): nothing was sent
                self.close_connection = True
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path.endswith("/verify/lookup.json"):
                received = Received("kavenegar", self.path, headers, form=dict(parse_qsl(body.decode())))
                ok_key = self.path == f"/v1/{API_KEY}/verify/lookup.json"
            elif self.path == "/v1/send/verify":
                received = Received("smsir", self.path, headers, json=json.loads(body))
                ok_key = headers.get("x-api-key") == API_KEY
            else:
                self._answer(404, {})
                return
            fake.received.append(received)
            if fake.mode == "slow":
                time.sleep(fake.slow_s)
            if fake.mode == "5xx":
                self._answer(502, None)
            elif not ok_key:
                self._answer(*self._refusal(received.provider, "key"))
            elif fake.mode in ("no_credit", "invalid_number"):
                self._answer(*self._refusal(received.provider, fake.mode))
            elif received.provider == "kavenegar":
                entry = {"messageid": len(fake.received), "receptor": received.receptor, "status": 5}
                self._answer(200, {"return": {"status": 200, "message": "تایید شد"}, "entries": [entry]})
            else:
                self._answer(200, {"status": 1, "message": "موفق", "data": {"messageId": 1, "cost": 1}})

        @staticmethod
        def _refusal(provider: str, why: str) -> tuple[int, dict[str, Any]]:
            if provider == "kavenegar":
                status = {"key": 403, "no_credit": 418, "invalid_number": 411}[why]
                return status, {"return": {"status": status, "message": why}, "entries": None}
            http = {"key": 401, "no_credit": 400, "invalid_number": 400}[why]
            return http, {"status": {"key": 0, "no_credit": 113, "invalid_number": 111}[why], "message": why}

        def _answer(self, status: int, payload: dict[str, Any] | None) -> None:
            data = b"<html>Bad Gateway</html>" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json" if payload is not None else "text/html")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def running() -> Iterator[FakeSms]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    fake = FakeSms(url=f"http://127.0.0.1:{server.server_address[1]}", server=server)
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
