"""What the panels show in the cases a review found wrong, each on rows written here.

- ``cfg``: a configuration change and ``driftscope backfill``: every window has the old
  configuration's rows (another fingerprint) beside the new ones; the panels show the
  latest computed row alone.
- ``switch``: logged raw for two windows, then as samples only; each window is read from
  what it has (raw events, else the monitor's checks or the samples).
- ``absent``: events that leave a feature out: it is missing in them.
- ``narrow``: a numeric feature on a narrow range keeps its 20 bins.
- ``nothr``: a row without a threshold has no ratio on the heatmap (as on the lines).
- ``o'brien``: a quote in a model, feature and segment name (Grafana's ``singlequote``).
- ``week``: 7 days of hourly windows: the report's counts per interval do not zig-zag.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dashfill import _insert, _result, filled_database, panel_rows

from driftscope.dashboards import panels_drift, panels_overview, panels_quality
from driftscope.dashboards.build import ALL_VALUES, build
from driftscope.dashboards.macros import ALL, expand, interpolate
from driftscope.dashboards.report import interval_seconds, render
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 6, 1, tzinfo=UTC)
H = timedelta(hours=1)
T1 = T0 + 4 * H
QUOTED = {"model": "o'brien", "feature": "driver's_age", "segment": "city=O'Hare"}
SLASHED = {"feature": "path\\", "segment": "site=c:\\"}
WEEK = 7 * 24


def _event(model: str, i: int, ts: datetime, num: dict[str, float] | None = None,
           cat: dict[str, str] | None = None, null: list[str] | None = None,
           ) -> dict[str, Any]:
    return {"model_id": model, "model_version": "1", "event_id": f"{model}-{i}",
            "timestamp": ts, "features_num": num or {}, "features_cat": cat or {},
            "features_null": null or [], "pred_num": {}, "pred_cat": {}, "pred_probs": {},
            "label": None, "segments": {}, "late": 0, "ingested_at": ts,
            "kafka_partition": 0, "kafka_offset": i}


def _sample(e: dict[str, Any]) -> dict[str, Any]:
    start = e["timestamp"].replace(minute=0, second=0, microsecond=0)
    return {c: v for c, v in e.items() if c in schema.SAMPLES.columns} | {
        "window_start": start, "window_seconds": 3600, "stratum": "", "hash": e["kafka_offset"]}


def _dataset(model: str, events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                                 dict[str, Any]]:
    """Reference rows (uploaded as ``base``) and the ``references`` row."""
    refs = [{c: v for c, v in e.items() if c in schema.REFERENCE_EVENTS.columns}
            | {"reference_name": "base"} for e in events]
    return refs, {"model_id": model, "name": "base", "kind": "dataset", "spec": "{}",
                  "n_rows": len(refs), "created_at": T0 - 24 * H}


def _cfg_rows() -> list[dict[str, Any]]:
    """Windows 0-2, computed first with threshold 1 (``fp-a``, drifted: ratio 2), then
    recomputed by a backfill with threshold 4 (``fp-b``: ratio 0.5, not drifted)."""
    rows = []
    for w in range(3):
        start = T0 + w * H
        for feature, metric in (("age", "emd"), ("multivariate", "mmd")):
            rows.append(_result("cfg", "fp-a", start, "*", feature, metric, 2.0, 1.0))
            rows.append(_result("cfg", "fp-b", start, "*", feature, metric, 2.0, 4.0)
                        | {"computed_at": T0 + 100 * H})
    return rows


def _fill(store: Store) -> None:
    results = _cfg_rows()
    events: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []
    references: list[dict[str, Any]] = []
    # switch: raw in windows 0-1 (10 events, 2 without age each), samples only after;
    # the monitor checked windows 0-3 (0.9 on the sample of 0-1: not shown, raw there)
    raw = [_event("switch", 10 * w + i, T0 + w * H + i * 5 * timedelta(minutes=1),
                  num={} if i < 2 else {"age": 30.0}, cat={"plan": "basic"},
                  null=["age"] if i < 2 else [])
           for w in range(2) for i in range(10)]
    events += raw
    samples += [_sample(e) for e in raw[:5]]  # window 0's sample: a subset of its events
    samples += [_sample(_event("switch", 100 + i, T0 + H + H + i * timedelta(minutes=5),
                               cat={"plan": "premium"})) for i in range(10)]  # window 2
    for w, stat in ((0, 0.9), (1, 0.9), (2, 0.3), (3, 0.3)):
        results.append(_result("switch", "quality", T0 + w * H, "*", "age", "missing_rate",
                               stat, 0.5, "limit") | {"n_cur": 100})
    r, ref = _dataset("switch", [_event("switch", 1000 + i, T0 - 48 * H,
                                        cat={"plan": "basic" if i % 2 else "premium"})
                                 for i in range(100)])
    refs += r
    references.append(ref)
    # absent: age in every event (null in one), plan in the first two only
    events += [_event("absent", i, T0 + i * timedelta(minutes=5),
                      num={} if i == 1 else {"age": 30.0},
                      cat={"plan": "pro"} if i < 2 else {}, null=["age"] if i == 1 else [])
               for i in range(4)]
    # narrow: values 0 … 0.01 (a bin is 0.0005 wide), reference and current alike
    narrow = [_event("narrow", i, T0 + (i % 60) * timedelta(minutes=1),
                     num={"ctr": i * 0.01 / 199}) for i in range(200)]
    events += narrow
    r, ref = _dataset("narrow", narrow)
    refs += r
    references.append(ref)
    # nothr: an infinite threshold, stored as 0 (no threshold)
    results.append(_result("nothr", "fp-perm", T0, "*", "age", "emd", 3.0, 0.0)
                   | {"drifted": 0, "policy": "permutation"})
    # o'brien: quotes in every name
    m, f, seg = QUOTED["model"], QUOTED["feature"], QUOTED["segment"]
    for s in ("*", seg):
        results.append(_result(m, "fp-emd", T0, s, f, "emd", 0.3, 0.2))
        results.append(_result(m, "quality", T0, s, f, "missing_rate", 0.25, 0.5, "limit"))
    quoted = [_event(m, i, T0 + i * timedelta(minutes=5), num={f: float(i)},
                     null=[]) for i in range(10)]
    events += quoted
    r, ref = _dataset(m, quoted)
    refs += r
    references.append(ref)
    # slash: a segment value and a feature name ending in a backslash
    for s in ("*", SLASHED["segment"]):
        results.append(_result("slash", "fp-emd", T0, s, SLASHED["feature"], "emd", 0.3, 0.2))
        results.append(_result("slash", "quality", T0, s, SLASHED["feature"], "missing_rate",
                               0.25, 0.5, "limit"))
    _insert(store, schema.DRIFT_RESULTS, results)
    _insert(store, schema.EVENTS, events)
    _insert(store, schema.SAMPLES, samples)
    _insert(store, schema.REFERENCE_EVENTS, refs)
    _insert(store, schema.REFERENCES, references)
    # week: 100 events per hourly window for 7 days, as the collector counts them
    _insert(store, schema.WINDOW_PARTS, [
        {"model_id": "week", "window_start": T0 + w * H, "window_seconds": 3600,
         "kafka_partition": 0, "first_offset": 100 * w, "last_offset": 100 * w + 99,
         "n": 100, "n_late": 0, "max_event_time": T0 + w * H, "created_at": T0 + (w + 1) * H}
        for w in range(WEEK)])
    _insert(store, schema.WINDOWS, [
        {"model_id": "week", "window_start": T0 + w * H, "window_end": T0 + (w + 1) * H,
         "window_seconds": 3600, "n_events": 100, "n_late": 0, "closed_at": T0 + (w + 1) * H}
        for w in range(WEEK)])


@pytest.fixture(scope="module")
def edges(chdb_dsn: str) -> Iterator[Store]:
    yield from filled_database(chdb_dsn, "edges", _fill)


def _run(store: Store, spec: PanelSpec, model: str, interval: int = 3600,
         **more: list[str]) -> list[dict[str, Any]]:
    """The panel's rows as Grafana gets them (values interpolated as Grafana does)."""
    v = {"model": [model], "monitor": [ALL], "feature": ["age"], "segment": ["all"]} | more
    return panel_rows(store, spec, T0, T1, interval, v)


