"""``driftscope report``: the dashboards' panels for one model as one offline HTML file.

The report runs each panel's own SQL (macros expanded as the Grafana plugin would, see
:mod:`driftscope.dashboards.macros`) against the store and draws it as inline SVG: no
Grafana, no network, no script or style from outside the file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from driftscope.dashboards import svg
from driftscope.dashboards.build import DASHBOARDS, panel_specs, variable_queries
from driftscope.dashboards.conventions import FEATURE_VAR, MODEL_VAR, MONITOR_VAR, SEGMENT_VAR
from driftscope.dashboards.macros import expand
from driftscope.dashboards.spec import PanelSpec
from driftscope.durations import parse_duration
from driftscope.errors import ConfigError
from driftscope.store import schema
from driftscope.store.clickhouse import Store

ORDER = ("model_drift", "performance", "data_quality", "alerts", "overview", "collector")
POINTS = 120
W = schema.WINDOWS
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600,
         6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 30 * 86400, 365 * 86400)
"""Interval steps in seconds, as Grafana rounds ``$__interval`` (1s … 30m, 1h, 2h, 3h,
6h, 12h, 1d, 2d, 1w, 30d, 1y)."""

_STYLE = """body{font-family:sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-top:8px}
section.panel{display:inline-block;vertical-align:top;margin:8px 16px 16px 0}
h3{font-size:13px;margin:4px 0}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ddd;padding:2px 6px}.stat{font-size:36px;font-weight:bold}
p.desc{font-size:11px;color:#666;margin:0 0 4px 0;max-width:720px}"""
_SCRIPT = """window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
document.addEventListener('DOMContentLoaded', function () {
  var n = document.querySelectorAll('svg').length;
  document.body.setAttribute('data-svg-count', String(n));
  document.body.setAttribute('data-js-errors', String(window.__errors.length));
});"""


def parse_since(text: str, now: datetime, option: str = "--since") -> datetime:
    """``7d``, ``24h``, ``30m`` … before ``now``, or an ISO date/time (UTC if naive);
    a ValueError naming ``option`` if neither."""
    if text.strip()[-1:] in ("s", "m", "h", "d", "w"):
        try:
            return now - parse_duration(text)
        except ValueError:
            pass
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{option} {text!r}: expected 30m, 24h, 7d, 2w or an ISO date") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def interval_seconds(t0: datetime, t1: datetime, window_s: int | None = None) -> int:
    """The interval of the report's panels: the smallest step of :data:`STEPS` that gives
    at most :data:`POINTS` intervals over ``t0`` … ``t1``, raised to a multiple of the
    model's window (``window_s``) when longer than it, so that every interval holds whole
    windows (counts per interval do not alternate between one window and two).

    >>> from datetime import timedelta
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> week = t0 + timedelta(days=7)  # 5040 s per point: 2h, a multiple of a 40 min window
    >>> interval_seconds(t0, week), interval_seconds(t0, week, 2400)
    (7200, 7200)
    >>> interval_seconds(t0, week, 4200)  # a 70 min window: two per interval
    8400
    """
    raw = (t1 - t0).total_seconds() / POINTS
    step = next((s for s in STEPS if s >= raw), STEPS[-1] * math.ceil(raw / STEPS[-1]))
    if window_s and step > window_s and step % window_s:
        step = window_s * math.ceil(step / window_s)
    return step


def _window_seconds(store: Store, model: str) -> int | None:
    """The model's window (the collector's), or None when it has no window."""
    rows = store.query(f"SELECT max({W.window_seconds}) FROM {W} "
                       f"WHERE {W.model_id} = {{m:String}}", {"m": model})
    return int(rows[0][0]) if rows and rows[0][0] else None


def _values(store: Store, name: str, base: dict[str, list[str]], t0: datetime,
            t1: datetime) -> list[str]:
    rows = store.query(expand(variable_queries()[name], t0, t1, 60, base, escape=True))
    return sorted(str(r[1]) for r in rows)  # (the text: the report escapes values itself)


TABLE_ROWS = 50
"""Rows a table of the report shows; it says how many more there were."""


def _render(spec: PanelSpec, columns: Sequence[str], rows: Sequence[Any]) -> str:
    if not rows and spec.no_value:
        return svg.empty(spec.no_value)
    if spec.kind == "timeseries":
        return svg.line_chart(columns, rows, spec.threshold_line, spec.unit)
    if spec.kind == "heatmap":
        return svg.heatmap(columns, rows)
    if spec.kind == "barchart":
        return svg.bar_chart(columns, rows)
    if spec.kind == "stat" and rows and not spec.each_row:  # (each_row: a table)
        return f'<div class="stat">{escape(_cell(rows[0][0], spec.unit))}</div>'
    if not rows:
        return svg.empty()
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in r) + "</tr>"
                   for r in rows[:TABLE_ROWS])
    more = (f'<p class="desc">the first {TABLE_ROWS} of {len(rows)} rows</p>'
            if len(rows) > TABLE_ROWS else "")  # (the rest was cut without a word)
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _cell(v: Any, unit: str | None = None) -> str:
    """A table cell or stat: a number in the panel's unit (a stat's; a table's columns
    are mixed: plain), a time in UTC (:func:`svg.when`)."""
    if isinstance(v, float) and unit in svg.UNITS:
        return svg.in_unit(v, unit)
    return f"{v:.4g}" if isinstance(v, float) else svg.when(v)


