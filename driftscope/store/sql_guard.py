"""What the store's HTTP port (:mod:`driftscope.store.gateway`) reads in a request's SQL.

chDB is ``clickhouse-local``: unlike a ClickHouse server it lets a query read and write any
file the process can (``file()``, ``INTO OUTFILE``, ``FROM INFILE``), fetch URLs and run
programs. Driftscope's own queries never do, so the port refuses every statement that
names one of those (:func:`forbidden`), one statement per request, before it runs.

The checks read the SQL with its string literals and comments blanked out
(:func:`code_of`): a ``file(`` inside ``'…'`` or ``/* … */`` is text, not a call, and a
call cannot hide behind a comment (``file /* x */ (``) or quotes (```file`(``).

>>> forbidden("SELECT count() FROM events WHERE note = 'file(x); INTO OUTFILE'") is None
True
>>> forbidden("SELECT * FROM fIlE /* */ ('/etc/passwd', 'LineAsString')")
'file()'
>>> forbidden("SELECT 1; DROP TABLE events")
'more than one statement'
"""

from __future__ import annotations

import re

# table functions, functions, table engines and dictionary sources that reach files, URLs,
# other servers or programs (the names are matched case-insensitively, followed by "(")
REACHING_OUT = frozenset(name.lower() for name in (
    "file", "fileCluster", "url", "urlCluster", "s3", "s3Cluster", "gcs", "oss", "cosn",
    "hdfs", "hdfsCluster", "remote", "remoteSecure", "cluster", "clusterAllReplicas",
    "executable", "executablePool", "input", "mysql", "postgresql", "odbc", "jdbc",
    "mongodb", "redis", "sqlite", "azureBlobStorage", "azureBlobStorageCluster", "iceberg",
    "icebergS3", "icebergAzure", "icebergHDFS", "icebergLocal", "icebergCluster",
    "icebergS3Cluster", "deltaLake", "deltaLakeCluster", "deltaLakeLocal", "hudi",
    "hudiCluster", "paimon", "arrowFlight", "arrowflight", "ytsaurus", "python", "http",
    "localfile", "disk", "kafka", "nats", "rabbitmq", "filelog", "hive", "embeddedrocksdb",
    "prometheusquery",
))
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_FILES = re.compile(r"\b(INTO\s+OUTFILE|FROM\s+INFILE)\b", re.IGNORECASE)
_STATEMENTS = re.compile(r"^\s*(SYSTEM|ATTACH|DETACH|BACKUP|RESTORE|KILL|SET|USE|INSTALL"
                         r"|GRANT|REVOKE|CREATE\s+(USER|ROLE|FUNCTION|NAMED\s+COLLECTION))\b",
                         re.IGNORECASE)
_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)


def code_of(sql: str) -> str:
    """``sql`` with string literals' contents and comments replaced by spaces (positions
    kept) and the quotes of quoted identifiers dropped (```file``` reads as ``file``)."""
    out = list(sql)
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'":  # a string: '' and \' inside
            j = i + 1
            while j < n:
                if sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == "'":
                    if j + 1 < n and sql[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            for k in range(i + 1, min(j, n)):
                out[k] = " "
            i = j + 1
        elif c in "`\"":  # a quoted identifier: its name stays, its quotes go
            j = sql.find(c, i + 1)
            j = n if j < 0 else j
            out[i] = " "
            if j < n:
                out[j] = " "
            i = j + 1
        elif sql.startswith("--", i) or c == "#":
            j = sql.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                out[k] = " "
            i = j
        else:
            i += 1
    return "".join(out)


def forbidden(sql: str) -> str | None:
    """What in ``sql`` the port refuses (a short name of it), or None."""
    code = code_of(sql)
    if ";" in code.rstrip().rstrip(";"):
        return "more than one statement"
    m = _STATEMENTS.match(code)
    if m:
        return " ".join(m.group(1).upper().split())
    m = _FILES.search(code)
    if m:
        return " ".join(m.group(1).upper().split())
    for call in _CALL.finditer(code):
        if call.group(1).lower() in REACHING_OUT:
            return f"{call.group(1).lower()}()"
    return None


def output_format(sql: str) -> str | None:
    """The format a query's own ``FORMAT`` clause asks for (at its end), if any."""
    m = _FORMAT.search(code_of(sql).rstrip())
    return m.group(1) if m else None


# INSERT INTO [TABLE] name [(columns)] [SETTINGS …] FORMAT name, then the data (any bytes)
_INSERT_WITH_DATA = re.compile(
    rb"^\s*(INSERT\s+INTO\s+(?:TABLE\s+)?[^\s(]+(?:\s*\([^)]*\))?"
    rb"(?:\s+SETTINGS\s+[^\n]*?)?)\s+FORMAT\s+(\w+)[ \t]*(?:\r?\n)?",
    re.IGNORECASE)


def insert_with_data(raw: bytes) -> tuple[str, str, bytes] | None:
    """``(INSERT INTO t (…) [SETTINGS …], format, data)`` when ``raw`` is an INSERT whose
    data follows its FORMAT clause (ClickHouse's HTTP way: the query, then the data), else
    None (``INSERT … VALUES`` and ``INSERT … SELECT`` are statements like any other)."""
    m = _INSERT_WITH_DATA.match(raw)
    if m is None or not raw[m.end():]:
        return None
    return m.group(1).decode("utf-8", "replace"), m.group(2).decode(), raw[m.end():]
