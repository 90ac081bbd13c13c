"""What the store's HTTP port (:mod:`driftscope.store.gateway`) lets a request run.

chDB is ``clickhouse-local``: unlike a ClickHouse server it lets a query read and write any
file the process can (``file()``, ``INTO OUTFILE``, a ``Filesystem`` database, a
``format_template_*`` setting), fetch URLs and run programs (an ``EXECUTABLE`` dictionary).
Driftscope's own queries and Grafana's never do, so the port runs only what they need.

A statement is first rewritten by ClickHouse's own parser (``formatQuerySingleLine``: the
gateway does it, :data:`NORMALIZE`), which refuses several statements, drops comments and
writes every string as ``'…'`` and every quoted name as ```…``` with backslash escapes,
so nothing can hide from the checks below (``$$…$$`` strings, comments, odd quoting).
:func:`refused` then reads that text, strings blanked out:

- only these statements: ``SELECT``/``WITH``, ``INSERT INTO`` a table, ``CREATE TABLE``
  with a MergeTree-family, Memory, Null or Log engine, ``CREATE DATABASE`` (Atomic),
  ``ALTER TABLE``, ``DELETE FROM``, ``DROP``/``TRUNCATE TABLE``, ``DROP DATABASE``,
  ``DESCRIBE``, ``SHOW``, ``EXISTS``, ``OPTIMIZE TABLE``, ``EXPLAIN``;
- no call of a function, table function or engine that reaches files, URLs, other servers
  or programs (:data:`REACHING_OUT`), no ``INTO OUTFILE`` / ``FROM INFILE``;
- settings, in the URL or in a ``SETTINGS`` clause, only from :func:`setting_refused`'s
  list, and never the port's own limits in the SQL.

>>> refused("SELECT count() FROM events WHERE note = 'file(x); INTO OUTFILE'") is None
True
>>> refused("SELECT * FROM file('/etc/passwd', 'LineAsString')")
'file()'
>>> refused("CREATE DATABASE fs ENGINE = Filesystem('/tmp')")
'a database engine other than Atomic'
"""

from __future__ import annotations

import re

NORMALIZE = "SELECT formatQuerySingleLine({q:String})"
"""The query the gateway runs (on the engine) to have ClickHouse rewrite a statement."""

# table functions, functions, engines and dictionary sources that reach files, URLs, other
# servers or programs (matched case-insensitively, followed by "(")
REACHING_OUT = frozenset(name.lower() for name in (
    "file", "fileCluster", "url", "urlCluster", "s3", "s3Cluster", "gcs", "oss", "cosn",
    "hdfs", "hdfsCluster", "remote", "remoteSecure", "cluster", "clusterAllReplicas",
    "executable", "executablePool", "executable_pool", "input", "mysql", "postgresql",
    "odbc", "jdbc", "mongodb", "redis", "sqlite", "azureBlobStorage",
    "azureBlobStorageCluster", "iceberg", "icebergS3", "icebergAzure", "icebergHDFS",
    "icebergLocal", "icebergCluster", "icebergS3Cluster", "deltaLake", "deltaLakeCluster",
    "deltaLakeLocal", "hudi", "hudiCluster", "paimon", "arrowFlight", "ytsaurus", "python",
    "http", "localfile", "disk", "kafka", "nats", "rabbitmq", "filelog", "hive",
    "embeddedrocksdb", "prometheusQuery", "filesystem", "keepermap", "zookeeper",
))
_STATEMENT = re.compile(
    r"^(?:\(|(?:SELECT|WITH|INSERT INTO|CREATE TABLE|CREATE DATABASE|ALTER TABLE|DELETE FROM"
    r"|DROP TABLE|DROP DATABASE|TRUNCATE TABLE|DESCRIBE|DESC|SHOW|EXISTS|OPTIMIZE TABLE|EXPLAIN)"
    r"(?=\W|$))", re.IGNORECASE)