def _panel(store: Store, spec: PanelSpec, variables: dict[str, list[str]], t0: datetime,
           t1: datetime, interval: int) -> str:
    columns, rows = store.query_columns(
        expand(spec.sql, t0, t1, interval, variables, escape=True))
    title = spec.title.replace("${feature}", variables.get(FEATURE_VAR, [""])[0])
    return (f'<section class="panel" id="panel-{escape(spec.key)}"><h3>{escape(title)}</h3>'
            f'<p class="desc">{escape(spec.description)}</p>{_render(spec, columns, rows)}'
            "</section>")


def render(store: Store, model: str, since: datetime, until: datetime) -> str:
    """The whole report as an HTML string."""
    # Every monitor of the model, listed (as Grafana expands All): with several, each
    # line's name starts with its monitor, as on the dashboards.
    monitors = _values(store, MONITOR_VAR, {MODEL_VAR: [model]}, since, until) or [""]
    base = {MODEL_VAR: [model], MONITOR_VAR: monitors}
    features = _values(store, FEATURE_VAR, base, since, until) or [""]
    segments = _values(store, SEGMENT_VAR, base, since, until) or ["all"]
    variables = base | {FEATURE_VAR: features, SEGMENT_VAR: segments}
    interval = interval_seconds(since, until, _window_seconds(store, model))
    parts = []
    for key in ORDER:
        parts.append(f"<h2>{escape(DASHBOARDS[key].title)}</h2>")
        for spec in panel_specs(key):
            if spec.repeat == FEATURE_VAR:
                for f in features:
                    one = variables | {FEATURE_VAR: [f]}
                    parts.append(_panel(store, replace(spec, key=f"{spec.key}-{f}"), one,
                                        since, until, interval))
            else:
                parts.append(_panel(store, spec, variables, since, until, interval))
    title = f"Driftscope report: {model}"
    # (in UTC, as the panels: `--until 12:00+05:00` was written "12:00 UTC")
    span = f"{since.astimezone(UTC):%Y-%m-%d %H:%M} – {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f"{escape(title)}</title><style>{_STYLE}</style><script>{_SCRIPT}</script>"
            f"</head><body><h1>{escape(title)}</h1><p>{escape(span)}; monitors: "
            f"{escape(', '.join(monitors))}; features: "
            f"{escape(', '.join(features))}</p>{''.join(parts)}</body></html>\n")


def write_report(store: Store, model: str, since: datetime, until: datetime,
                 path: Path) -> Path:
    """Write the report; returns its path. A path that cannot be written is a one-line
    :class:`ConfigError` (a store that cannot be read is its own error, not this one)."""
    text = render(store, model, since, until)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
