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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from grafana_foundation_sdk.builders import barchart, common, heatmap, stat, table, timeseries
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models.common import (
    FieldTextAlignment,
    GraphGradientMode,
    GraphThresholdsStyleMode,
)
from grafana_foundation_sdk.models.heatmap import HeatmapColorMode, HeatmapColorScale

from driftscope.dashboards.query import Query, datasource_ref

Kind = Literal["timeseries", "stat", "table", "heatmap", "barchart"]
GRID = 24
"""Grafana's grid is 24 columns wide."""
REPEAT_PER_ROW = 3
"""Copies of a repeated panel per row."""
THRESHOLD_FIELDS = "/^threshold/"
"""Display names of threshold lines (long-to-wide keeps the column name first)."""
OVERALL_SERIES = "/\\(all\\)/"
"""Display names of whole-population lines (:func:`conventions.series_name`)."""
HEAT_SCHEME = "Oranges"
"""A heatmap's colour scheme (Grafana's default)."""


@dataclass(frozen=True)
class PanelSpec:
    """One panel: its SQL, what comes back, and how it is drawn.

    ``columns`` are the result's column names in order; ``series`` names the string
    columns that split a long time-series frame into series (Grafana's long-to-wide).
    ``repeat`` names a variable the panel repeats over (one panel per value, side by side,
    in rows of their own). ``threshold_line`` draws a fixed dashed threshold (the ratio
    panels' 1); a ``threshold`` column is drawn dashed beside its value. ``by_segment``:
    the series names end with the segment, the whole population's drawn thicker.
    ``no_value`` is the text shown when the query returns nothing. A stat with
    ``each_row`` shows one value per row of the result, named by its string columns (not
    one value reduced from every row); ``red_from`` colours a stat's value green below it
    and red from it. ``color_range`` anchors a heatmap's colour scale (linear, ``(min,
    max)``): a colour means the same value whatever the range shows.
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
    threshold_line: float | None = None
    by_segment: bool = False
    no_value: str | None = None
    each_row: bool = False
    red_from: float | None = None
    color_range: tuple[float, float] | None = None

    @property
    def time_series(self) -> bool:
        """Whether the target asks the plugin for a time-series frame."""
        return self.kind in ("timeseries", "heatmap")


def _target(spec: PanelSpec) -> Query:
    q = Query().raw_sql(spec.sql).ref_id("A")
    return q.time_series() if spec.time_series else q.table()


def _timeseries(spec: PanelSpec) -> Any:
    p = timeseries.Panel().line_width(2).fill_opacity(10).span_nulls(True)
    if spec.by_segment:
        p = p.override_by_regexp(OVERALL_SERIES, [dm.DynamicConfigValue("custom.lineWidth", 4)])
    if "threshold" in spec.columns:
        p = p.override_by_regexp(THRESHOLD_FIELDS, [
            dm.DynamicConfigValue("custom.lineStyle", {"dash": [10, 10], "fill": "dash"}),
            dm.DynamicConfigValue("custom.lineWidth", 1),
            dm.DynamicConfigValue("custom.fillOpacity", 0)])
    if spec.threshold_line is not None:
        p = (p.thresholds(dash.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps([
                dm.Threshold(None, "green"), dm.Threshold(spec.threshold_line, "red")]))
             .thresholds_style(common.GraphThresholdsStyleConfig()
                               .mode(GraphThresholdsStyleMode.DASHED))
             .axis_soft_min(0))
    return p


def _builder(spec: PanelSpec) -> Any:
    if spec.kind == "timeseries":
        return _timeseries(spec)
    if spec.kind == "stat":
        p = stat.Panel()
        if spec.each_row:
            p = p.reduce_options(common.ReduceDataOptions().values(True).calcs(["lastNotNull"]))
        if spec.red_from is not None:
            p = p.thresholds(dash.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps([
                dm.Threshold(None, "green"), dm.Threshold(spec.red_from, "red")]))
        return p
    if spec.kind == "table":  # (Grafana's defaults, written: the JSON reads back the same)
        return table.Panel().align(FieldTextAlignment.AUTO).inspect(False)
    if spec.kind == "heatmap":
        heat = heatmap.Panel().calculate(False).cell_gap(1)
        if spec.color_range is not None:
            lo, hi = spec.color_range
            heat = heat.color(heatmap.HeatmapColorOptions().mode(HeatmapColorMode.SCHEME)
                        .scheme(HEAT_SCHEME).fill("dark-orange").scale(HeatmapColorScale.LINEAR)
                        .exponent(0.5).steps(64).reverse(False).min(lo).max(hi))
        return heat
    if spec.kind == "barchart":
        b = barchart.Panel().fill_opacity(80).line_width(1).gradient_mode(GraphGradientMode.NONE)
        return b.x_field(spec.x_field) if spec.x_field else b
    raise ValueError(f"unknown panel kind {spec.kind!r}")


def layout(specs: Sequence[PanelSpec]) -> list[tuple[int, int]]:
    """Each panel's ``(x, y)``: left to right, a new row when the next would not fit.

    A repeated panel starts a row and keeps it (and the rows its copies wrap into, which
    Grafana makes room for) to itself: Grafana lays its copies from ``x = 0`` across.
    """
    x = y = tallest = 0
    out = []
    for spec in specs:
        if x and (spec.repeat or x + spec.width > GRID):
            x, y, tallest = 0, y + tallest, 0
        out.append((x, y))
        x, tallest = x + spec.width, max(tallest, spec.height)
        if spec.repeat or x >= GRID:
            x, y, tallest = 0, y + tallest, 0
    return out


def to_panel(spec: PanelSpec, at: tuple[int, int] = (0, 0)) -> cogbuilder.Builder[dm.Panel]:
    """The house style: one data source, one SQL target, fixed sizes, description shown;
    ``at`` is the panel's ``(x, y)`` on the grid (see :func:`layout`)."""
    if spec.width > GRID or (spec.repeat and spec.width * REPEAT_PER_ROW > GRID):
        raise ValueError(f"{spec.key}: {spec.width} columns do not fit the grid")
    p = (
        _builder(spec)
        .title(spec.title)
        .description(spec.description or spec.title)
        .datasource(datasource_ref())
        .with_target(_target(spec))
        .grid_pos(dm.GridPos(h=spec.height, w=spec.width, x=at[0], y=at[1]))
    )
    if spec.unit:
        p = p.unit(spec.unit)
    if spec.no_value:
        p = p.no_value(spec.no_value)
    if spec.repeat:
        p = p.repeat(spec.repeat).repeat_direction("h").max_per_row(REPEAT_PER_ROW)
    built: cogbuilder.Builder[dm.Panel] = p
    return built


def row(title: str) -> dash.Row:
    """A dashboard row."""
    return dash.Row(title)
