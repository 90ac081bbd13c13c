"""The embedded store served over ClickHouse's HTTP interface (`driftscope serve` does it).

chDB opens a store in one process at a time: before, every other `driftscope` command
stopped with "another process holds it" while `serve` ran, and no Grafana could read the
embedded store. Here this test process holds the store (the `store` fixture) and serves it;
clients are real: clickhouse-connect's HTTP client (what the CLI and Python users use),
plain HTTP requests as curl or Grafana's data source send them, and `driftscope` commands
in other processes.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import clickhouse_connect
import pytest
import yaml

from driftscope.store import gateway
from driftscope.store.clickhouse import Store, migrations


@pytest.fixture
def served(store: Store) -> Iterator[gateway.StoreGateway]:
    http = store.serve_http(0)
    try:
        yield http
    finally:
        http.stop()


def _http(url: str, *, query: str | None = None, body: bytes | None = None,
          headers: dict[str, str] | None = None,
          **params: str) -> tuple[int, dict[str, str], bytes]:
    if query is not None:
        params["query"] = query
    full = f"{url}/?{urllib.parse.urlencode(params)}" if params else f"{url}/"
    req = urllib.request.Request(full, data=body, headers=headers or {},
                                 method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_clickhouse_connect_reads_and_writes_what_the_store_holds(
    store: Store, served: gateway.StoreGateway
) -> None:
    client = clickhouse_connect.get_client(dsn=served.url, database=store.database,
                                           compress=False)
    client.command("CREATE TABLE gw (id UInt32, name String, at DateTime64(3, 'UTC'), "
                   "tags Map(String, Float64), raw String) ENGINE = MergeTree ORDER BY id")
    rows = [
        (1, "café ✓", datetime(2026, 1, 1, 12, 0, 0, 123000, tzinfo=UTC), {"a": 1.5}, "x\ny"),
        # binary data whose bytes read as line breaks and quotes in the Native block
        (2, "it's", datetime(2026, 1, 2, tzinfo=UTC), {}, "\n\r\t'\"\\" + "\x00" * 3),
    ]
    client.insert("gw", rows, column_names=["id", "name", "at", "tags", "raw"])
    # what the holder sees directly is what went in over HTTP
    direct = store.query("SELECT id, name, toUnixTimestamp64Milli(at), tags, raw FROM gw "
                         "ORDER BY id")
    assert direct == [(1, "café ✓", 1767268800123, {"a": 1.5}, "x\ny"),
                      (2, "it's", 1767312000000, {}, "\n\r\t'\"\\\x00\x00\x00")]
    # and a query with server-side parameters answers as the direct one does
    sql = "SELECT id, name FROM gw WHERE name = {n:String} OR id > {k:UInt32} ORDER BY id"
    assert client.query(sql, parameters={"n": "it's", "k": 5}).result_rows == [(2, "it's")]
    frame = client.query_df("SELECT id, name FROM gw ORDER BY id")
    assert frame["name"].tolist() == ["café ✓", "it's"]
    empty = client.query("SELECT id, name FROM gw WHERE id > 100")
    assert empty.column_names == ("id", "name") and empty.result_rows == []


def test_plain_http_requests_as_curl_and_grafana_send_them(
    store: Store, served: gateway.StoreGateway
) -> None:
    url = served.url
    assert _http(url + "/ping")[2] == b"Ok.\n"
    assert _http(url)[2] == b"Ok.\n"
    store.command("CREATE TABLE kv (k String, v Int64) ENGINE = MergeTree ORDER BY k")
    # an INSERT with its data in the body, gzip-compressed, into the named database
    status, _, _ = _http(url, query="INSERT INTO kv FORMAT CSV",
                         body=gzip.compress(b'"a",1\n"b",2\n"c",3\n'),
                         headers={"Content-Encoding": "gzip"}, database=store.database)
    assert status == 200
    assert store.count("kv") == 3
    # the query in the body, parameters, the default format
    status, headers, data = _http(url, body=b"SELECT k, v FROM kv WHERE v >= {m:Int64} "
                                            b"ORDER BY k", database=store.database,
                                  param_m="2", default_format="JSONEachRow")
    assert status == 200 and headers["X-ClickHouse-Format"] == "JSONEachRow"
    assert [json.loads(line) for line in data.splitlines()] == [
        {"k": "b", "v": 2}, {"k": "c", "v": 3}]
    # a FORMAT in the query wins; TabSeparated when none is asked for
    assert _http(url, query=f"SELECT count() FROM {store.database}.kv")[2] == b"3\n"
    summary = json.loads(_http(url, query="SELECT 1")[1]["X-ClickHouse-Summary"])
    assert int(summary["result_bytes"]) == 2
    # a GET only reads (as on ClickHouse), and so does readonly=1
    status, headers, data = _http(url, query=f"INSERT INTO {store.database}.kv VALUES ('d', 4)")
    assert status == 403 and headers["X-ClickHouse-Exception-Code"] == "164"
    status, _, _ = _http(url, query=f"INSERT INTO {store.database}.kv VALUES ('d', 4)",
                         body=b"", readonly="1")
    assert status == 403 and store.count("kv") == 3
    # an error: ClickHouse's status, code and one text, not a traceback
    status, headers, data = _http(url, query="SELECT * FROM no_such_table",
                                  database=store.database)
    assert status == 404 and headers["X-ClickHouse-Exception-Code"] == "60"
    assert data.decode().startswith("Code: 60.") and "UNKNOWN_TABLE" in data.decode()
    status, _, data = _http(url, query="SELEC 1")
    assert status == 400 and b"SYNTAX_ERROR" in data
    # an empty result in Native is the columns' header, as a ClickHouse server sends it
    # (chDB alone sends nothing: a client, Grafana's included, then knows no columns)
    status, _, data = _http(url, body=b"SELECT 1 AS a, 'x' AS b WHERE {z:UInt8}",
                            param_z="0", default_format="Native")
    assert status == 200 and data == b"\x02\x00\x01a\x05UInt8\x01b\x06String"
    # a setting of one request does not stay for the next (each runs on its own handle)
    assert _http(url, query="SELECT getSetting('max_threads')", max_threads="3")[2] == b"3\n"
    assert _http(url, query="SELECT getSetting('max_threads')")[2] != b"3\n"


def test_with_a_password_set_a_request_must_carry_it(store: Store, chdb_dsn: str) -> None:
    guarded = Store(chdb_dsn, database=store.database, password="s3cret")
    http = guarded.serve_http(0)
    try:
        status, headers, _ = _http(http.url, query="SELECT 1")
        assert status == 401 and headers["X-ClickHouse-Exception-Code"] == "516"
        basic = base64.b64encode(b"default:s3cret").decode()
        assert _http(http.url, query="SELECT 1",
                     headers={"Authorization": f"Basic {basic}"})[2] == b"1\n"
        assert _http(http.url, query="SELECT 1", headers={"X-ClickHouse-Key": "s3cret"})[2] \
            == b"1\n"
        assert _http(http.url, query="SELECT 1", headers={"X-ClickHouse-Key": "wrong"})[0] \
            == 401
        assert _http(http.url + "/ping")[2] == b"Ok.\n"  # health checks need no password
    finally:
        http.stop()


def _cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftscope.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=env)


def test_other_commands_reach_a_held_store_through_its_port(
    store: Store, chdb_dsn: str, tmp_path: Path
) -> None:
    from driftscope.alerts.rules import FIRING, Alert
    from driftscope.alerts.state import AlertStore

    t0 = datetime(2026, 4, 1, tzinfo=UTC)
    AlertStore(store).save(Alert("a1b2c3d4e5f6a7b8c9d0", "m", "mon", t0, t0, FIRING, 3.0, 2,
                                 True), "m / mon: x drifted for 2 windows", {}, t0)
    config = tmp_path / "driftscope.yaml"
    config.write_text(yaml.safe_dump({"store": {"dsn": chdb_dsn, "database": store.database},
                                      "models": [{"id": "m"}]}))
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("DRIFTSCOPE_CLICKHOUSE_PASSWORD", None)
    path = Path(chdb_dsn.removeprefix("chdb://"))
    # held and not served: the one-line error, as before
    held = _cli(["alerts", "list", "-c", str(config)], tmp_path, env)
    assert held.returncode == 2 and "holds it" in held.stderr, held.stderr
    http = store.serve_http(0)
    try:
        assert gateway.endpoint(path, pid=os.getpid()) == http.url
        listed = _cli(["alerts", "list", "-c", str(config)], tmp_path, env)
        assert listed.returncode == 0, listed.stderr
        assert "a1b2c3d4e5f6a7b8c9d0" in listed.stdout and "firing" in listed.stdout
        acked = _cli(["alerts", "ack", "a1b2c3d4", "-c", str(config)], tmp_path, env)
        assert acked.returncode == 0, acked.stderr
        # the write went into the store this process holds
        row = AlertStore(store).get("a1b2c3d4e5f6a7b8c9d0")
        assert row is not None and row[0].state == "acknowledged"
        # a database of its own, made and migrated through the port
        fresh = f"t_{uuid.uuid4().hex[:12]}"
        migrated = _cli(["migrate", "-c", str(config)], tmp_path,
                        {**env, "DRIFTSCOPE_STORE__DATABASE": fresh})
        assert migrated.returncode == 0 and "applied" in migrated.stdout, migrated.stderr
        other = Store(chdb_dsn, database=fresh)
        assert other.count("schema_migrations") == len(migrations())
        other.drop_database()
    finally:
        http.stop()
    assert not (path / gateway.ENDPOINT_FILE).exists()  # stopped: nobody is pointed at it


def test_an_endpoint_file_of_another_process_is_not_believed(tmp_path: Path) -> None:
    (tmp_path / gateway.ENDPOINT_FILE).write_text(
        json.dumps({"pid": 12345, "url": "http://127.0.0.1:9"}))
    assert gateway.endpoint(tmp_path, pid=12345) == "http://127.0.0.1:9"
    assert gateway.endpoint(tmp_path, pid=54321) is None  # left by a serve that was killed
    assert gateway.endpoint(tmp_path, pid=None) is None
    (tmp_path / gateway.ENDPOINT_FILE).write_text("not json")
    assert gateway.endpoint(tmp_path, pid=12345) is None


def test_the_port_binds_to_loopback_only(store: Store) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        gateway.StoreGateway(store.dsn.removeprefix("chdb://"), object(), host="0.0.0.0")