_INSERT_FUNCTION = re.compile(r"^INSERT INTO (TABLE )?FUNCTION\b", re.IGNORECASE)
_TABLE_ENGINE = re.compile(r"\bENGINE = (\w+)", re.IGNORECASE)
_SAFE_ENGINE = re.compile(r"^(\w*MergeTree|Memory|Null|Log|TinyLog|StripeLog)$", re.IGNORECASE)
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_FILES = re.compile(r"\b(INTO OUTFILE|FROM INFILE)\b", re.IGNORECASE)
_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)

LIMITS = frozenset({"max_execution_time", "max_result_bytes", "max_result_rows",
                    "timeout_overflow_mode", "result_overflow_mode", "readonly",
                    "max_memory_usage", "input_format_values_interpret_expressions",
                    "input_format_values_deduce_templates_of_expressions"})
"""Settings the port sets itself: a request may lower its limits in the URL, never name
them in SQL."""
_SETTING_OK = re.compile(
    r"^(max_\w+|readonly|date_time_input_format|date_time_output_format"
    r"|cast_string_to_dynamic_use_inference|output_format_json_quote_64bit_integers"
    r"|output_format_json_quote_denormals|output_format_decimal_trailing_zeros"
    r"|output_format_native_\w+|input_format_null_as_default|session_timezone|extremes"
    r"|log_comment|mutations_sync|lightweight_deletes_sync|join_use_nulls|async_insert"
    r"|wait_for_async_insert|insert_deduplicate|select_sequential_consistency|final"
    r"|optimize_\w+|timeout_overflow_mode|result_overflow_mode)$")
_SETTING_BAD = re.compile(r"path|file|schema|template|url|dir|user|password|secret|disk"
                          r"|storage|policy|remote|s3|hdfs|azure|proxy|host|command"
                          r"|executable|script|library|dictionar|experimental|eval"
                          r"|interpret|expression")

# ClickHouse's table functions (``system.table_functions``; the gateway adds what its chDB
# has): only those that make rows from nothing or read the store's own tables may be used
TABLE_FUNCTIONS = frozenset(name.lower() for name in (
    "SQLStandardValues", "arrowstream", "azureBlobStorage", "azureBlobStorageCluster",
    "bigquery", "cluster", "clusterAllReplicas", "cosn", "deltaLake", "deltaLakeAzure",
    "deltaLakeAzureCluster", "deltaLakeCluster", "deltaLakeLocal", "deltaLakeS3",
    "deltaLakeS3Cluster", "dictionary", "eval", "executable", "file", "fileCluster",
    "filesystem", "format", "fuzzJSON", "fuzzQuery", "gcs", "generateRandom",
    "generateSeries", "generate_series", "hdfs", "hdfsCluster", "hudi", "hudiCluster",
    "iceberg", "icebergAzure", "icebergAzureCluster", "icebergCluster", "icebergHDFS",
    "icebergHDFSCluster", "icebergLocal", "icebergLocalCluster", "icebergS3",
    "icebergS3Cluster", "input", "jdbc", "loop", "merge", "mergeTreeAnalyzeIndexes",
    "mergeTreeAnalyzeIndexesUUID", "mergeTreeCodecBlockCounts", "mergeTreeIndex",
    "mergeTreeProjection", "mergeTreeTextIndex", "mongodb", "mysql", "null", "numbers",
    "numbers_mt", "odbc", "oss", "paimon", "paimonAzure", "paimonAzureCluster",
    "paimonCluster", "paimonHDFS", "paimonHDFSCluster", "paimonLocal", "paimonS3",
    "paimonS3Cluster", "postgresql", "primes", "prometheusQuery", "prometheusQueryRange",
    "python", "redis", "remote", "remoteSecure", "s3", "s3Cluster", "sqlite",
    "timeSeriesData", "timeSeriesMetricFamilies", "timeSeriesMetrics", "timeSeriesSamples",
    "timeSeriesSelector", "timeSeriesTags", "url", "urlCluster", "values", "view",
    "viewExplain", "viewIfPermitted", "ytsaurus", "zeros", "zeros_mt",
))
TABLE_FUNCTIONS_OK = frozenset({"numbers", "numbers_mt", "zeros", "zeros_mt", "values",
                                "null", "view", "generaterandom", "generateseries",
                                "generate_series", "primes"})
