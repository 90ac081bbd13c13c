"""The macro expansion matches the ClickHouse plugin's (pkg/macros/macros.go) output."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from driftscope.dashboards.macros import expand, expand_macros, interpolate

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # 1767225600
T1 = datetime(2026, 1, 2, 12, 30, 0, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("$__timeFilter(ts)", "ts >= toDateTime(1767225600) AND ts <= toDateTime(1767357000)"),
        ("$__timeFilter_ms(ts)", "ts >= fromUnixTimestamp64Milli(1767225600000) AND "
         "ts <= fromUnixTimestamp64Milli(1767357000250)"),
        ("$__timeInterval(ts)", "toStartOfInterval(toDateTime(ts), INTERVAL 300 second)"),
        ("$__fromTime, $__toTime", "toDateTime(1767225600), toDateTime(1767357000)"),
        ("$__fromTime_ms", "fromUnixTimestamp64Milli(1767225600000)"),
        ("x / $__interval_s", "x / 300"),
    ],
)
def test_macros_as_the_plugin_writes_them(sql: str, expected: str) -> None:
    assert expand_macros(sql, T0, T1, 300) == expected


def test_interval_is_at_least_one_second() -> None:
    assert expand_macros("$__interval_s", T0, T1, 0.2) == "1"


def test_unknown_macro_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown ClickHouse macro"):
        expand_macros("$__nope(x)", T0, T1, 60)


def test_variables() -> None:
    v = {"model": ["churn"], "feature": ["a", "b'c"]}
    assert interpolate("m = '${model}' AND $model", v) == "m = 'churn' AND churn"
    assert interpolate("f IN (${feature:singlequote})", v) == "f IN ('a','b\\'c')"
    assert interpolate("${feature:csv} ${feature}", v) == "a,b'c {a,b'c}"
    assert interpolate("${unknown} $__timeFilter(t)", v) == "${unknown} $__timeFilter(t)"
    assert interpolate("'${feature}'", {"feature": ["b'c"]}, escape=True) == "'b\\'c'"


def test_variables_before_macros() -> None:
    sql = "$__timeFilter(${col})"
    assert expand(sql, T0, T1, 60, {"col": ["ts"]}).startswith("ts >= toDateTime(")
