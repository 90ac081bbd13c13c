"""The store: ClickHouse through clickhouse-connect, embedded (chDB) or a server.

The DSN alone decides: ``chdb:///abs/path`` runs the in-process engine, while
``http://host:8123`` (or ``https://``) reaches a ClickHouse server. Every value from a
user goes in as a query parameter (``{name:Type}``), never pasted into SQL.

chDB allows one data path per process; several :class:`Store` objects on the same
path share it, each in its own database. Calls are serialised by a lock, so a store
may be shared between threads.

Examples
--------
>>> import tempfile
>>> store = Store(f"chdb://{tempfile.mkdtemp()}/db", database="doc")  # doctest: +SKIP
>>> store.migrate()                                                 # doctest: +SKIP
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.exceptions import (
    DatabaseError,
    OperationalError,
    ProgrammingError,
)

from driftscope.errors import StoreError, StoreUnavailable
from driftscope.store import gateway, schema
from driftscope.store.retention import apply as apply_retention

_INSERT_SETTINGS = {"max_partitions_per_insert_block": 0}  # 0: no limit
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(dsn: str) -> threading.RLock:
    key = dsn if dsn.startswith("chdb:") else f"{dsn}#{threading.get_ident()}"
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.RLock())


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def _cause(exc: BaseException) -> str:
    """The reason a connection failed, in words: the socket's (``Connection refused``,
    ``Name or service not known``) where the driver's text holds one, else its first line
    (urllib3's ran to 400 characters of reprs, object addresses included).

    >>> _cause(OSError("HTTPConnectionPool(host='h', port=1): Max retries exceeded "
    ...                "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection "
    ...                "object at 0x7f>: Failed to establish a new connection: [Errno 111] "
    ...                "Connection refused'))"))
    'Connection refused'
    """
    found = _ERRNO.search(str(exc))
    return found.group(1).strip() if found else _first_line(exc)


def _first_line(exc: BaseException) -> str:
    """An exception's first line of text (its repr where it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


def redact_dsn(dsn: str) -> str:
    """A DSN safe to print: no password."""
    if "@" in dsn and "://" in dsn:
        scheme, rest = dsn.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return dsn


_UNKNOWN_TABLE = (
    re.compile(r"identifier '([^']+)'"),
    re.compile(r"Table ([\w.`]+) (?:does not|doesn't) exist"),
)


def _missing_table(message: str) -> str | None:
    """The table an UNKNOWN_TABLE error names ("" when it names none); None otherwise."""
    if "UNKNOWN_TABLE" not in message and "Code: 60." not in message:
        return None
    for pattern in _UNKNOWN_TABLE:
        m = pattern.search(message)
        if m:
            return m.group(1).replace("`", "").rsplit(".", 1)[-1]
    return ""


def _status_pid(path: Path) -> int | None:
    """The process chDB's status file at ``path`` names as the store's holder, if any."""
    try:
        text = (path / "status").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = re.search(r"PID:\s*(\d+)", text)
    return int(m.group(1)) if m else None


def _holder(path: Path) -> str:
    """Who holds an embedded store: "process N" from chDB's status file, if it says."""
    pid = _status_pid(path)
    return "another process" if pid is None else f"process {pid}"


def _held_elsewhere(path: Path) -> bool:
    """Whether another live process holds the embedded store at ``path`` (chDB's lock on its
    ``status`` file), asked before chDB is, which would print its own error first."""
    pid = _status_pid(path)
    if pid is None or pid == os.getpid():  # (this process's own lock: no conflict)
        return False
    try:
        with open(path / "status", "rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released on close
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration file, in order."""
    files = resources.files("driftscope.store").joinpath("migrations")
    found = []
    for f in files.iterdir():
        if f.name.endswith(".sql"):
            version = int(f.name.split("_", 1)[0])
            found.append((version, f.name, f.read_text(encoding="utf-8")))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


class Store:
    """One database in ClickHouse; the only place SQL is executed."""

    def __init__(
        self,
        dsn: str,
        *,
        database: str = "driftscope",
        user: str = "default",
        password: str | None = None,
        retention: Any = None,
        relative: bool = False,
    ) -> None:
        self.dsn = dsn
        self.relative = relative  # (its configuration named it relative to the working dir)
        self.database = database
        self._user = user
        self._password = password
        # a RetentionConfig: migrate() gives the tables its TTLs; None leaves them be
        self.retention = retention
        self.retention_changes: list[str] = []  # the statements the last migrate() ran
        self._lock = _lock_for(dsn)
        self._client: Any = None
        self._via: str | None = None  # the URL of the process holding the embedded store
        self._served = False  # reached through that process once: never opened here then

    @classmethod
    def from_config(cls, store: Any, secrets: Any, root: Path | None = None) -> Store:
        """From a :class:`~driftscope.config.StoreConfig` and the environment's secrets."""
        password = secrets.clickhouse_password
        dsn = store.resolved_dsn(root)
        return cls(
            dsn,
            database=store.database,
            user=store.user,
            password=password.get_secret_value() if password else None,
            retention=store.retention,
            relative=dsn != store.dsn,
        )

    def require_existing(self) -> Store:
        """For a command that reads what others wrote (``alerts``, ``report``): an embedded
        store that does not exist is an error, not a new empty one made where the command
        happens to run (the default path is relative to the working directory)."""
        path = Path(self.dsn.removeprefix("chdb://"))
        if self.embedded and not path.exists():
            if self.relative:
                raise StoreError(
                    f"no store at {self.dsn}: run this where the collector's store is (the "
                    "default store.dsn, chdb:///.driftscope/db, is relative to the working "
                    "directory), or pass -c driftscope.yaml")
            # (an absolute store.dsn: "pass -c" told a user who had)
            raise StoreError(
                f"no store at {self.dsn}: nothing has been collected into it yet "
                "(`driftscope collect` or `serve` with this configuration makes it; "
                "`driftscope migrate` makes it empty)")
        return self

    # -- connection ---------------------------------------------------------------
    @property
    def has_password(self) -> bool:
        return bool(self._password)

    @property
    def where(self) -> str:
        """The store as messages name it, password hidden: ``DSN (database NAME)``."""
        return f"{redact_dsn(self.dsn)} (database {self.database})"

    @property
    def embedded(self) -> bool:
        return self.dsn.startswith("chdb:")

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            if self.embedded:
                path = Path(self.dsn.removeprefix("chdb://"))
                path.mkdir(parents=True, exist_ok=True)
                if _held_elsewhere(path):
                    via = gateway.endpoint(path, pid=_status_pid(path))
                    if via is None:
                        raise DatabaseError("EmbeddedServer: held by another process")
                    return self._connect_via(*via)
                if self._served:  # its server stopped: leave the store for it to restart
                    raise StoreUnavailable(
                        f"the embedded store at {self.dsn} was served by another process "
                        "(`driftscope serve`), which has stopped: this command does not "
                        "open it itself, so that serve can start again; it retries")
                boot = clickhouse_connect.get_client(dsn=self.dsn)
                boot.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
                self._client = clickhouse_connect.get_client(
                    dsn=self.dsn, database=self.database, settings=gateway.ENGINE_SETTINGS)
            else:
                boot = clickhouse_connect.get_client(
                    dsn=self.dsn, username=self._user, password=self._password or ""
                )
                boot.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
                self._client = clickhouse_connect.get_client(
                    dsn=self.dsn,
                    username=self._user,
                    password=self._password or "",
                    database=self.database,
                )
        except (OperationalError, OSError) as exc:
            where = redact_dsn(self.dsn)
            raise StoreUnavailable(f"cannot reach the store at {where}: {_cause(exc)}") \
                from None
        except (DatabaseError, ProgrammingError) as exc:
            if self.embedded and ("EmbeddedServer" in str(exc)
                                  or "Cannot lock file" in str(exc)):
                holder = _holder(Path(self.dsn.removeprefix("chdb://")))
                raise StoreError(
                    f"cannot open the embedded store at {self.dsn}: {holder} holds it "
                    "(another driftscope command such as collect or monitor, or a serve that "
                    "is stopping: then try again in a few seconds), and chDB opens a store in "
                    "one process at a time; stop that process, or run `driftscope serve` (it "
                    "serves its store to the other commands), or run the services side by "
                    "side on a ClickHouse server (store.dsn: http://host:8123, as "
                    "`docker compose up` does)"
                ) from None
            raise StoreError(f"cannot open the store at {redact_dsn(self.dsn)}: {exc}") from None
        return self._client

    def _connect_via(self, url: str, token: str) -> Any:
        """The embedded store held by another process (``driftscope serve``), through the
        HTTP port it serves the store on (:mod:`driftscope.store.gateway`), with the token
        it wrote beside the store. From then on this store never opens the engine itself:
        when that process stops, calls fail (``StoreUnavailable``) until it serves again."""
        options: dict[str, Any] = {
            "dsn": url, "username": "default", "password": token,
            "compress": False, "autogenerate_session_id": False}
        try:
            boot = clickhouse_connect.get_client(**options)
            boot.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
            boot.close()
            self._client = clickhouse_connect.get_client(database=self.database, **options)
        except OperationalError as exc:
            raise StoreUnavailable(
                f"the embedded store at {self.dsn} is held by "
                f"{_holder(Path(self.dsn.removeprefix('chdb://')))}, which serves it at {url}, "
                f"but that did not answer: {exc}") from None
        self._via = url
        self._served = True
        return self._client

    def serve_http(self, port: int) -> gateway.StoreGateway:
        """Serve this embedded store on ClickHouse's HTTP interface at 127.0.0.1:``port``
        (:mod:`driftscope.store.gateway`; ``port=0``: a free one), started; every query
        takes this store's lock. Requests must carry the gateway's token (written beside the
        store for the other commands) or the store's password when one is set
        (``DRIFTSCOPE_CLICKHOUSE_PASSWORD``, for Grafana)."""
        if not self.embedded:
            raise StoreError("only an embedded store is served (a server has its own port)")
        with self._call("open"):  # the engine is open before the first request
            pass
        if self._via:
            raise StoreError(
                f"the embedded store at {self.dsn} is already held and served by "
                f"{_holder(Path(self.dsn.removeprefix('chdb://')))} at {self._via} (another "
                "`driftscope serve`?): one process serves an embedded store; stop that one, "
                "or give this one another store.dsn")
        return gateway.StoreGateway(self.dsn.removeprefix("chdb://"), self._lock, port=port,
                                    password=self._password).start()

    @contextmanager
    def _call(self, what: str) -> Iterator[Any]:
        with self._lock:
            client = self._connect()
            try:
                yield client
            except OperationalError as exc:
                self._client = self._via = None
                raise StoreUnavailable(f"store unavailable during {what}: "
                                       f"{_first_line(exc)[:300]}") from None
            except (DatabaseError, ProgrammingError) as exc:
                first = _first_line(exc)
                table = _missing_table(first)
                if table is not None:
                    raise StoreError(
                        f"the store at {self.where} has no "
                        f"table {table or 'the query needs'}: run `driftscope migrate`, or "
                        "point at the right database (store.database, "
                        "DRIFTSCOPE_STORE__DATABASE)"
                    ) from None
                raise StoreError(f"{what} failed: {first}") from None

    def close(self) -> None:
        with self._lock:
            if self._client is not None and (self._via or not self.embedded):
                self._client.close()
            self._client = None
            self._via = None

    # -- statements -----------------------------------------------------------------
    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        with self._call("command") as client:
            return client.command(sql, parameters=parameters)

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self._call("query") as client:
            return list(client.query(sql, parameters=parameters).result_rows)

    def query_columns(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows."""
        with self._call("query") as client:
            res = client.query(sql, parameters=parameters)
            return list(res.column_names), list(res.result_rows)

    def query_np(self, sql: str, parameters: dict[str, Any] | None = None,
                 settings: dict[str, Any] | None = None) -> Any:
        """A numpy structured array, a field per column (numbers without Python objects)."""
        with self._call("query") as client:
            return client.query_np(sql, parameters=parameters, settings=settings)

    def query_df(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        """A pandas DataFrame."""
        with self._call("query") as client:
            return client.query_df(sql, parameters=parameters)

    def insert(
        self, table: str | schema._Table, rows: Sequence[Sequence[Any]], columns: Sequence[str]
    ) -> int:
        """Insert rows (one block per call); returns the number inserted.

        A block may span any number of partitions (events over more than 100 months):
        ClickHouse's ``max_partitions_per_insert_block`` would otherwise refuse it.
        """
        if not rows:
            return 0
        with self._call(f"insert into {table}") as client:
            client.insert(str(table), rows, column_names=list(columns), settings=_INSERT_SETTINGS)
        return len(rows)

    def count(self, table: str | schema._Table, where: str = "1", **params: Any) -> int:
        rows = self.query(f"SELECT count() FROM {table} WHERE {where}", params or None)
        return int(rows[0][0])

    # -- migrations -----------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply every migration not yet recorded; return the names applied.

        A store made from the configuration (:meth:`from_config`) then sets the tables'
        TTLs from ``store.retention`` (:mod:`driftscope.store.retention`; nothing when they
        are already set).
        """
        self.command(
            f"CREATE TABLE IF NOT EXISTS {schema.SCHEMA_MIGRATIONS} ("
            "version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)"
            ") ENGINE = MergeTree ORDER BY version"
        )
        done = {int(r[0]) for r in self.query(f"SELECT version FROM {schema.SCHEMA_MIGRATIONS}")}
        applied = []
        for version, name, sql in migrations():
            if version in done:
                continue
            for statement in _statements(sql):
                self.command(statement)
            self.insert(schema.SCHEMA_MIGRATIONS, [(version, name)], ["version", "name"])
            applied.append(name)
        if self.retention is not None:
            self.retention_changes = apply_retention(self, self.retention)
        return applied

    def drop_database(self) -> None:
        self.command(f"DROP DATABASE IF EXISTS {self.database}")
        self.close()
