"""Slack, webhooks and other HTTP receivers as local servers on 127.0.0.1 that record
what they receive (the external services that cannot run here)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Recorder(ThreadingHTTPServer):
    """Records every POST and answers 200, except: the first ``fail_first`` POSTs get
    HTTP 500; ``mode = "down"`` answers 503; ``mode = "garbage"`` answers a line that is
    not HTTP (as a port taken by another service does); ``mode = "hangup"`` closes the
    connection without an answer; while ``answers`` holds
    ``(status, headers, body)`` entries, each POST gets the first one (taken off).
    A GET (what a client following a redirect sends) is recorded and answered 200.
    ``delay``: seconds each POST waits before its answer.

    ``posts``: (path, headers, JSON body) of each POST; ``bodies``: their raw bytes;
    ``accepted``: the JSON bodies answered 200; ``requests``: (method, path) of each.
    """

    def __init__(self, fail_first: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fail_first = fail_first
        self.mode = "ok"
        self.delay = 0.0
        self.posts: list[tuple[str, dict[str, str], Any]] = []
        self.bodies: list[bytes] = []
        self.accepted: list[Any] = []
        self.answers: list[tuple[int, dict[str, str], str]] = []
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (its timeout) before the answer is no error here."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/services/T000/B000/s3cr3tTOKEN"


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append(("GET", self.path))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.server.delay)
        body = json.loads(raw)
        headers: dict[str, str] = {}
        with self.server.lock:
            self.server.requests.append(("POST", self.path))
            self.server.posts.append((self.path, dict(self.headers), body))
            self.server.bodies.append(raw)
            if self.server.mode == "garbage":
                self.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n")
                return
            if self.server.mode == "hangup":  # the connection drops before any answer
                self.close_connection = True
                return
            status = (503 if self.server.mode == "down"
                      else 500 if len(self.server.posts) <= self.server.fail_first else 200)
            text = "ok" if status == 200 else "unavailable"
            if self.server.answers and self.server.mode == "ok":
                status, headers, text = self.server.answers.pop(0)
            if status == 200:
                self.server.accepted.append(body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *args: Any) -> None:
        pass


def serving(server: Recorder | None = None) -> Iterator[Recorder]:
    """A running recorder for a fixture (``yield from serving()``), shut down after."""
    server = server or Recorder()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()
