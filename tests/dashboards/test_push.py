"""``push`` against a local HTTP server that records requests like Grafana's HTTP API."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner

from driftscope.cli import app
from driftscope.dashboards.build import DASHBOARDS
from driftscope.dashboards.push import PushError, push

TOKEN = "glsa_test_token_123"


class FakeGrafana(ThreadingHTTPServer):
    """Folders and dashboards kept by uid; every request recorded."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, Any]] = []
        self.folders: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeGrafana

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        self.server.requests.append((method, self.path, body))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._reply(401, {"message": "invalid API key"})
        s = self.server
        if (method, self.path) == ("GET", "/api/folders"):
            return self._reply(200, list(s.folders.values()))
        if (method, self.path) == ("POST", "/api/folders"):
            s.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"], "id": 1}
            return self._reply(200, s.folders[body["uid"]])
        if (method, self.path) == ("POST", "/api/dashboards/db"):
            uid = body["dashboard"]["uid"]
            if uid in s.dashboards and not body.get("overwrite"):
                return self._reply(412, {"message": "dashboard exists", "status": "name-exists"})
            version = s.dashboards.get(uid, {}).get("version", 0) + 1
            s.dashboards[uid] = {"version": version, "folderUid": body["folderUid"],
                                 "dashboard": body["dashboard"]}
            return self._reply(200, {"uid": uid, "status": "success", "version": version})
        return self._reply(404, {"message": "not found"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    server = FakeGrafana()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_push_twice_updates_in_place(grafana: FakeGrafana) -> None:
    first = push(grafana.url, TOKEN)
    second = push(grafana.url, TOKEN)
    assert first == second and len(first) == len(DASHBOARDS)
    assert list(grafana.folders) == ["driftscope"]
    assert sorted(grafana.dashboards) == sorted(d.uid for d in DASHBOARDS.values())
    assert {d["version"] for d in grafana.dashboards.values()} == {2}
    posts = [r for r in grafana.requests if r[:2] == ("POST", "/api/dashboards/db")]
    assert len(posts) == 2 * len(DASHBOARDS)
    for _, _, body in posts:
        assert body["overwrite"] is True and body["folderUid"] == "driftscope"
        assert "id" not in body["dashboard"] and body["dashboard"]["panels"]
    folder_posts = [r for r in grafana.requests if r[:2] == ("POST", "/api/folders")]
    assert len(folder_posts) == 1


def test_wrong_token_is_one_line(grafana: FakeGrafana) -> None:
    with pytest.raises(PushError) as info:
        push(grafana.url, "wrong")
    msg = str(info.value)
    assert "\n" not in msg and "401" in msg and "DRIFTSCOPE_GRAFANA_TOKEN" in msg
    assert "wrong" not in msg


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening for the whole test: connecting is refused, and no
    other process can take the port in the meantime."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def test_cli_wrong_url_is_one_line(monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    monkeypatch.setenv("DRIFTSCOPE_GRAFANA_TOKEN", TOKEN)
    url = f"http://127.0.0.1:{closed_port}"
    result = CliRunner().invoke(app, ["dashboards", "push", "--url", url, "--timeout", "2"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot reach Grafana" in lines[0] and TOKEN not in lines[0]


def test_credentials_in_the_url_never_reach_the_message(closed_port: int) -> None:
    url = f"http://admin:s3cr3tpw@127.0.0.1:{closed_port}/"
    with pytest.raises(PushError) as info:
        push(url, TOKEN, timeout=2)
    msg = str(info.value)
    assert "cannot reach Grafana at http://127.0.0.1:" in msg
    assert "s3cr3tpw" not in msg and "admin" not in msg and TOKEN not in msg


def test_cli_push_and_missing_token(grafana: FakeGrafana, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRIFTSCOPE_GRAFANA_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["dashboards", "push", "--url", grafana.url])
    assert result.exit_code == 2 and "DRIFTSCOPE_GRAFANA_TOKEN" in result.output
    monkeypatch.setenv("DRIFTSCOPE_GRAFANA_TOKEN", TOKEN)
    result = CliRunner().invoke(app, ["dashboards", "push", "--url", grafana.url])
    assert result.exit_code == 0, result.output
    assert f"pushed {len(DASHBOARDS)} dashboards" in result.output


def _datasources(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        here = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return here + [d for v in node.values() for d in _datasources(v)]
    if isinstance(node, list):
        return [d for v in node for d in _datasources(v)]
    return []


def test_push_can_point_the_dashboards_at_another_data_source(grafana: FakeGrafana) -> None:
    push(grafana.url, TOKEN, datasource_uid="team-clickhouse")
    for stored in grafana.dashboards.values():
        refs = _datasources(stored["dashboard"])
        assert refs and {r["uid"] for r in refs} == {"team-clickhouse"}


def test_cli_push_datasource_uid(grafana: FakeGrafana, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTSCOPE_GRAFANA_TOKEN", TOKEN)
    result = CliRunner().invoke(app, ["dashboards", "push", "--url", grafana.url,
                                      "--datasource-uid", "ch-prod"])
    assert result.exit_code == 0, result.output
    assert "data source ch-prod" in result.output
    uids = {r["uid"] for d in grafana.dashboards.values() for r in _datasources(d["dashboard"])}
    assert uids == {"ch-prod"}
    default = CliRunner().invoke(app, ["dashboards", "push", "--url", grafana.url])
    assert default.exit_code == 0 and "data source driftscope-clickhouse" in default.output
