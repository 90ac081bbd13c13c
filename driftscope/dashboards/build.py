"""The six dashboards, built with grafana-foundation-sdk, and their sorted JSON.

Examples
--------
>>> sorted(DASHBOARDS)[:2]
['alerts', 'collector']
>>> build("overview")["uid"]
'driftscope-overview'
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as dm

from driftscope.dashboards import panels_collector, panels_drift, panels_overview, panels_quality
from driftscope.dashboards.conventions import (
    ALL_MODELS,
    ALL_MONITORS,
    FEATURE_VAR,
    MODEL_VAR,
    MONITOR_VAR,
    SEGMENT_VAR,
    feature_drift,
    model_in,
    model_is,
    monitor_in,
    segment_label,
)
from driftscope.dashboards.macros import ALL
from driftscope.dashboards.panels_overview import AnnotationSpec
from driftscope.dashboards.query import ClickHouseQuery, datasource_ref
from driftscope.dashboards.spec import PanelSpec, layout, to_panel
from driftscope.store import schema

D = schema.DRIFT_RESULTS
W = schema.WINDOWS
MONITOR_TABLES = (schema.DRIFT_RESULTS, schema.MONITOR_WINDOWS, schema.ALERTS)
"""The tables with a ``monitor`` column the Monitor variable lists monitors from."""
TAG = "driftscope"
PanelFn = Callable[[], PanelSpec]
ALL_VALUES = {MODEL_VAR: ALL_MODELS, MONITOR_VAR: ALL_MONITORS}
"""Custom *All* values, for :func:`driftscope.dashboards.macros.expand`'s ``all_values``."""


@dataclass(frozen=True)
class DashboardSpec:
    """A dashboard: its panels (in order), variables and annotations.

    ``multi_model``: the model variable is multi-valued with *All* (the default), for
    dashboards about every model; elsewhere it picks one model.
    """

    key: str
    title: str
    description: str
    panels: tuple[PanelFn, ...]
    variables: tuple[str, ...] = ()
    annotations: tuple[Callable[[], AnnotationSpec], ...] = ()
    multi_model: bool = False

    @property
    def uid(self) -> str:
        """Stable uid: pushing again updates in place."""
        return f"driftscope-{self.key.replace('_', '-')}"


def variable_queries() -> dict[str, str]:
    """SQL of each template variable (run by Grafana through the plugin): two columns, the
    option's value and its text (:func:`_options`)."""
    return {name: _options(sql) for name, sql in {
        MODEL_VAR: f"SELECT DISTINCT {W.model_id} AS v FROM {W} "
        f"UNION DISTINCT SELECT DISTINCT {D.model_id} AS v FROM {D}",
        MONITOR_VAR: "SELECT DISTINCT monitor AS v FROM (" + " UNION DISTINCT ".join(
            f"SELECT DISTINCT {t.monitor} AS monitor FROM {t} WHERE {model_in(t.model_id)}"
            for t in MONITOR_TABLES) + ")",
        FEATURE_VAR: f"SELECT DISTINCT {D.feature} AS v FROM {D} WHERE "
        f"{model_is(D.model_id)} AND {monitor_in()} AND {feature_drift()}",
        SEGMENT_VAR: f"SELECT DISTINCT {segment_label()} AS v FROM {D} "
        f"WHERE {model_is(D.model_id)} AND {monitor_in()}",
    }.items()}


def _options(sql: str) -> str:
    """A variable's query (its column ``v``) as the plugin's two columns: the value, each
    backslash doubled, and the text as it is. Grafana's ``singlequote`` escapes a quote
    and leaves a backslash: a segment value ending in one (``site=c:\\``, from a
    producer's events) ended the panels' string literals there, and five panels of the
    default *All* failed with a syntax error (its text read as SQL)."""
    return (f"SELECT replaceAll(v, '\\\\', '\\\\\\\\') AS value, v AS text "
            f"FROM ({sql}) ORDER BY text")


def _variable(name: str, multi_model: bool = False) -> dash.QueryVariable:
    v = (
        dash.QueryVariable(name)
        .label(name.capitalize())
        .datasource(datasource_ref())
        .query(variable_queries()[name])
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
    )
    if name == MONITOR_VAR:  # All by default: every monitor, each named on its lines
        v = (v.multi(True).include_all(True).all_value(ALL_VALUES[name])
             .current(dm.VariableOption(text=["All"], value=[ALL])))
    elif name != MODEL_VAR:
        v = v.multi(True).include_all(True)
    elif multi_model:
        v = (v.multi(True).include_all(True).all_value(ALL_VALUES[name])
             .current(dm.VariableOption(text=["All"], value=[ALL])))
    return v


