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

Who may ask: the port binds to loopback, and every request must carry a secret (HTTP basic
auth with any user name, the ``X-ClickHouse-Key`` header or the ``password`` parameter):
the token this process writes, with the URL, to :data:`ENDPOINT_FILE` (readable by its
user only; the other ``driftscope`` commands read it), or ``DRIFTSCOPE_CLICKHOUSE_PASSWORD``
when it is set (what Grafana's data source is given). A request from a web page (an
``Origin`` header, or a ``Host`` that is not this machine) is refused. Whatever the
secret, only what driftscope and Grafana need runs: each statement, as ClickHouse's parser
writes it back, is checked by :mod:`driftscope.store.sql_guard` (no file, URL, other
server or program is reached: chDB, unlike a ClickHouse server, would let a query touch
any file the process can). A ``GET`` only reads, whatever it asks. Each query runs
for at most :data:`MAX_SECONDS` and answers at most :data:`MAX_RESULT_BYTES`; a request
body is at most :data:`MAX_BODY_BYTES` (decompressed too); an idle connection is closed
after :data:`IDLE_SECONDS`, and at most :data:`MAX_CONNECTIONS` are served at once.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
import uuid
import zlib
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import chdb

from driftscope.store import sql_guard

log = logging.getLogger("driftscope.store.gateway")

ENDPOINT_FILE = "driftscope-endpoint.json"  # in the store's directory, while served
DEFAULT_PORT = 8123
MAX_URI_BYTES = 1 << 20  # ClickHouse's http_max_uri_size
_PARSER_LIMITS = {  # what a request may raise the parser's limits to (a window read of
    # 3,000 features asks for 0.7 MiB and 70,000 nodes): a 600 KB `SELECT 1, 1, …` of
    # 300,000 nodes took 2.3 GB and 6 s under the store's lock, which no
    # max_execution_time stops
    "max_query_size": 4 << 20, "max_ast_elements": 100_000,
    "max_expanded_ast_elements": 1_000_000, "max_ast_depth": 1000, "max_parser_depth": 1000,
}
MAX_SECONDS = 120  # a query's limit (max_execution_time): it holds the store's lock
MAX_RESULT_BYTES = 512 * 2**20  # an answer is built in memory
MAX_BODY_BYTES = 512 * 2**20  # a request body, compressed or not
IDLE_SECONDS = 60  # a connection that sends nothing for this long is closed
MAX_CONNECTIONS = 32
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

# Parameters of the HTTP transport itself, never settings of the query.
_TRANSPORT = frozenset({
    "query", "database", "default_format", "user", "password", "query_id", "session_id",
    "session_timeout", "session_check", "compress", "decompress", "buffer_size",
    "wait_end_of_query", "enable_http_compression", "send_progress_in_http_headers",
    "http_headers_progress_interval_ms", "client_protocol_version", "quota_key", "role",
    "http_zlib_compression_level", "cancel_http_readonly_queries_on_client_close",
})
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SETTINGS_CLAUSE = re.compile(r"\sSETTINGS\s", re.IGNORECASE)
_SELECT = re.compile(r"^[\s(]*(SELECT|WITH)\b", re.IGNORECASE)
# limits a client may lower, never raise (and the overflow mode that makes them errors)
_CAPS = {"max_execution_time": MAX_SECONDS, "max_result_bytes": MAX_RESULT_BYTES}
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


def _too_big(what: str) -> _Failure:
    return _Failure(413, 36, f"Code: 36. DB::Exception: the request body is larger than "
                             f"{MAX_BODY_BYTES:,} bytes{what}. (BAD_ARGUMENTS)")


