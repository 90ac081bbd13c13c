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
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
import yaml

from driftscope.store import gateway
from driftscope.store.clickhouse import Store, migrations


def _http(url: str, *, query: str | None = None, body: bytes | None = None,
          headers: dict[str, str] | None = None, key: str | None = None,
          **params: str) -> tuple[int, dict[str, str], bytes]:
    """One request; ``key``: the secret, sent as ClickHouse's X-ClickHouse-Key header."""
    if query is not None:
        params["query"] = query
    full = f"{url}/?{urllib.parse.urlencode(params)}" if params else f"{url}/"
    sent = {**({"X-ClickHouse-Key": key} if key else {}), **(headers or {})}
    req = urllib.request.Request(full, data=body, headers=sent,
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
                                           password=served.token)  # compressed: the default
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
    assert _http(url + "/ping")[2] == b"Ok.\n"  # health checks need no secret
    assert _http(url)[2] == b"Ok.\n"

    def ask(**kw: Any) -> tuple[int, dict[str, str], bytes]:
        return _http(url, key=served.token, **kw)

    store.command("CREATE TABLE kv (k String, v Int64) ENGINE = MergeTree ORDER BY k")
    # an INSERT with its data in the body, gzip-compressed, into the named database
    status, _, _ = ask(query="INSERT INTO kv FORMAT CSV",
                         body=gzip.compress(b'"a",1\n"b",2\n"c",3\n'),
                         headers={"Content-Encoding": "gzip"}, database=store.database)
    assert status == 200
    assert store.count("kv") == 3
    # INSERT … VALUES with its data in the query is refused (data there is not checked as
    # a statement: a review ran a second statement after it); data goes after FORMAT
    status, _, data = ask(body=b"INSERT INTO kv VALUES ('see FORMAT CSV\nhere', 9)",
                          database=store.database)
    assert status == 403 and b"data in the query" in data and store.count("kv", "v = 9") == 0
    # the query in the body, parameters, the default format
    status, headers, data = ask(body=b"SELECT k, v FROM kv WHERE v >= {m:Int64} "
                                            b"ORDER BY k", database=store.database,
                                  param_m="2", default_format="JSONEachRow")
    assert status == 200 and headers["X-ClickHouse-Format"] == "JSONEachRow"
    assert [json.loads(line) for line in data.splitlines()] == [
        {"k": "b", "v": 2}, {"k": "c", "v": 3}]
    # a FORMAT in the query wins; TabSeparated when none is asked for
    assert ask(query=f"SELECT count() FROM {store.database}.kv")[2] == b"3\n"
    summary = json.loads(ask(query="SELECT 1")[1]["X-ClickHouse-Summary"])
    assert int(summary["result_bytes"]) == 2
    # a GET only reads (as on ClickHouse), whatever it asks; and so does readonly=1
    status, headers, data = ask(query=f"INSERT INTO {store.database}.kv SELECT 'd', 4")
    assert status == 403 and headers["X-ClickHouse-Exception-Code"] == "164"
    status, _, _ = ask(query=f"INSERT INTO {store.database}.kv SELECT 'd', 4", readonly="0")
    assert status == 403
    status, _, _ = ask(query=f"INSERT INTO {store.database}.kv SELECT 'd', 4",
                         body=b"", readonly="1")
    assert status == 403 and store.count("kv") == 3
    # an error: ClickHouse's status, code and one text, not a traceback
    status, headers, data = ask(query="SELECT * FROM no_such_table",
                                  database=store.database)
    assert status == 404 and headers["X-ClickHouse-Exception-Code"] == "60"
    assert data.decode().startswith("Code: 60.") and "UNKNOWN_TABLE" in data.decode()
    status, _, data = ask(query="SELEC 1")
    assert status == 400 and b"SYNTAX_ERROR" in data
    # an empty result in Native is the columns' header, as a ClickHouse server sends it
    # (chDB alone sends nothing: a client, Grafana's included, then knows no columns)
    status, _, data = ask(body=b"SELECT 1 AS a, 'x' AS b WHERE {z:UInt8}",
                            param_z="0", default_format="Native")
    assert status == 200 and data == b"\x02\x00\x01a\x05UInt8\x01b\x06String"
    # a setting of one request does not stay for the next (each runs on its own handle)
    assert ask(query="SELECT getSetting('max_threads')", max_threads="3")[2] == b"3\n"
    assert ask(query="SELECT getSetting('max_threads')")[2] != b"3\n"