class _AnnotationTarget(dm.AnnotationTarget):
    """The SDK types annotation targets for the built-in source only; this one carries SQL."""

    def __init__(self, query: ClickHouseQuery) -> None:
        super().__init__()
        self.query = query

    def to_json(self) -> dict[str, object]:
        return self.query.to_json()


class _Target(cogbuilder.Builder[dm.AnnotationTarget]):
    def __init__(self, sql: str) -> None:
        self._t = _AnnotationTarget(ClickHouseQuery(raw_sql=sql, ref_id="Anno"))

    def build(self) -> dm.AnnotationTarget:
        return self._t


def _annotation(spec: AnnotationSpec) -> dash.AnnotationQuery:
    return (
        dash.AnnotationQuery()
        .name(spec.name)
        .datasource(datasource_ref())
        .enable(True)
        .icon_color(spec.color)
        .target(_Target(spec.sql))
    )


_COMMON = (MODEL_VAR, MONITOR_VAR, FEATURE_VAR, SEGMENT_VAR)
DASHBOARDS: dict[str, DashboardSpec] = {
    d.key: d
    for d in (
        DashboardSpec("overview", "Driftscope / Overview",
                      "Every model (or those selected): drift status, open alerts, event "
                      "volume, dead letters.",
                      panels_overview.OVERVIEW, (MODEL_VAR, MONITOR_VAR), multi_model=True),
        DashboardSpec("model_drift", "Driftscope / Model drift",
                      "Per feature drift against thresholds, reference vs current, MMD.",
                      panels_drift.PANELS, _COMMON, panels_overview.ANNOTATIONS),
        DashboardSpec("data_quality", "Driftscope / Data quality",
                      "Missing values, quality checks, record counts, rejected events.",
                      panels_quality.QUALITY, _COMMON, panels_overview.ANNOTATIONS),
        DashboardSpec("performance", "Driftscope / Performance",
                      "Labelled metrics with the label-free proxy beside them.",
                      panels_quality.PERFORMANCE, (MODEL_VAR, MONITOR_VAR, SEGMENT_VAR),
                      panels_overview.ANNOTATIONS),
        DashboardSpec("collector", "Driftscope / Collector and system",
                      "Throughput, lag, flush latency and dead letters by reason; whether "
                      "the monitor runs and keeps up.",
                      panels_collector.COLLECTOR),
        DashboardSpec("alerts", "Driftscope / Alerts",
                      "Alert timeline; alerts and retrain requests as annotations.",
                      panels_overview.ALERTS, (MODEL_VAR, MONITOR_VAR),
                      panels_overview.ANNOTATIONS,
                      multi_model=True),
    )
}


def panel_specs(key: str) -> list[PanelSpec]:
    """The panels of one dashboard, as specs."""
    return [fn() for fn in DASHBOARDS[key].panels]


def builder(key: str) -> dash.Dashboard:
    """The SDK builder of one dashboard."""
    spec = DASHBOARDS[key]
    d = (
        dash.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags([TAG])
        .editable()
        .refresh("1m")
        .time("now-24h", "now")
        .timezone("utc")
        .link(dash.DashboardLink("Driftscope").type(dm.DashboardLinkType.DASHBOARDS)
              .tags([TAG]).as_dropdown(True).include_vars(True).keep_time(True))
    )
    for name in spec.variables:
        d = d.with_variable(_variable(name, spec.multi_model))
    for ann in spec.annotations:
        d = d.annotation(_annotation(ann()))
    specs = [fn() for fn in spec.panels]
    for panel, at in zip(specs, layout(specs), strict=True):
        d = d.with_panel(to_panel(panel, at))
    return d


def build(key: str) -> dict[str, Any]:
    """One dashboard's JSON model, as Grafana stores it."""
    out: dict[str, Any] = json.loads(encode(builder(key).build()))
    return out


def encode(obj: Any) -> str:
    """Sorted, indented JSON with a final newline: stable to diff and to commit."""
    return JSONEncoder(sort_keys=True, indent=2).encode(obj) + "\n"


def export(directory: Path) -> list[Path]:
    """Write every dashboard as ``<uid>.json``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for key in sorted(DASHBOARDS):
        path = directory / f"{DASHBOARDS[key].uid}.json"
        path.write_text(encode(builder(key).build()), encoding="utf-8")
        written.append(path)
    return written