def _hour(t: datetime) -> int:
    return int((t.replace(tzinfo=UTC) - T0) / H)


# -- 1. after a configuration change and a backfill: the latest computed rows only ------

@pytest.mark.parametrize("fn", [panels_drift.drift_statistic, panels_drift.projection_drift])
def test_drift_lines_show_the_backfilled_configuration_only(edges: Store, fn: Any) -> None:
    rows = _run(edges, fn(), "cfg")
    assert [(_hour(r["time"]), r["ratio"]) for r in rows] == [
        (0, 0.5), (1, 0.5), (2, 0.5)]  # 2 / 4, not the old 2 / 1


def test_heatmap_shows_the_backfilled_configuration_only(edges: Store) -> None:
    rows = _run(edges, panels_drift.drift_heatmap(), "cfg")
    assert [(_hour(r["time"]), r["feature"], r["ratio"]) for r in rows] == [
        (0, "age", 0.5), (1, "age", 0.5), (2, "age", 0.5)]


def test_latest_verdict_is_the_backfilled_row(edges: Store) -> None:
    rows = _run(edges, panels_drift.drifted_features(), "cfg")
    assert [(r["feature"], r["segment"], r["metric"], r["statistic"], r["threshold"],
             r["drifted"], _hour(r["last_window"])) for r in rows] == [
        ("age", "all", "emd", 2.0, 4.0, 0, 2)]


