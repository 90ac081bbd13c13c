"""Panels as data, and the house-style factory that turns them into SDK panels.

Each panel function returns a :class:`PanelSpec`: what it shows, its SQL (plugin macros
and ``${variables}`` left in) and the columns that SQL returns. The same spec feeds
Grafana (:func:`to_panel`), the HTML report and the tests that run every SQL.

Examples
--------
>>> s = PanelSpec("demo", "Demo", "stat", "SELECT 1 AS n", ("n",))
>>> to_panel(s).build().type_val
'stat'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from grafana_foundation_sdk.builders import barchart, heatmap, stat, table, timeseries
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models.common import GraphGradientMode

from driftscope.dashboards.query import Query, datasource_ref

Kind = Literal["timeseries", "stat", "table", "heatmap", "barchart"]


@dataclass(frozen=True)
class PanelSpec:
    """One panel: its SQL, what comes back, and how it is drawn.

    ``columns`` are the result's column names in order; ``series`` names the string
    columns that split a long time-series frame into series (Grafana's long-to-wide).
    ``repeat`` names a variable the panel repeats over (one panel per value).
    """

    key: str
    title: str
    kind: Kind
    sql: str
    columns: tuple[str, ...]
    description: str = ""
    unit: str | None = None
    width: int = 12
    height: int = 8
    repeat: str | None = None
    series: tuple[str, ...] = ()
    x_field: str | None = None

    @property
    def time_series(self) -> bool:
        """Whether the target asks the plugin for a time-series frame."""
        return self.kind in ("timeseries", "heatmap")


def _target(spec: PanelSpec) -> Query:
    q = Query().raw_sql(spec.sql).ref_id("A")
    return q.time_series() if spec.time_series else q.table()


def _builder(spec: PanelSpec) -> Any:
    if spec.kind == "timeseries":
        return timeseries.Panel().line_width(2).fill_opacity(10).span_nulls(True)
    if spec.kind == "stat":
        return stat.Panel()
    if spec.kind == "table":
        return table.Panel()
    if spec.kind == "heatmap":
        return heatmap.Panel().calculate(False).cell_gap(1)
    if spec.kind == "barchart":
        b = barchart.Panel().fill_opacity(80).line_width(1).gradient_mode(GraphGradientMode.NONE)
        return b.x_field(spec.x_field) if spec.x_field else b
    raise ValueError(f"unknown panel kind {spec.kind!r}")


def to_panel(spec: PanelSpec) -> cogbuilder.Builder[dm.Panel]:
    """The house style: one data source, one SQL target, fixed sizes, description shown."""
    p = (
        _builder(spec)
        .title(spec.title)
        .description(spec.description or spec.title)
        .datasource(datasource_ref())
        .with_target(_target(spec))
        .span(spec.width)
        .height(spec.height)
    )
    if spec.unit:
        p = p.unit(spec.unit)
    if spec.repeat:
        p = p.repeat(spec.repeat).repeat_direction("h").max_per_row(3)
    built: cogbuilder.Builder[dm.Panel] = p
    return built


def row(title: str) -> dash.Row:
    """A dashboard row."""
    return dash.Row(title)
