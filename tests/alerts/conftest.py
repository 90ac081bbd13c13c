"""Slack and webhooks as local HTTP servers on 127.0.0.1 that record what they receive."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Receiver(ThreadingHTTPServer):
    """Records every POST body; answers 200, or per ``mode``: ``"down"`` (HTTP 503) or
    ``"garbage"`` (a line that is not HTTP, as a port taken by another service does)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.bodies: list[bytes] = []
        self.accepted: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/services/T000/B000/s3cr3tTOKEN"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.bodies.append(body)
        if self.server.mode == "garbage":
            self.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n")
            return
        ok = self.server.mode == "ok"
        if ok:
            self.server.accepted.append(json.loads(body))
        self.send_response(200 if ok else 503)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"unavailable")

    def log_message(self, *args: Any) -> None:
        pass


def _serve() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def slack() -> Iterator[Receiver]:
    yield from _serve()


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    yield from _serve()
