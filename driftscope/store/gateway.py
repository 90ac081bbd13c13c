"""The embedded store over ClickHouse's HTTP interface, served by the process that holds it.

chDB opens a store in one process at a time. While ``driftscope serve`` holds the embedded
store, it answers ClickHouse's HTTP protocol on a loopback port (8123 by default, as a
ClickHouse server does) with its own engine, so that

- the other ``driftscope`` commands (``alerts list``, ``ack``, ``report``, ``health``…)
  reach the store through it instead of stopping with "another process holds it"
  (:class:`~driftscope.store.clickhouse.Store` finds it by the file
  :data:`ENDPOINT_FILE` in the store's directory), and
- Grafana's ClickHouse data source (protocol ``http``, host 127.0.0.1, port 8123) and any
  ClickHouse HTTP client read the store.

What it understands is the HTTP interface as ClickHouse documents it: the query in the
``query`` parameter or the body (both: the body follows the query, as for
``INSERT … FORMAT CSV`` with data), ``database``, ``default_format``, ``param_<name>``
query parameters, any other parameter as a setting of that query (``readonly=1``…),
``/ping``; the answer in the query's ``FORMAT`` (``TabSeparated`` by default), errors as
ClickHouse's text with status 4xx/5xx and ``X-ClickHouse-Exception-Code``. A request body
may be gzip-, deflate- or lz4-compressed (``Content-Encoding``); answers are not
compressed (loopback). Sessions (``session_id``) are accepted and not kept: each request
runs on its own engine handle, so a ``SET`` or ``USE`` lasts one request.

Each query takes the store's lock (:func:`~driftscope.store.clickhouse._lock_for`): it runs
between the collector's and the monitor's calls, never beside them.

With ``DRIFTSCOPE_CLICKHOUSE_PASSWORD`` set, a request must carry it (HTTP basic auth, the
``X-ClickHouse-Key`` header or the ``password`` parameter); without it the port is open to
this machine's users, as a ClickHouse server's ``default`` user is.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hmac
import json
import logging
import os
import re
import tempfile
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import chdb

log = logging.getLogger("driftscope.store.gateway")

ENDPOINT_FILE = "driftscope-endpoint.json"  # in the store's directory, while served
DEFAULT_PORT = 8123

# Parameters of the HTTP transport itself, never settings of the query.
_TRANSPORT = frozenset({
    "query", "database", "default_format", "user", "password", "query_id", "session_id",
    "session_timeout", "session_check", "compress", "decompress", "buffer_size",
    "wait_end_of_query", "enable_http_compression", "send_progress_in_http_headers",
    "http_headers_progress_interval_ms", "client_protocol_version", "quota_key", "role",
    "http_zlib_compression_level", "cancel_http_readonly_queries_on_client_close",
})
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
# an INSERT whose data follows its FORMAT (any bytes, after one line break)
_INSERT_WITH_DATA = re.compile(rb"^\s*(INSERT\s+INTO\s.*?)\s+FORMAT\s+(\w+)[ \t]*(?:\r?\n)?",
                               re.IGNORECASE | re.DOTALL)
_SETTINGS_CLAUSE = re.compile(r"\sSETTINGS\s", re.IGNORECASE)
_SELECT = re.compile(r"^[\s(]*(SELECT|WITH)\b", re.IGNORECASE)
_CODE = re.compile(r"Code:\s*(\d+)")
_STATUS = {  # ClickHouse's HTTP status for a few exception codes (500 otherwise)
    62: 400, 27: 400, 36: 400, 42: 400, 43: 400, 47: 400, 115: 400, 456: 400,
    60: 404, 81: 404, 164: 403, 516: 401,
}
_CONTENT_TYPE = {
    "TabSeparated": "text/tab-separated-values; charset=UTF-8",
    "TSV": "text/tab-separated-values; charset=UTF-8",
    "CSV": "text/csv; charset=UTF-8",
    "JSON": "application/json; charset=UTF-8",
    "JSONEachRow": "application/x-ndjson; charset=UTF-8",
}


class _Failure(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _decoded(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "lz4":
        import lz4.frame  # a dependency of clickhouse-connect's compression

        return bytes(lz4.frame.decompress(body))
    raise _Failure(400, 36, f"Code: 36. DB::Exception: Content-Encoding {encoding!r} is not "
                            "supported here (gzip, deflate, lz4). (BAD_ARGUMENTS)")


def _failure(exc: Exception) -> _Failure:
    text = str(exc).strip()
    at = text.find("Code: ")
    text = text[at:] if at > 0 else text
    m = _CODE.search(text)
    code = int(m.group(1)) if m else 1000
    return _Failure(_STATUS.get(code, 500), code, text)


class _Engine:
    """Runs one HTTP request's query on a fresh chDB handle, under the store's lock."""

    def __init__(self, path: str, lock: Any) -> None:
        from clickhouse_connect.driver._chdbclient import build_connection_string

        # the very string clickhouse-connect opened the engine with (chDB compares paths
        # literally and refuses a second one in the process)
        self._connection = build_connection_string(path, None)
        self._lock = lock
        self.timezone = self.run("SELECT timezone()", {}, {}, None, "TabSeparated")[0] \
            .decode().strip()

    def run(self, sql: str, params: dict[str, str], settings: dict[str, str],
            database: str | None, fmt: str) -> tuple[bytes, dict[str, Any]]:
        with self._lock:
            handle = chdb.connect(self._connection)
            try:
                if database:
                    handle.query(f"USE `{database.replace('`', '')}`", "TabSeparated")
                # (readonly last: readonly=1 refuses any SET after it)
                for key, value in sorted(settings.items(), key=lambda kv: kv[0] == "readonly"):
                    handle.query(f"SET {key} = {_quote(value)}", "TabSeparated")
                result = handle.query(sql, fmt, params=params) if params else \
                    handle.query(sql, fmt)
            except Exception as exc:
                raise _failure(exc) from None
            finally:
                handle.close()
        data = result.bytes() if hasattr(result, "bytes") else bytes(result)
        if not data and fmt == "Native" and _SELECT.match(sql):
            data = self._native_header(sql, params, settings, database)
        summary = {
            "read_rows": str(_stat(result, "rows_read")),
            "read_bytes": str(_stat(result, "bytes_read")),
            "written_rows": "0", "written_bytes": "0",
            "total_rows_to_read": str(_stat(result, "rows_read")),
            "result_rows": "0", "result_bytes": str(len(data)),
            "elapsed_ns": str(int(float(_stat(result, "elapsed")) * 1e9)),
        }
        return data, summary

    def _native_header(self, sql: str, params: dict[str, str], settings: dict[str, str],
                       database: str | None) -> bytes:
        """An empty result in Native as a ClickHouse server sends it: a block of the
        columns and no rows (chDB sends nothing, and a client then knows no columns)."""
        body = _FORMAT.sub("", sql).rstrip().rstrip(";")
        try:
            described, _ = self.run(f"DESCRIBE TABLE ({body})", params, settings, database,
                                    "TabSeparatedRaw")
        except _Failure:
            return b""
        columns = [line.split("\t")[:2] for line in described.decode().splitlines() if line]
        out = bytearray(_varint(len(columns)) + _varint(0))
        for name, kind in columns:
            for text in (name.encode(), kind.encode()):
                out += _varint(len(text)) + text
        return bytes(out)

    def insert(self, statement: str, fmt: str, data: bytes, params: dict[str, str],
               settings: dict[str, str], database: str | None) -> dict[str, Any]:
        """``INSERT INTO t (…) FORMAT fmt`` with the request body as its data (any format,
        binary included): the engine reads it from a file."""
        with tempfile.NamedTemporaryFile(prefix="driftscope-insert-", suffix=".bin") as tmp:
            tmp.write(data)
            tmp.flush()
            head, found, tail = _split_settings(statement)
            sql = f"{head} FROM INFILE {_quote(tmp.name)}{found}{tail} FORMAT {fmt}"
            _, summary = self.run(sql, params, settings, database, "TabSeparated")
        return summary


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _split_settings(statement: str) -> tuple[str, str, str]:
    """``INSERT INTO t (…) SETTINGS …`` as (insert, " SETTINGS ", the settings): FROM INFILE
    goes before the SETTINGS clause."""
    m = _SETTINGS_CLAUSE.search(statement)
    if m is None:
        return statement, "", ""
    return statement[:m.start()], " SETTINGS ", statement[m.end():]


def _stat(result: Any, name: str) -> Any:
    try:
        return getattr(result, name)()
    except Exception:  # an older chDB without the statistic
        return 0


def _handler(engine: _Engine, password: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "driftscope-store"
        # headers and body leave in two writes: without TCP_NODELAY a keep-alive client's
        # delayed ACK holds each answer ~40 ms (clickhouse-connect: 8× slower refreshes)
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("store http: " + format, *args)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            self._answer(200, b"", "text/plain; charset=UTF-8", {})

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        break
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(parts)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _authorised(self, params: dict[str, str]) -> bool:
            if password is None:
                return True
            given = self.headers.get("X-ClickHouse-Key") or params.get("password")
            auth = self.headers.get("Authorization", "")
            if given is None and auth.lower().startswith("basic "):
                with contextlib.suppress(ValueError):
                    given = base64.b64decode(auth[6:]).decode().partition(":")[2]
            return given is not None and hmac.compare_digest(given, password)

        def _serve(self) -> None:
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            try:
                body = _decoded(self._body(), self.headers.get("Content-Encoding", ""))
            except _Failure as exc:
                self._fail(exc)
                return
            except Exception as exc:
                self._fail(_Failure(400, 36, f"Code: 36. DB::Exception: cannot read the "
                                             f"request body: {exc}. (BAD_ARGUMENTS)"))
                return
            query = params.get("query")
            if url.path.rstrip("/") in ("/ping", "") and query is None and not body:
                self._answer(200, b"Ok.\n", "text/plain; charset=UTF-8", {})
                return
            if url.path not in ("/", ""):
                self._fail(_Failure(404, 0, f"There is no handle {url.path}"))
                return
            if not self._authorised(params):
                self._fail(_Failure(401, 516, "Code: 516. DB::Exception: default: "
                                              "Authentication failed: password is incorrect. "
                                              "(AUTHENTICATION_FAILED)"))
                return
            try:
                self._query(params, query, body)
            except _Failure as exc:
                self._fail(exc)
            except Exception as exc:  # one line to the client and the log, no traceback
                log.warning("store http: %s: %s", type(exc).__name__, exc)
                self._fail(_Failure(500, 1001, f"Code: 1001. DB::Exception: "
                                               f"{type(exc).__name__}: {exc}. "
                                               "(STD_EXCEPTION)"))

        def _query(self, params: dict[str, str], query: str | None, body: bytes) -> None:
            database = params.get("database") or self.headers.get("X-ClickHouse-Database")
            bound = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
            settings = {k: v for k, v in params.items()
                        if k not in _TRANSPORT and not k.startswith("param_")}
            for key in settings:
                if not _SETTING.match(key):
                    raise _Failure(400, 115, f"Code: 115. DB::Exception: Unknown setting "
                                             f"{key}. (UNKNOWN_SETTING)")
            if self.command == "GET":  # as ClickHouse: a GET only reads
                settings["readonly"] = settings.get("readonly", "2")
            query_id = params.get("query_id") or str(uuid.uuid4())
            # the query parameter, then the body (ClickHouse reads them as one text)
            raw = b"\n".join(p for p in ((query or "").encode(), body) if p)
            inserting = _INSERT_WITH_DATA.match(raw)
            started = time.perf_counter()
            if inserting is not None and raw[inserting.end():]:
                statement, fmt = inserting.group(1).decode(), inserting.group(2).decode()
                summary = engine.insert(statement, fmt, raw[inserting.end():], bound, settings,
                                        database)
                data, fmt = b"", "TabSeparated"
            else:
                sql = raw.decode("utf-8", "replace")
                if not sql.strip():
                    raise _Failure(400, 62, "Code: 62. DB::Exception: Empty query. "
                                            "(SYNTAX_ERROR)")
                m = _FORMAT.search(sql)
                fmt = m.group(1) if m else (params.get("default_format") or "TabSeparated")
                data, summary = engine.run(sql, bound, settings, database, fmt)
            log.debug("store http: %s in %.3f s", query_id, time.perf_counter() - started)
            self._answer(200, data, _CONTENT_TYPE.get(fmt, "application/octet-stream"), {
                "X-ClickHouse-Format": fmt,
                "X-ClickHouse-Query-Id": query_id,
                "X-ClickHouse-Timezone": engine.timezone,
                "X-ClickHouse-Server-Display-Name": "driftscope",
                "X-ClickHouse-Summary": json.dumps(summary),
            })

        def _fail(self, exc: _Failure) -> None:
            headers = {"X-ClickHouse-Exception-Code": str(exc.code)} if exc.code else {}
            self._answer(exc.status, (str(exc) + "\n").encode(), "text/plain; charset=UTF-8",
                         headers)

        def _answer(self, status: int, data: bytes, content_type: str,
                    headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

    return Handler


class StoreGateway:
    """Serve the embedded store at ``path`` on ``host:port`` (``port=0``: any free port).

    ``lock`` is the store's own lock (every query takes it). :meth:`start` binds, writes
    :data:`ENDPOINT_FILE` in the store's directory (this process and the URL) and answers
    in a thread; :meth:`stop` removes the file and closes the port.
    """

    def __init__(self, path: str | Path, lock: Any, *, host: str = "127.0.0.1",
                 port: int = DEFAULT_PORT, password: str | None = None) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the store's HTTP port binds to loopback only, not {host}")
        self.path = Path(path)
        self._engine = _Engine(str(self.path), lock)
        self._server = ThreadingHTTPServer((host, port), _handler(self._engine, password))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StoreGateway:
        self._thread = threading.Thread(target=self._server.serve_forever, name="store-http",
                                        daemon=True)
        self._thread.start()
        target = self.path / ENDPOINT_FILE
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "url": self.url}), encoding="utf-8")
        tmp.replace(target)
        return self

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            if endpoint(self.path, pid=os.getpid()) == self.url:
                (self.path / ENDPOINT_FILE).unlink()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


def endpoint(path: str | Path, *, pid: int | None) -> str | None:
    """The URL the process ``pid`` serves the store at ``path`` on, if its
    :data:`ENDPOINT_FILE` says so (a file left by another process is not believed)."""
    try:
        found = json.loads((Path(path) / ENDPOINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or pid is None or found.get("pid") != pid:
        return None
    url = found.get("url")
    return url if isinstance(url, str) and url.startswith("http://") else None