def _decoded(body: bytes, encoding: str) -> bytes:
    """The body decompressed, in pieces, never past :data:`MAX_BODY_BYTES`."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "deflate"):
        d = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
        out = d.decompress(body, MAX_BODY_BYTES + 1)
        if len(out) > MAX_BODY_BYTES or d.unconsumed_tail:
            raise _too_big(" decompressed")
        return out
    if encoding == "lz4":
        import lz4.frame  # a dependency of clickhouse-connect's compression

        lz = lz4.frame.LZ4FrameDecompressor()
        out = lz.decompress(body, max_length=MAX_BODY_BYTES + 1)
        if len(out) > MAX_BODY_BYTES or not lz.eof:
            raise _too_big(" decompressed")
        return bytes(out)
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
        self.stopped = False  # set by the gateway's stop: a request still open gets a 503
        self.timezone = self.run("SELECT timezone()", {}, {}, None, "TabSeparated",
                                 capped=False)[0].decode().strip()
        names, _ = self.run("SELECT lower(name) FROM system.table_functions", {}, {}, None,
                            "TabSeparatedRaw", capped=False)
        self.table_functions = frozenset(names.decode().split())

    def normalize(self, sql: str, settings: dict[str, str] | None = None) -> str:
        """``sql`` as ClickHouse's parser writes it back (:data:`sql_guard.NORMALIZE`): one
        statement, no comment, every string and quoted name in one form; its syntax error
        otherwise. The request's parser limits (``max_query_size``, ``max_ast_elements``…)
        hold for this parse too: a query of 3,000 columns asks for more than the default."""
        parse = _parse_limits(settings or {})
        text, _ = self.run(sql_guard.NORMALIZE, {"q": sql_guard.normalize_argument(sql)}, parse,
                           None, "TabSeparatedRaw", capped=False)
        return text.decode("utf-8", "replace").strip()

    def run(self, sql: str, params: dict[str, str], settings: dict[str, str],
            database: str | None, fmt: str, *, capped: bool = True,
            ) -> tuple[bytes, dict[str, Any]]:
        """Run ``sql`` on a fresh handle with ``settings`` and, unless ``capped`` is False
        (the port's own parsing, which runs nothing a request wrote), the port's limits."""
        with self._lock:
            if self.stopped:
                raise _Failure(503, 0, "the store's port is stopping")
            handle = chdb.connect(self._connection)
            try:
                if database:
                    handle.query(f"USE `{database.replace('`', '')}`", "TabSeparated")
                chosen = _capped(settings) if capped else settings
                if chosen:  # one SET for all (a query each cost ~0.2 ms); readonly last
                    handle.query("SET " + ", ".join(
                        f"{k} = {_quote(v)}" for k, v in sorted(
                            chosen.items(), key=lambda kv: kv[0] == "readonly")),
                        "TabSeparated")
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
        body = sql_guard.without_format(sql)
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


def _refusal(why: str) -> _Failure:
    return _Failure(403, 497, f"Code: 497. DB::Exception: {why} is not served by driftscope's "
                              "store port (it runs what driftscope and Grafana need, nothing "
                              "that reaches outside the store). (ACCESS_DENIED)")


def _form_fields(body: bytes, content_type: str) -> dict[str, str]:
    """The fields of a ``multipart/form-data`` body (``query``, ``param_…``, settings): how
    clickhouse-connect sends a query whose bound parameters are too long for a URL (a
    window read of more than about 125 features)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise ValueError("a form field without a name")
        payload = part.get_payload(decode=True)
        fields[name] = payload.decode("utf-8") if isinstance(payload, bytes) else str(payload)
    return fields


def _parse_limits(settings: dict[str, str]) -> dict[str, str]:
    """The parser limits a request asked for, each at most :data:`_PARSER_LIMITS`'."""
    out = {}
    for key, cap in _PARSER_LIMITS.items():
        if key in settings:
            try:
                asked = float(settings[key])
            except ValueError:
                asked = cap
            out[key] = str(int(cap if asked <= 0 or asked > cap else asked))
    return out


ENGINE_SETTINGS = {"use_query_condition_cache": "0"}
"""Settings every query on the embedded engine runs with (the process's own connection,
:class:`driftscope.store.clickhouse.Store`, and the port's): ClickHouse's query condition
cache kept an entry per filter and part read, about 29 a window for a live monitor, even
of parts merged away, up to 100 MiB — the one part of the engine's memory that grew with
every window of a long ``serve`` (measured over 3,000 windows: the engine's tracked memory
82 → 95 MB with it, flat without). Its hit rate there was 8 %."""


def _capped(settings: dict[str, str]) -> dict[str, str]:
    """The request's settings with the port's limits (a client may lower them only) and
    the engine's own (:data:`ENGINE_SETTINGS`)."""
    out = {**settings, **_parse_limits(settings), **ENGINE_SETTINGS}
    for key, cap in _CAPS.items():
        try:
            asked = float(out.get(key, cap))
        except ValueError:
            asked = cap
        out[key] = str(int(cap if asked <= 0 or asked > cap else asked))
    out["result_overflow_mode"] = "throw"
    out["timeout_overflow_mode"] = "throw"
    # VALUES data as literals: an expression in it (file(…)) would run at the insert
    out["input_format_values_interpret_expressions"] = "0"
    out["input_format_values_deduce_templates_of_expressions"] = "0"
    return out


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


def _secret_matches(given: str | None, secrets: tuple[str, ...]) -> bool:
    if given is None:
        return False
    return any(hmac.compare_digest(given.encode(), secret.encode()) for secret in secrets)


def _host_is_local(host: str) -> bool:
    """Whether a ``Host`` header names this machine (a web page that rebinds its own name to
    127.0.0.1 sends its name)."""
    try:
        return urlsplit(f"//{host.strip()}").hostname in LOOPBACK_HOSTS
    except ValueError:
        return False


def _handler(engine: _Engine, secrets: tuple[str, ...]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "driftscope-store"
        # headers and body leave in two writes: without TCP_NODELAY a keep-alive client's
        # delayed ACK holds each answer ~40 ms (clickhouse-connect: 8× slower refreshes)
        disable_nagle_algorithm = True
        timeout = IDLE_SECONDS  # a connection that sends nothing is closed

        def handle_one_request(self) -> None:
            """As the standard library's, with ClickHouse's limit on the request line
            (``http_max_uri_size``, 1 MiB) instead of 64 KiB: a query longer than 128 KiB
            leaves its bound parameters in the URL (clickhouse-connect), and a window read
            of 3,000 features has 100 KiB of them."""
            try:
                self.raw_requestline = self.rfile.readline(MAX_URI_BYTES + 1)
                if len(self.raw_requestline) > MAX_URI_BYTES:
                    self.requestline = self.request_version = self.command = ""
                    self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                    return
                if not self.raw_requestline:
                    self.close_connection = True
                    return
                if not self.parse_request():
                    return
                method = getattr(self, "do_" + self.command, None)
                if method is None:
                    self.send_error(HTTPStatus.NOT_IMPLEMENTED,
                                    f"Unsupported method ({self.command!r})")
                    return
                method()
                self.wfile.flush()
            except TimeoutError as e:
                self.log_error("Request timed out: %r", e)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("store http: %s %s", self.command, urlsplit(self.path).path)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            path = urlsplit(self.path).path.rstrip("/")
            self._answer(200 if path in ("", "/ping") else 404, b"",
                         "text/plain; charset=UTF-8", {})

        def _refuse_method(self) -> None:
            self._fail(_Failure(405, 0, f"{self.command} is not served: GET or POST"))

        do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts, total = [], 0
                while True:
                    size = int(self.rfile.readline(64).split(b";", 1)[0].strip() or b"0", 16)
                    if size < 0:  # (int() reads "-1": rfile.read(-1) would read to the end)
                        raise ValueError("a negative chunk size")
                    if size == 0:
                        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        break
                    total += size
                    if total > MAX_BODY_BYTES:
                        raise _too_big("")
                    parts.append(self.rfile.read(size))
                    self.rfile.readline(64)
                return b"".join(parts)
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError("a negative Content-Length")
            if length > MAX_BODY_BYTES:
                raise _too_big("")
            return self.rfile.read(length) if length else b""

        def _authorised(self, params: dict[str, str]) -> bool:
            given = self.headers.get("X-ClickHouse-Key") or params.get("password")
            auth = self.headers.get("Authorization", "")
            if given is None and auth.lower().startswith("basic "):
                with contextlib.suppress(ValueError, UnicodeDecodeError):
                    given = base64.b64decode(auth[6:]).decode().partition(":")[2]
            return _secret_matches(given, secrets)

        def _serve(self) -> None:
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            if url.path.rstrip("/") == "/ping" or (url.path in ("/", "") and not params
                                                    and not self._has_body()):
                self._answer(200, b"Ok.\n", "text/plain; charset=UTF-8", {})
                return
            if url.path not in ("/", ""):
                self._fail(_Failure(404, 0, f"There is no handle {url.path}"), close=True)
                return
            if self.headers.get("Origin") is not None or \
                    not _host_is_local(self.headers.get("Host", "127.0.0.1")):
                self._fail(_Failure(403, 0, "requests from web pages are not served"),
                           close=True)
                return
            if not self._authorised(params):  # (before the body is read: it may be huge)
                self._fail(_Failure(401, 516, "Code: 516. DB::Exception: default: "
                                              "Authentication failed: password is incorrect, "
                                              "or there is no user with such name. "
                                              "(AUTHENTICATION_FAILED)"), close=True)
                return
            try:
                body = _decoded(self._body(), self.headers.get("Content-Encoding", ""))
            except _Failure as exc:
                self._fail(exc, close=True)
                return
            except Exception as exc:
                self._fail(_Failure(400, 36, f"Code: 36. DB::Exception: cannot read the "
                                             f"request body: {exc}. (BAD_ARGUMENTS)"),
                           close=True)
                return
            query = params.get("query")
            if self.headers.get("Content-Type", "").startswith("multipart/form-data"):
                try:  # a query whose parameters are too long for a URL (clickhouse-connect)
                    fields = _form_fields(body, self.headers["Content-Type"])
                except Exception as exc:
                    self._fail(_Failure(400, 36, f"Code: 36. DB::Exception: cannot read the "
                                                 f"form: {exc}. (BAD_ARGUMENTS)"))
                    return
                body = fields.pop("query", "").encode()
                params = {**params, **fields}
            try:
                self._query(params, query, body)
            except _Failure as exc:
                self._fail(exc)
            except Exception as exc:  # one line to the client and the log, no traceback
                log.warning("store http: %s: %s", type(exc).__name__, exc)
                self._fail(_Failure(500, 1001, f"Code: 1001. DB::Exception: "
                                               f"{type(exc).__name__}: {exc}. "
                                               "(STD_EXCEPTION)"))

        def _has_body(self) -> bool:
            return bool(self.headers.get("Transfer-Encoding")) or \
                self.headers.get("Content-Length", "0") not in ("", "0")

        def _query(self, params: dict[str, str], query: str | None, body: bytes) -> None:
            database = params.get("database") or self.headers.get("X-ClickHouse-Database")
            bound = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
            settings = {k: v for k, v in params.items()
                        if k not in _TRANSPORT and not k.startswith("param_")}
            for key in settings:
                if not _SETTING.match(key):
                    raise _Failure(400, 115, f"Code: 115. DB::Exception: Unknown setting "
                                             f"{key}. (UNKNOWN_SETTING)")
                why = sql_guard.setting_refused(key)
                if why is not None:
                    raise _refusal(why)
            if self.command == "GET":  # as ClickHouse: a GET only reads, whatever it asks
                settings["readonly"] = "1" if settings.get("readonly") == "1" else "2"
            query_id = params.get("query_id") or str(uuid.uuid4())
            # the query parameter, then the body (ClickHouse reads them as one text)
            raw = b"\n".join(p for p in ((query or "").encode(), body) if p)
            inserting = sql_guard.insert_with_data(raw)
            sql = inserting[0] if inserting is not None else raw.decode("utf-8", "replace")
            if not sql.strip():
                raise _Failure(400, 62, "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)")
            # checked as ClickHouse's parser writes it back, and that text is what runs
            checked = engine.normalize(sql if inserting is None
                                       else f"{inserting[0]} FORMAT {inserting[1]}", settings)
            why = sql_guard.refused(checked, engine.table_functions)
            if why is not None:
                raise _refusal(why)
            started = time.perf_counter()
            if inserting is not None:
                _, fmt, data = inserting
                statement = sql_guard.without_format(checked)
                summary = engine.insert(statement, fmt, data, bound, settings, database)
                data, fmt = b"", "TabSeparated"
            else:
                fmt = sql_guard.output_format(checked) or params.get("default_format") \
                    or "TabSeparated"
                data, summary = engine.run(checked, bound, settings, database, fmt)
            log.debug("store http: %s in %.3f s", query_id, time.perf_counter() - started)
            self._answer(200, data, _CONTENT_TYPE.get(fmt, "application/octet-stream"), {
                "X-ClickHouse-Format": fmt,
                "X-ClickHouse-Query-Id": query_id,
                "X-ClickHouse-Timezone": engine.timezone,
                "X-ClickHouse-Server-Display-Name": "driftscope",
                "X-ClickHouse-Summary": json.dumps(summary),
            })

        def _fail(self, exc: _Failure, close: bool = False) -> None:
            headers = {"X-ClickHouse-Exception-Code": str(exc.code)} if exc.code else {}
            if close:  # (a body left unread must not be taken for the next request)
                headers["Connection"] = "close"
                self.close_connection = True
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


class _Server(ThreadingHTTPServer):
    """At most :data:`MAX_CONNECTIONS` at once (one more is closed at once); a client that
    goes away mid-answer is logged at DEBUG, not as a traceback on stderr."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("store http: %d connections open already: one more refused",
                        MAX_CONNECTIONS)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("store http: a request from %s ended early", client_address,
                  exc_info=True)


class StoreGateway:
    """Serve the embedded store at ``path`` on ``host:port`` (``port=0``: any free port).

    ``lock`` is the store's own lock (every query takes it). A request must carry this
    gateway's :attr:`token` or ``password`` (when given). :meth:`start` binds, writes
    :data:`ENDPOINT_FILE` in the store's directory (this process, the URL and the token;
    readable by this user only) and answers in a thread; :meth:`stop` removes the file and
    closes the port.
    """

    def __init__(self, path: str | Path, lock: Any, *, host: str = "127.0.0.1",
                 port: int = DEFAULT_PORT, password: str | None = None) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the store's HTTP port binds to loopback only, not {host}")
        self.path = Path(path)
        self.token = secrets.token_urlsafe(24)
        self._engine = _Engine(str(self.path), lock)
        allowed = (self.token, password) if password else (self.token,)
        self._server = _Server((host, port), _handler(self._engine, allowed))
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
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # this user only
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "url": self.url, "token": self.token}, f)
        tmp.replace(target)
        return self

    def stop(self) -> None:
        self._engine.stopped = True  # (a keep-alive connection still open is answered 503)
        with contextlib.suppress(OSError):
            found = endpoint(self.path, pid=os.getpid())
            if found is not None and found[0] == self.url:
                (self.path / ENDPOINT_FILE).unlink()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


def endpoint(path: str | Path, *, pid: int | None) -> tuple[str, str] | None:
    """The URL and token with which the process ``pid`` serves the store at ``path``, if
    its :data:`ENDPOINT_FILE` says so (a file left by another process, or naming a host
    that is not this machine, is not believed)."""
    try:
        found = json.loads((Path(path) / ENDPOINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or pid is None or found.get("pid") != pid:
        return None
    url, token = found.get("url"), found.get("token")
    if not isinstance(url, str) or not isinstance(token, str):
        return None
    host = urlsplit(url).hostname
    if urlsplit(url).scheme != "http" or host not in LOOPBACK_HOSTS:
        return None
    return url, token