INSERT_FORMATS_REFUSED = frozenset({"values"})  # (its expressions would run at the insert)


def normalize_argument(sql: str) -> str:
    """``sql`` as the value of :data:`NORMALIZE`'s ``q`` parameter (ClickHouse reads
    parameter values escaped: a backslash, tab or line break must be written out)."""
    return (sql.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def code_of(sql: str) -> str:
    """Normalized ``sql`` with the contents of its string literals replaced by spaces
    (positions kept) and the quotes of quoted names dropped (```file``` reads as
    ``file``)."""
    out = list(sql)
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'`\"":
            j = i + 1
            while j < n and sql[j] != c:
                j += 2 if sql[j] == "\\" else 1
            if c == "'":
                for k in range(i + 1, min(j, n)):
                    out[k] = " "
            else:
                out[i] = " "
                if j < n:
                    out[j] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


def setting_refused(name: str) -> str | None:
    """Why a setting may not be given (None: it may): only known harmless families, never
    one that names files, schemas, templates, URLs, disks or programs."""
    if _SETTING_BAD.search(name.lower()) or not _SETTING_OK.match(name.lower()):
        return f"the setting {name}"
    return None


def refused(normalized: str, table_functions: frozenset[str] = frozenset()) -> str | None:
    """What in a statement ClickHouse has normalized the port refuses (a short name of
    it), or None. ``table_functions``: more names of table functions (lower case) than
    :data:`TABLE_FUNCTIONS` knows."""
    code = code_of(normalized).strip()
    if not _STATEMENT.match(code) or _INSERT_FUNCTION.match(code):
        return f"the statement {' '.join(code.split()[:3])}"
    insert = re.match(r"^INSERT INTO\b", code, re.IGNORECASE)
    if insert and not re.search(r"\bSELECT\b", code, re.IGNORECASE):
        fmt = output_format(normalized)
        if fmt is None or fmt.lower() in INSERT_FORMATS_REFUSED:
            return (f"an INSERT in FORMAT {fmt or 'Values'} (VALUES: data in the query is "
                    "not read as SQL, and its expressions would run; send the data after "
                    "FORMAT Native, CSV…)" if fmt is None or fmt.lower() == "values" else
                    f"an INSERT in FORMAT {fmt}")
    if re.match(r"^CREATE DATABASE\b", code, re.IGNORECASE):
        m = _TABLE_ENGINE.search(code)
        if m and m.group(1).lower() != "atomic":
            return "a database engine other than Atomic"
    elif re.match(r"^CREATE TABLE\b", code, re.IGNORECASE):
        for m in _TABLE_ENGINE.finditer(code):
            if not _SAFE_ENGINE.match(m.group(1)):
                return f"the table engine {m.group(1)}"
    m = _FILES.search(code)
    if m:
        return m.group(1).upper()
    tables = TABLE_FUNCTIONS | table_functions
    for call in _CALL.finditer(code):
        name = call.group(1).lower()
        if name in REACHING_OUT or (name in tables and name not in TABLE_FUNCTIONS_OK):
            return f"{name}()"
    at = re.search(r"\bSETTINGS\b", code, re.IGNORECASE)
    if at is not None:  # every "name = " after it (a WHERE of a later subquery too: safe)
        for name in re.findall(r"\b(\w+) = ", code[at.end():]):
            if name.lower() in LIMITS:
                return f"the setting {name} in the query (the port sets it)"
            if not re.match(r"^CREATE TABLE\b", code, re.IGNORECASE):  # (table settings)
                why = setting_refused(name)
                if why:
                    return why
    return None


def without_format(sql: str) -> str:
    """``sql`` without its trailing ``FORMAT`` clause (and ``;``)."""
    return _FORMAT.sub("", sql.rstrip()).rstrip().rstrip(";")


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