def test_drift_status_counts_each_check_once(edges: Store) -> None:
    spec = panels_overview.drift_status()
    cols, rows = edges.query_columns(expand(spec.sql, T0, T1, 3600,
                                            {"model": ["cfg"], "monitor": [ALL]},
                                            all_values=ALL_VALUES))
    got = [dict(zip(cols, r, strict=True)) for r in rows]
    assert [(r["model"], _hour(r["last_window"]), r["drifted_checks"], r["checks"],
             r["max_severity"]) for r in got] == [("cfg", 2, 0, 2, 0.5)]  # emd and mmd


def test_report_shows_the_backfilled_configuration_only(edges: Store) -> None:
    html = render(edges, "cfg", T0, T1)
    heatmap = html.split('id="panel-drift_heatmap"')[1].split("</section>")[0]
    cells = re.findall(r"<title>age [^<]*: ([^<]*)</title>", heatmap)
    assert cells == ["0.5", "0.5", "0.5"]


# -- 2. raw events in some windows, samples or the monitor's checks in the others -------

def test_missing_rate_reads_each_window_from_what_it_has(edges: Store) -> None:
    rows = _run(edges, panels_quality.missing_rate(), "switch")
    assert {(_hour(r["time"]), r["feature"]): r["missing_rate"] for r in rows} == (
        pytest.approx({(0, "age"): 0.2, (1, "age"): 0.2, (2, "age"): 0.3, (3, "age"): 0.3}))
    # a 3 h interval holds two raw windows (4 missing of 20) and a checked one (0.3 of 100)
    rows = _run(edges, panels_quality.missing_rate(), "switch", 3 * 3600)
    assert {_hour(r["time"]): r["missing_rate"] for r in rows} == pytest.approx(
        {0: (4 + 30) / 120, 3: 0.3})


def test_reference_vs_current_reads_the_samples_of_windows_without_raw(edges: Store) -> None:
    rows = _run(edges, panels_drift.reference_vs_current(), "switch", feature=["plan"])
    # 20 raw events (basic) of windows 0-1, not window 0's sample; window 2's sample (premium)
    assert [(r["bin"], r["current"]) for r in rows] == [
        ("basic", pytest.approx(20 / 30)), ("premium", pytest.approx(10 / 30))]


# -- 3. an event that leaves a feature out -------------------------------------------------

def test_missing_rate_counts_events_that_leave_the_feature_out(edges: Store) -> None:
    rows = _run(edges, panels_quality.missing_rate(), "absent", feature=["age", "plan"])
    assert {r["feature"]: r["missing_rate"] for r in rows} == {"age": 0.25, "plan": 0.5}


# -- 4. the report's interval ----------------------------------------------------------------

def test_report_interval_is_a_whole_number_of_windows() -> None:
    week = T0 + WEEK * H
    assert interval_seconds(T0, week, 3600) == 7200  # 5040 s a point: 2 h
    assert interval_seconds(T0, T0 + 24 * H, 3600) == 900  # 720 s: 15 min (windows whole)
    assert interval_seconds(T0, T0 + 24 * H) == 900
    assert interval_seconds(T0, week, 4200) == 8400  # 2 h is no multiple of 70 min


