"""The Grafana ClickHouse plugin's macros and Grafana's variables, expanded in Python.

Grafana sends ``rawSql`` with ``${var}`` already interpolated; the plugin's backend then
expands its macros for the query's time range and interval (``pkg/macros/macros.go``):

=========================  =============================================================
``$__timeFilter(c)``       ``c >= toDateTime(FROM) AND c <= toDateTime(TO)`` (seconds)
``$__timeFilter_ms(c)``    the same with ``fromUnixTimestamp64Milli(ms)``
``$__timeInterval(c)``     ``toStartOfInterval(toDateTime(c), INTERVAL N second)``
``$__fromTime``            ``toDateTime(FROM)``; ``$__toTime`` likewise
``$__interval_s``          ``N``
=========================  =============================================================

Tests run every panel's SQL through :func:`expand` against a chDB store, and the HTML
report uses it to run the same SQL without Grafana.

Examples
--------
>>> from datetime import datetime, timezone
>>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> t1 = datetime(2026, 1, 2, tzinfo=timezone.utc)
>>> expand("SELECT 1 WHERE $__timeFilter(ts) AND m = ${model:singlequote}", t0, t1, 60,
...        {"model": ["a"]})
"SELECT 1 WHERE ts >= toDateTime(1767225600) AND ts <= toDateTime(1767312000) AND m = 'a'"
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

ALL = "$__all"
"""A variable's value when *All* is selected (Grafana's own marker)."""
_VAR = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")
_MACRO = re.compile(r"\$__(\w+)(?:\(([^()]*)\))?")


def _quote(value: str, backslashes: bool = False) -> str:
    """``value`` in single quotes, each quote in it escaped ``\\'``: Grafana's
    ``singlequote`` format exactly (``formatRegistry``), which leaves a backslash as it is;
    ``backslashes``: escape those too (``\\\\``), for a value that must stay one ClickHouse
    string whatever it holds."""
    if backslashes:
        value = value.replace("\\", "\\\\")
    return "'" + value.replace("'", "\\'") + "'"


def interpolate(
    sql: str,
    variables: Mapping[str, Sequence[str]],
    *,
    escape: bool = False,
    all_values: Mapping[str, str] | None = None,
) -> str:
    """Replace ``${name}``, ``${name:singlequote}``, ``${name:csv}`` and ``$name``.

    A single value goes in raw, as Grafana does for SQL sources (the panels quote every
    value with ``singlequote``). ``singlequote`` gives ``'a','b'`` and escapes a quote in a
    value as ``\\'``, as Grafana does (a backslash stays as it is); ``escape=True`` also
    escapes backslashes, in quoted and raw values, for values that come from a command
    line or the store (``driftscope report``). Unknown
    names and ``$__`` macros are left alone. A variable set to ``[ALL]`` whose custom all
    value ``all_values`` gives is replaced by that value as it is, whatever the format
    (Grafana's rule for custom all values).
    """

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        if name.startswith("__") or name not in variables:
            return m.group(0)
        values = list(variables[name])
        if values == [ALL] and all_values and name in all_values:
            return all_values[name]
        fmt = m.group(2)
        if fmt == "singlequote":
            return ",".join(_quote(v, escape) for v in values)
        if fmt == "csv":
            return ",".join(values)
        if len(values) == 1:
            return _quote(values[0], True)[1:-1] if escape else values[0]
        return "{" + ",".join(values) + "}"

    return _VAR.sub(sub, sql)


def expand_macros(sql: str, time_from: datetime, time_to: datetime, interval_s: float) -> str:
    """Expand the plugin's macros for one time range and interval."""
    f_s, t_s = int(time_from.timestamp()), int(time_to.timestamp())
    f_ms, t_ms = int(time_from.timestamp() * 1000), int(time_to.timestamp() * 1000)
    secs = max(int(interval_s), 1)

    def sub(m: re.Match[str]) -> str:
        name, arg = m.group(1), (m.group(2) or "").strip()
        simple = {
            "fromTime": f"toDateTime({f_s})",
            "toTime": f"toDateTime({t_s})",
            "fromTime_ms": f"fromUnixTimestamp64Milli({f_ms})",
            "toTime_ms": f"fromUnixTimestamp64Milli({t_ms})",
            "interval_s": str(secs),
        }
        if name in simple and m.group(2) is None:
            return simple[name]
        if name == "timeFilter":
            return f"{arg} >= toDateTime({f_s}) AND {arg} <= toDateTime({t_s})"
        if name == "timeFilter_ms":
            return (
                f"{arg} >= fromUnixTimestamp64Milli({f_ms}) AND "
                f"{arg} <= fromUnixTimestamp64Milli({t_ms})"
            )
        if name == "timeInterval":
            return f"toStartOfInterval(toDateTime({arg}), INTERVAL {secs} second)"
        raise ValueError(f"unknown ClickHouse macro $__{name} in: {sql[:80]}")

    return _MACRO.sub(sub, sql)


def expand(
    sql: str,
    time_from: datetime,
    time_to: datetime,
    interval_s: float,
    variables: Mapping[str, Sequence[str]],
    *,
    escape: bool = False,
    all_values: Mapping[str, str] | None = None,
) -> str:
    """Variables first (Grafana's frontend), then macros (the plugin's backend)."""
    return expand_macros(interpolate(sql, variables, escape=escape, all_values=all_values),
                         time_from, time_to, interval_s)