def test_with_a_password_set_grafana_gives_it_and_driftscope_the_token(
    store: Store, chdb_dsn: str
) -> None:
    guarded = Store(chdb_dsn, database=store.database, password="pässwört")  # non-ASCII too
    http = guarded.serve_http(0)
    try:
        status, headers, _ = _http(http.url, query="SELECT 1")
        assert status == 401 and headers["X-ClickHouse-Exception-Code"] == "516"
        basic = base64.b64encode("grafana:pässwört".encode()).decode()
        assert _http(http.url, query="SELECT 1",
                     headers={"Authorization": f"Basic {basic}"})[2] == b"1\n"
        assert _http(http.url, query="SELECT 1", key=http.token)[2] == b"1\n"
        assert _http(http.url, query="SELECT 1", key="wrong")[0] == 401
        assert _http(http.url, query="SELECT 1", key="wröng")[0] == 401
        assert _http(http.url + "/ping")[2] == b"Ok.\n"  # health checks need no password
    finally:
        http.stop()


def test_nothing_outside_the_store_is_reached_whatever_the_secret(
    store: Store, served: gateway.StoreGateway, tmp_path: Path
) -> None:
    """chDB, unlike a ClickHouse server, lets a query read and write any file the process
    can, fetch URLs and run programs: the port refuses every such statement, however it is
    written (the reviews' bypasses included: odd quoting that hid a call from a text
    check, a database engine, dictionaries, settings that read files, limits raised in the
    query)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me\n")
    target, ran = tmp_path / "written.txt", tmp_path / "ran.txt"
    refused = [
        f"SELECT * FROM file('{secret}', 'LineAsString')",
        f"SELECT * FROM `file`('{secret}', 'LineAsString')",
        f"SELECT * FROM FILE /* a comment */ ('{secret}', 'LineAsString')",
        f"SELECT file('{secret}')",
        f"SELECT $$'$$ AS a, * FROM file($${secret}$$, $$LineAsString$$) -- '",
        f"SELECT 1 AS `a\\`'`, * FROM file($${secret}$$, $$LineAsString$$) -- '",
        f"SELECT 1 INTO OUTFILE '{target}'",
        f"SELECT $$'$$ INTO OUTFILE $${target}$$ -- '",
        f"INSERT INTO FUNCTION file('{target}', 'LineAsString', 'l String') VALUES ('x')",
        "SELECT * FROM url('http://127.0.0.1:9/', 'CSV', 'a String')",
        f"SELECT $$'$$, * FROM executable($$touch {ran}$$, $$TSV$$, $$x String$$) -- '",
        "SELECT 1; SELECT 2",
        "SELECT $$'$$; CREATE TABLE ms (a Int32) ENGINE = Memory -- '",
        "SYSTEM SHUTDOWN",
        f"CREATE TABLE leak (l String) ENGINE = File(LineAsString, '{secret}')",
        f"CREATE DATABASE fsd ENGINE = Filesystem('{tmp_path}')",
        "CREATE DICTIONARY dp (x String, y String) PRIMARY KEY x SOURCE(EXECUTABLE_POOL("
        f"command 'touch {ran}; cat' format 'TabSeparated')) LAYOUT(COMPLEX_KEY_DIRECT())",
        f"SELECT 1 AS x FORMAT Template SETTINGS format_template_resultset = '{secret}'",
        "SELECT sleep(1) SETTINGS max_execution_time = 0",
        "SELECT 1 SETTINGS readonly = 0",
        # (a third review: data after VALUES is not parsed as a statement, and ran)
        "INSERT INTO loot SETTINGS input_format_values_interpret_expressions = 1 "
        f"VALUES (file('{secret}'))",
        f"INSERT INTO loot VALUES ('one'); INSERT INTO FUNCTION file('{target}', 'TSV', "
        "'s String') SELECT 'WROTE'",
        "INSERT INTO loot VALUES ('e'); SET max_execution_time = 0; SELECT 1",
        "SELECT * FROM eval('SELECT 1')",
        "SELECT * FROM deltaLakeS3('http://127.0.0.1:9/x/')",
        f"SELECT * FROM paimonLocal('{secret}')",
        # only TRUNCATE TABLE, as documented (a review)
        "TRUNCATE ALL TABLES FROM default",
        "TRUNCATE DATABASE default",
    ]
    store.command("CREATE TABLE loot (l String) ENGINE = Memory")
    for sql in refused:
        for method in ("GET", "POST"):
            status, _, data = _http(served.url, key=served.token, query=sql,
                                    body=b"" if method == "POST" else None,
                                    database=store.database)
            assert status in (400, 403), (sql, status, data)  # the parser or the guard
            assert b"do not read me" not in data
    # settings that read files, in the URL
    status, _, data = _http(served.url, key=served.token, query="SELECT 1 AS x",
                            default_format="Template", format_template_resultset=str(secret))
    assert status == 403 and b"do not read me" not in data
    status, _, _ = _http(served.url, key=served.token, query="SELECT * FROM eval('SELECT 1')",
                         allow_experimental_eval_table_function="1")
    assert status == 403
    # data after FORMAT Values (expressions in it would run), and an INSERT whose FROM
    # INFILE would read a file of the client's choosing
    status, _, _ = _http(served.url, key=served.token, query="INSERT INTO loot FORMAT Values",
                         body=f"(file('{secret}'))".encode(), database=store.database)
    assert status == 403
    status, _, _ = _http(served.url, key=served.token,
                         query=f"INSERT INTO loot FROM INFILE '{secret}' FORMAT LineAsString",
                         body=b"x\n", database=store.database)
    assert status in (400, 403)
    _http(served.url, key=served.token, body=f"INSERT INTO loot VALUES (file('{secret}'))"
          .encode(), database=store.database)
    assert not any("do not read me" in r[0] for r in store.query("SELECT l FROM loot"))
    assert not target.exists() and not ran.exists()
    # the same words as text are not calls
    status, _, data = _http(served.url, key=served.token,
                            query="SELECT 'file(x); INTO OUTFILE' -- url(\n")
    assert status == 200 and data == b"file(x); INTO OUTFILE\n"


def test_web_pages_and_strangers_are_refused(served: gateway.StoreGateway) -> None:
    ok = _http(served.url, key=served.token, query="SELECT 1")
    assert ok[0] == 200
    assert _http(served.url, query="SELECT 1")[0] == 401  # no secret: another local user
    # a page in the user's browser (its fetch sends Origin; a rebound name sends its Host)
    assert _http(served.url, key=served.token, query="SELECT 1",
                 headers={"Origin": "http://evil.example"})[0] == 403
    assert _http(served.url, key=served.token, query="SELECT 1",
                 headers={"Host": "evil.example:8123"})[0] == 403


def test_a_huge_body_is_refused_before_it_is_read(
    served: gateway.StoreGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway, "MAX_BODY_BYTES", 20_000)
    status, _, data = _http(served.url, key=served.token, query="INSERT INTO t FORMAT CSV",
                            body=b"1\n" * 20_000)
    assert status == 413 and b"larger than" in data
    bomb = gzip.compress(b"0" * 10_000_000)  # 10 kB that inflate to 10 MB
    status, _, data = _http(served.url, key=served.token, query="INSERT INTO t FORMAT CSV",
                            body=bomb, headers={"Content-Encoding": "gzip"})
    assert status == 413 and b"decompressed" in data
    # without the secret, nothing is read at all
    status, _, _ = _http(served.url, query="INSERT INTO t FORMAT CSV", body=b"1\n" * 20_000)
    assert status == 401
    # a chunk of size -1 (read to the end of the stream: the limit never reached) is refused
    query = b"SELECT length('" + b"x" * 50_000 + b"')"
    where = urllib.parse.urlsplit(served.url)
    with socket.create_connection((where.hostname, where.port)) as conn:
        conn.sendall(f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-ClickHouse-Key: {served.token}"
                     "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n-1\r\n"
                     .encode() + query)
        conn.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: conn.recv(65536), b""))
    assert answer.split(b"\r\n", 1)[0].endswith(b"400 Bad Request"), answer[:200]
    assert b"negative chunk size" in answer


def test_a_query_cannot_raise_the_ports_limits(served: gateway.StoreGateway) -> None:
    status, _, data = _http(served.url, key=served.token,
                            query="SELECT getSetting('max_execution_time')",
                            max_execution_time="100000")
    assert status == 200 and float(data) == gateway.MAX_SECONDS
    status, _, data = _http(served.url, key=served.token,
                            query="SELECT getSetting('max_execution_time')",
                            max_execution_time="5")
    assert status == 200 and float(data) == 5  # lower is fine


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
        assert gateway.endpoint(path, pid=os.getpid()) == (http.url, http.token)
        assert (path / gateway.ENDPOINT_FILE).stat().st_mode & 0o777 == 0o600  # its user only
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
    def write(**found: object) -> None:
        (tmp_path / gateway.ENDPOINT_FILE).write_text(json.dumps(found))

    write(pid=12345, url="http://127.0.0.1:9", token="t")
    assert gateway.endpoint(tmp_path, pid=12345) == ("http://127.0.0.1:9", "t")
    assert gateway.endpoint(tmp_path, pid=54321) is None  # left by a serve that was killed
    assert gateway.endpoint(tmp_path, pid=None) is None
    write(pid=12345, url="http://evil.example:8123", token="t")  # the token would go there
    assert gateway.endpoint(tmp_path, pid=12345) is None
    (tmp_path / gateway.ENDPOINT_FILE).write_text("not json")
    assert gateway.endpoint(tmp_path, pid=12345) is None


HOLDER = """
import sys, time
from pathlib import Path
from driftscope.store.clickhouse import Store
store = Store(sys.argv[1], database="d")
store.migrate()
http = store.serve_http(0)
print("serving", flush=True)
while not Path(sys.argv[2]).exists():
    time.sleep(0.1)