def test_report_event_volume_is_flat_for_a_steady_model(edges: Store) -> None:
    html = render(edges, "week", T0, T0 + WEEK * H)
    panel = html.split('id="panel-event_volume"')[1].split("</section>")[0]
    (points,) = re.findall(r'<polyline[^>]* points="([^"]*)"', panel)
    heights = {p.split(",")[1] for p in points.split()}
    assert len(points.split()) == WEEK // 2 and len(heights) == 1, heights  # 200 a point


# -- 5. the heatmap's colours and ratio ------------------------------------------------------

def test_heatmap_colour_scale_is_anchored_at_the_threshold() -> None:
    (heat,) = [p for p in build("model_drift")["panels"] if p["type"] == "heatmap"]
    colour = heat["options"]["color"]
    assert (colour["min"], colour["max"], colour["scale"], colour["mode"]) == (
        0.0, 2.0, "linear", "scheme")  # 1, the threshold, mid-scale


def test_heatmap_has_no_ratio_without_a_threshold(edges: Store) -> None:
    heat = _run(edges, panels_drift.drift_heatmap(), "nothr")
    lines = _run(edges, panels_drift.drift_statistic(), "nothr")
    assert [r["ratio"] for r in heat] == [None] == [r["ratio"] for r in lines]


# -- 6. numeric bins on a narrow range -------------------------------------------------------

def test_reference_vs_current_keeps_20_bins_on_a_narrow_range(edges: Store) -> None:
    rows = _run(edges, panels_drift.reference_vs_current(), "narrow", feature=["ctr"])
    starts = [float(r["bin"]) for r in rows]
    assert len(rows) == 20 and starts == sorted(set(starts))
    assert starts[:3] == pytest.approx([0.0, 0.0005, 0.001])
    assert all(r["reference"] == pytest.approx(0.05) == r["current"] for r in rows)


# -- 7. quotes in names ------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [panels_drift.drift_statistic, panels_drift.drift_heatmap,
                                panels_drift.drifted_features,
                                panels_drift.reference_vs_current,
                                panels_quality.missing_rate, panels_quality.quality_checks])
def test_a_quote_in_a_name_is_a_name(edges: Store, fn: Any) -> None:
    rows = _run(edges, fn(), QUOTED["model"], feature=[QUOTED["feature"]],
                segment=["all", QUOTED["segment"]])
    assert rows, fn.__name__


def test_singlequote_is_grafanas() -> None:
    """Grafana's ``singlequote`` escapes a quote as ``\\'`` and leaves a backslash as it
    is (its formatRegistry); the report (``escape=True``) escapes backslashes too."""
    v = {"f": ["a\\b", "c'd"]}
    assert interpolate("${f:singlequote}", v) == "'a\\b','c\\'d'"
    assert interpolate("${f:singlequote}", v, escape=True) == "'a\\\\b','c\\'d'"


@pytest.mark.parametrize("fn", [panels_drift.drift_statistic, panels_drift.drift_heatmap,
                                panels_drift.drifted_features, panels_quality.quality_checks])
def test_a_backslash_at_the_end_of_a_name_is_a_name(edges: Store, fn: Any) -> None:
    """Grafana quotes the variable's value, not its text; the value has each backslash
    doubled. Before, `site=c:\\` under *All* ended the string literal: a syntax error on
    five panels, and the rest of the value read as SQL."""
    from driftscope.dashboards.build import variable_queries

    def options(name: str, **chosen: list[str]) -> list[tuple[str, str]]:
        sql = expand(variable_queries()[name], T0, T1, 60,
                     {"model": ["slash"], "monitor": [ALL]} | chosen, all_values=ALL_VALUES)
        return [(str(v), str(t)) for v, t in edges.query(sql)]

    segments, features = options("segment"), options("feature")
    assert ("site=c:\\\\", SLASHED["segment"]) in segments  # (value, text)
    assert features == [("path\\\\", SLASHED["feature"])]
    rows = _run(edges, fn(), "slash", feature=[v for v, _ in features],
                segment=[v for v, _ in segments])
    assert rows, fn.__name__
