"""Grafana on the embedded store: every panel's SQL, sent over ClickHouse's HTTP interface
to the port `driftscope serve` opens (docs/dashboards.md, "Grafana on the embedded store"),
gives what it gives on the store directly: same columns, same rows, same values (times
included: the plugin reads them over HTTP, where a time zone can be lost)."""

from __future__ import annotations

from collections.abc import Iterator

import clickhouse_connect
import pytest
from dashfill import DRIFTING, T0, T1, variables

from driftscope.dashboards import build as b
from driftscope.dashboards.macros import expand
from driftscope.store.clickhouse import Store


@pytest.fixture(scope="module")
def over_http(filled_store: Store) -> Iterator[object]:
    http = filled_store.serve_http(0)
    try:
        yield clickhouse_connect.get_client(dsn=http.url, database=filled_store.database,
                                            password=http.token)
    finally:
        http.stop()


def _queries() -> list[tuple[str, str, bool]]:
    """(name, SQL, repeated per feature) of every panel and variable."""
    out = []
    for key in sorted(b.DASHBOARDS):
        for spec in b.panel_specs(key):
            out.append((f"{key}-{spec.key}", spec.sql, spec.repeat == "feature"))
    out += [(f"variable-{n}", sql, False) for n, sql in sorted(b.variable_queries().items())]
    return out


QUERIES = _queries()


@pytest.mark.parametrize(("name", "sql", "repeated"), QUERIES, ids=[q[0] for q in QUERIES])
def test_a_panel_reads_the_same_through_the_port(
    filled_store: Store, over_http: object, name: str, sql: str, repeated: bool
) -> None:
    v = variables()  # every feature, segment and monitor of one model
    if repeated:  # a panel repeated per feature sees one
        v["feature"] = [DRIFTING]
    text = expand(sql, T0, T1, 3600, v, all_values=b.ALL_VALUES)
    cols, rows = filled_store.query_columns(text)
    res = over_http.query(text)  # type: ignore[attr-defined]
    assert tuple(res.column_names) == tuple(cols)
    assert rows, f"{name} returned nothing: the comparison would prove nothing"
    assert list(res.result_rows) == rows
