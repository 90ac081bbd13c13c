"""What the panels show is right, not only well-formed: each test writes a few known rows
into a real chDB store and checks the numbers a panel's own SQL returns.

Segments: a time-series line comes from one ``drift_results`` row (a statistic is never
drawn against another segment's threshold), and the whole population (``all``) is always
one of the lines. Reference vs current: the latest uploaded reference dataset only, and
nothing for a model without one. Label coverage: a label counts for the event it labels.
Dead-letter rate: dead letters and events both counted when they arrived. Overview and
Alerts: filtered by the selected model(s), everything under *All*.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dashfill import _insert, _result, filled_database, window_parts

from driftscope.dashboards import panels_drift, panels_overview, panels_quality
from driftscope.dashboards.build import ALL_VALUES
from driftscope.dashboards.macros import ALL, expand
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)
T1 = T0 + 4 * H
SEGMENTS = ["all", "region=central", "region=north"]
SERIES = re.compile(r"(?P<name>.+) \((?P<segment>[^()]+)\)")

# (window, segment) -> (statistic, threshold): the reviewer's 14:00 window first; a
# max over segments pairs 0.1654 with 0.2368 (two different rows) and hides the drift.
DRIFT = {
    (0, "*"): (0.119, 0.0672), (0, "region=central"): (0.1313, 0.2368),
    (0, "region=north"): (0.1654, 0.1263),
    (1, "*"): (0.05, 0.07), (1, "region=central"): (0.2, 0.1), (1, "region=north"): (0.03, 0.2),
}
# accuracy: overall 0.7 (band 0.6); the best segment's value and the highest band differ.
PERF = {(0, "*"): (0.7, 0.6), (0, "region=central"): (0.9, 0.55),
        (0, "region=north"): (0.5, 0.8),
        (1, "*"): (0.72, 0.6), (1, "region=central"): (0.95, 0.5),
        (1, "region=north"): (0.4, 0.85)}
MODEL = "seg"


def _label(segment: str) -> str:
    return "all" if segment == "*" else segment


def _event(model: str, i: int, ts: datetime, *, age: float | None = None,
           plan: str | None = None, label: str | None = None,
           ingested: datetime | None = None) -> dict[str, Any]:
    return {"model_id": model, "model_version": "1", "event_id": f"{model}-{i}",
            "timestamp": ts, "features_num": {} if age is None else {"age": age},
            "features_cat": {} if plan is None else {"plan": plan}, "features_null": [],
            "pred_num": {}, "pred_cat": {}, "pred_probs": {}, "label": label,
            "segments": {}, "late": 0, "ingested_at": ingested or ts,
            "kafka_partition": 0, "kafka_offset": i}


def _drift_rows() -> list[dict[str, Any]]:
    rows = []
    for (w, seg), (stat, thr) in DRIFT.items():
        start = T0 + w * H
        rows.append(_result(MODEL, "fp-emd", start, seg, "age", "emd", stat, thr))
        rows.append(_result(MODEL, "fp-mmd", start, seg, "multivariate", "mmd", stat, thr))
        rows.append(_result(MODEL, "fp-emd", start, seg, "output:score", "emd", stat, thr))
        rows.append(_result(MODEL, "quality", start, seg, "age", "missing_rate", stat, thr,
                            "limit"))
    for (w, seg), (value, band) in PERF.items():
        rows.append(_result(MODEL, "performance", T0 + w * H, seg, "*", "accuracy", value,
                            band, "band"))
        rows.append(_result(MODEL, "performance", T0 + w * H, seg, "*", "f1", value / 2,
                            0.0, "none"))  # no threshold
    return rows


def _reference(name: str, ages: list[float], plan: str) -> list[dict[str, Any]]:
    cols = schema.REFERENCE_EVENTS.columns
    return [{c: v for c, v in _event("refd", i, T0 - 48 * H, age=a, plan=plan).items()
             if c in cols} | {"reference_name": name, "event_id": f"{name}-{i}"}
            for i, a in enumerate(ages)]


def _fill(store: Store) -> None:
    _insert(store, schema.DRIFT_RESULTS, _drift_rows())
    # Reference datasets: "old" uploaded first (ages 100..199, premium), "new" last
    # (ages 0..99, basic) and like the current events; "noref" has events only.
    _insert(store, schema.REFERENCE_EVENTS,
            _reference("old", [100.0 + i for i in range(100)], "premium")
            + _reference("new", [float(i) for i in range(100)], "basic"))
    _insert(store, schema.REFERENCES, [
        {"model_id": "refd", "name": name, "kind": "dataset", "spec": "{}", "n_rows": 100,
         "created_at": T0 - k * H} for name, k in (("old", 30), ("new", 20))])
    events = [_event("refd", i, T0 + i * H / 100, age=float(i), plan="basic")
              for i in range(100)]
    events += [_event("noref", i, T0 + i * H / 100, age=float(i), plan="basic")
               for i in range(100)]
    # Label coverage: 10 unlabelled events per hour; feedback for every event of the
    # first hour arrives in the third (twice for one event); one inline label in hour 3.
    lab = [_event("lab", 10 * h + i, T0 + h * H + i * timedelta(minutes=5),
                  label="1" if (h, i) == (3, 0) else None)
           for h in range(4) for i in range(10)]
    events += lab
    feedback = [{"model_id": "lab", "event_id": e["event_id"], "label": "1",
                 "timestamp": T0 + 2 * H + timedelta(minutes=30 + k),
                 "ingested_at": T0 + 2 * H + timedelta(minutes=31 + k),
                 "kafka_partition": 0, "kafka_offset": k}
                for k, e in enumerate(lab[:10] + lab[:1])]
    # Dead letters: 9 events of January sent (replayed) on 1 March, 1 dead letter then.
    events += [_event("dl", i, datetime(2026, 1, 1, 5, tzinfo=UTC),
                      ingested=T0 + timedelta(minutes=10)) for i in range(9)]
    dead = [{"topic": "t", "kafka_partition": 0, "kafka_offset": 1, "model_id": "dl",
             "reason": "schema", "error": "bad", "raw": "{}", "raw_size": 2,
             "received_at": T0 + timedelta(minutes=12)}]
    _insert(store, schema.EVENTS, events)
    _insert(store, schema.WINDOW_PARTS, window_parts(events, H))  # as the collector counts them
    _insert(store, schema.FEEDBACK, feedback)
    _insert(store, schema.DEAD_LETTERS, dead)
    _insert(store, schema.ALERTS, [
        {"alert_id": f"{m}-{k}", "model_id": m, "monitor": "x", "window_start": T0,
         "rule": "feature_drift", "state": "firing", "severity": 1.0, "summary": "s",
         "details": "{}", "created_at": T0 + H, "updated_at": T0 + H}
        for m, n in (("seg", 1), ("refd", 2)) for k in range(n)])


@pytest.fixture(scope="module")
def crafted(chdb_dsn: str) -> Iterator[Store]:
    yield from filled_database(chdb_dsn, "sem", _fill)


def _run(store: Store, spec: PanelSpec, variables: dict[str, list[str]],
         t0: datetime = T0, t1: datetime = T1) -> list[dict[str, Any]]:
    cols, rows = store.query_columns(expand(spec.sql, t0, t1, 3600, variables,
                                            all_values=ALL_VALUES))
    assert tuple(cols) == spec.columns or not rows, spec.key  # (chDB: no names when empty)
    return [dict(zip(cols, r, strict=True)) for r in rows]


def _vars(model: str = MODEL, **more: list[str]) -> dict[str, list[str]]:
    return {"model": [model], "monitor": [ALL], "feature": ["age"], "segment": SEGMENTS} | more


def _window(t: datetime) -> int:
    return int((t.replace(tzinfo=UTC) - T0) / H)


@pytest.mark.parametrize("fn", [panels_drift.drift_statistic, panels_drift.projection_drift])
def test_drift_lines_belong_to_one_row(crafted: Store, fn: Any) -> None:
    rows = _run(crafted, fn(), _vars())
    seen = set()
    for r in rows:
        m = SERIES.fullmatch(r["series"])
        assert m, r["series"]
        seg = "*" if m["segment"] == "all" else m["segment"]
        stat, thr = DRIFT[(_window(r["time"]), seg)]
        assert r["ratio"] == pytest.approx(stat / thr), r
        seen.add((_window(r["time"]), m["segment"]))
    assert seen == {(w, _label(s)) for w, s in DRIFT}, "one line per segment, all included"
    overall = [r for r in rows if r["series"].endswith("(all)") and _window(r["time"]) == 0]
    assert len(overall) == 1 and overall[0]["ratio"] > 1, "the overall drift at 0 shows"
    assert fn().threshold_line == 1.0


@pytest.mark.parametrize("fn", [panels_quality.quality_checks, panels_quality.performance,
                                panels_quality.performance_proxy])
def test_value_and_threshold_come_from_one_row(crafted: Store, fn: Any) -> None:
    rows = _run(crafted, fn(), _vars())
    assert rows
    stored = {(r["window_start"], r["segment"], r["metric"]): r for r in _drift_rows()}
    for r in rows:
        m = SERIES.fullmatch(r["series"])
        assert m, r["series"]
        seg = "*" if m["segment"] == "all" else m["segment"]
        metric = m["name"].split(" ")[0]
        row = stored[(r["time"].replace(tzinfo=UTC), seg, metric)]
        assert r["value"] == pytest.approx(row["statistic"]), r
        expected = None if row["policy"] == "none" else row["threshold"]
        assert r["threshold"] == (pytest.approx(expected) if expected is not None else None), r
    assert {SERIES.fullmatch(r["series"])["segment"] for r in rows} == set(SEGMENTS)


def test_performance_shows_the_overall_value_not_the_best_segment(crafted: Store) -> None:
    rows = _run(crafted, panels_quality.performance(), _vars())
    overall = {_window(r["time"]): (r["value"], r["threshold"]) for r in rows
               if r["series"] == "accuracy (all)"}
    assert overall == {0: pytest.approx((0.7, 0.6)), 1: pytest.approx((0.72, 0.6))}
    only = _run(crafted, panels_quality.performance(), _vars(segment=["all"]))
    assert {r["series"] for r in only} == {"accuracy (all)", "f1 (all)"}


def test_latest_verdict_has_one_row_per_segment(crafted: Store) -> None:
    rows = _run(crafted, panels_drift.drifted_features(), _vars())
    got = {(r["feature"], r["metric"], r["segment"]): r for r in rows}
    assert set(got) == {("age", "emd", s) for s in SEGMENTS}
    for (w, seg), (stat, thr) in DRIFT.items():
        if w == 1:  # the latest window
            r = got[("age", "emd", _label(seg))]
            assert (r["statistic"], r["threshold"]) == pytest.approx((stat, thr))
            assert r["drifted"] == int(stat > thr)
    assert rows[0]["drifted"] == 1, "drifted rows first"


def test_reference_vs_current_uses_the_latest_uploaded_dataset(crafted: Store) -> None:
    rows = _run(crafted, panels_drift.reference_vs_current(), _vars("refd"))
    assert len(rows) == 20, [r["bin"] for r in rows]  # 20 bins over 0..99 ("new" only)
    for r in rows:  # "new" and the current events hold the same 100 values
        assert r["reference"] == pytest.approx(r["current"]), r
    assert sum(r["reference"] for r in rows) == pytest.approx(1.0)
    assert float(rows[0]["bin"]) == 0.0 and float(rows[-1]["bin"]) < 99
    cats = _run(crafted, panels_drift.reference_vs_current(), _vars("refd", feature=["plan"]))
    assert [(r["bin"], r["reference"], r["current"]) for r in cats] == [("basic", 1.0, 1.0)]


def test_reference_vs_current_is_empty_without_an_uploaded_dataset(crafted: Store) -> None:
    spec = panels_drift.reference_vs_current()
    assert _run(crafted, spec, _vars("noref")) == []
    assert _run(crafted, spec, _vars("noref", feature=["plan"])) == []
    assert spec.no_value and "reference" in spec.no_value


def test_label_coverage_counts_feedback_for_the_event_it_labels(crafted: Store) -> None:
    rows = _run(crafted, panels_quality.label_coverage(), _vars("lab"))
    assert {_window(r["time"]): r["label_coverage"] for r in rows} == pytest.approx(
        {0: 1.0, 1: 0.0, 2: 0.0, 3: 0.1})


def test_dead_letter_rate_counts_events_when_they_arrived(crafted: Store) -> None:
    rows = _run(crafted, panels_overview.dead_letter_rate(), {"model": ["dl"]})
    assert [(_window(r["time"]), r["dead_letter_rate"]) for r in rows] == [
        (0, pytest.approx(0.1))]  # 1 of the 10 messages received in that hour


def _overview(store: Store, fn: Any, models: list[str]) -> list[dict[str, Any]]:
    spec = fn()
    v = {"model": models, "monitor": [ALL]}
    cols, rows = store.query_columns(expand(spec.sql, T0, T1, 3600, v, all_values=ALL_VALUES))
    return [dict(zip(cols, r, strict=True)) for r in rows]


def test_overview_and_alerts_filter_by_model(crafted: Store) -> None:
    def run(fn: Any, model: str) -> list[dict[str, Any]]:
        return _overview(crafted, fn, [model])

    assert run(panels_overview.open_alerts, "seg") == [{"open_alerts": 1}]
    assert run(panels_overview.open_alerts, "refd") == [{"open_alerts": 2}]
    assert {r["model"] for r in run(panels_overview.event_volume, "lab")} == {"lab"}
    assert run(panels_overview.drift_status, "refd") == []
    assert {r["model"] for r in run(panels_overview.alert_timeline, "refd")} == {"refd"}
    assert sum(r["alerts"] for r in run(panels_overview.alerts_over_time, "seg")) == 1
    assert run(panels_overview.dead_letter_rate, "lab") != run(
        panels_overview.dead_letter_rate, "dl")


def test_overview_and_alerts_show_every_model_under_all(crafted: Store) -> None:
    def run(fn: Any) -> list[dict[str, Any]]:
        return _overview(crafted, fn, [ALL])

    assert run(panels_overview.open_alerts) == [{"open_alerts": 3}]
    assert {r["model"] for r in run(panels_overview.event_volume)} == {
        "refd", "noref", "lab"}  # (the "dl" events are from January)
    assert {r["model"] for r in run(panels_overview.drift_status)} == {MODEL}
    assert len(run(panels_overview.alert_timeline)) == 3