http.stop()
"""

CLIENT = """
import sys, time
from pathlib import Path
from driftscope.errors import StoreUnavailable
from driftscope.store.clickhouse import Store
store = Store(sys.argv[1], database="d")
print("through the port:", store.count("alerts"), flush=True)
Path(sys.argv[2]).touch()  # the holder stops now
while True:
    try:
        store.count("alerts")
    except StoreUnavailable as exc:
        print("unavailable:", exc, flush=True)
        break
    time.sleep(0.2)
time.sleep(5)  # the holder's process has exited: the store is free
try:
    store.count("alerts")
    print("opened it itself")
except StoreUnavailable as exc:
    print("still unavailable:", exc)
"""


def test_a_command_served_by_serve_never_takes_the_store_when_serve_stops(
    tmp_path: Path,
) -> None:
    """A long-running command (`alerts run --follow`, `monitor`) reached the store through
    serve's port; serve restarts: the command must not open the freed store itself (serve
    could not start again while it runs)."""
    dsn, stop = f"chdb://{tmp_path / 'db'}", tmp_path / "stop"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, dsn, str(stop)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "serving"
        client = subprocess.run([sys.executable, "-c", CLIENT, dsn, str(stop)],
                                capture_output=True, text=True, timeout=120)
        holder.wait(60)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    out = client.stdout
    assert "through the port: 0" in out, out + client.stderr
    assert "still unavailable:" in out and "does not open it itself" in out, out
    assert "opened it itself" not in out


def test_a_connection_kept_open_is_not_served_after_the_stop(store: Store) -> None:
    import http.client

    served = store.serve_http(0)
    conn = http.client.HTTPConnection(served.url.removeprefix("http://"), timeout=30)
    try:
        conn.request("POST", "/", body=b"SELECT 1", headers={"X-ClickHouse-Key": served.token})
        first = conn.getresponse()
        assert first.status == 200 and first.read() == b"1\n"
        served.stop()  # serve is stopping: the same keep-alive connection asks again
        conn.request("POST", "/", body=b"SELECT 2", headers={"X-ClickHouse-Key": served.token})
        again = conn.getresponse()
        assert again.status == 503
        again.read()
    finally:
        conn.close()


def test_the_port_binds_to_loopback_only(store: Store) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        gateway.StoreGateway(store.dsn.removeprefix("chdb://"), object(), host="0.0.0.0")


@pytest.mark.parametrize("wide", [0, 300, 3000])
def test_a_window_read_through_the_port_is_the_one_read_directly(
    store: Store, served: gateway.StoreGateway, wide: int
) -> None:
    # the monitor reads windows as numpy columns (query_np): over the port as directly,
    # for a wide model too (300 features: parameters too long for a URL come as a
    # multipart form; 3,000: a query over 128 KiB leaves them in a long URL, and needs
    # more than the server's default query size)
    import numpy as np

    from driftscope.monitor.frame import read_events
    from driftscope.monitor.seed import event_rows
    from driftscope.store import schema as S

    t0 = datetime(2026, 4, 1, tzinfo=UTC)
    extra = {f"feature_number_{j:05d}": np.arange(50.0) + j for j in range(wide)}
    store.insert(S.EVENTS, event_rows("m", t0, timedelta(minutes=1), 50, {
        "x": np.linspace(0, 1, 50), "plan": ["a", None] * 25, "label": ["1", "0"] * 25,
        "segment:country": ["fr"] * 50, **extra}, "gw"), S.EVENTS.columns)
    client = clickhouse_connect.get_client(dsn=served.url, database=store.database,
                                           password=served.token)

    class Port:  # the two calls the read makes, through the port
        def query(self, sql: str, parameters: dict | None = None) -> list:
            return list(client.query(sql, parameters=parameters).result_rows)

        def query_np(self, sql: str, parameters: dict | None = None,
                     settings: dict | None = None):
            return client.query_np(sql, parameters=parameters, settings=settings)

    names = ["x", "plan", "absent", *extra]
    direct = read_events(store, "m", t0, t0 + timedelta(minutes=1), names, labels=True)
    port = read_events(Port(), "m", t0, t0 + timedelta(minutes=1), names,  # type: ignore[arg-type]
                       labels=True)
    assert port.n == direct.n == 50
    assert (port.timestamps == direct.timestamps).all()
    np.testing.assert_array_equal(port.columns["x"], direct.columns["x"])
    assert port.columns["plan"].tolist() == direct.columns["plan"].tolist() == ["a", None] * 25
    assert np.isnan(port.columns["absent"]).all()
    assert port.labels.tolist() == direct.labels.tolist() == ["1", "0"] * 25
    assert port.segments["country"].tolist() == ["fr"] * 50
    for name, values in extra.items():
        np.testing.assert_array_equal(direct.columns[name], values)
        np.testing.assert_array_equal(port.columns[name], values)


def test_a_request_cannot_raise_the_parsers_limits_without_bound(
    served: gateway.StoreGateway,
) -> None:
    # (found by review) a read of 3,000 features asks the parser for more than its
    # defaults; a request asking for any amount made a 600 KB `SELECT 1, 1, …` take
    # gigabytes under the store's lock: the port grants up to its own limits
    many = "SELECT " + ", ".join(["1"] * 300_000)
    status, _headers, body = _http(served.url, body=many.encode(), key=served.token,
                                   max_query_size=str(1 << 30), max_ast_elements=str(10**9))
    assert status != 200 and b"AST is too big. Maximum: 100000" in body, body[:300]
    ok, _h, out = _http(served.url, body=b"SELECT 1, 2", key=served.token,
                        max_query_size=str(1 << 30))
    assert ok == 200 and out.strip() == b"1\t2"
