"""What the panels show where the dashboards review (session 26) found them disagreeing
with the monitor or the data, each on rows written here:

- ``zero``: a column constant in the reference moved (threshold 0, drifted: the monitor
  alerted) — drawn at 10 on the heatmap and its line, not a blank cell; a test past its
  threshold that the false-discovery control did not keep is at most 1 on the heatmap and
  not counted by Drift status.
- ``long``: an alert firing since before the range is listed in the Alerts table.
- ``five``: 5-minute windows at a 2-minute interval: Event volume has no false zeros.
- ``quiet``: an uploaded reference and no event in the range: Reference vs current is
  empty, not a current of 0 % beside the reference.
- ``qual``: Data-quality checks keep the selected features (and the model-wide checks).
- ``stale``: Latest verdict per feature shows the latest window's rows only, not a
  segment's verdict of an older window (too few events since) sorted first as drifted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dashfill import _insert, _result, filled_database, panel_rows

from driftscope.dashboards import panels_drift, panels_overview, panels_quality
from driftscope.dashboards.macros import ALL
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema
from driftscope.store.clickhouse import Store
from driftscope.types import UNBOUNDED_SEVERITY

T0 = datetime(2026, 6, 1, tzinfo=UTC)
H = timedelta(hours=1)
T1 = T0 + 4 * H


def _counted(row: dict[str, Any], counted: bool) -> dict[str, Any]:
    return row | {"details": json.dumps({"model_level": counted})}


def _alert(aid: str, opened: datetime, state: str, updated: datetime) -> dict[str, Any]:
    return {"alert_id": aid, "model_id": "long", "monitor": "m", "window_start": opened,
            "rule": "feature_drift", "state": state, "severity": 2.0, "summary": aid,
            "details": "{}", "created_at": opened + H, "updated_at": updated}


def _fill(store: Store) -> None:
    rows = [
        _counted(_result("zero", "fp", T0, "*", "plan", "linf", 0.3, 0.0), True),
        _counted(_result("zero", "fp", T0, "*", "age", "emd", 1.3, 1.0), False),
        _counted(_result("zero", "fp", T0, "*", "x", "emd", 0.5, 1.0), False),
    ]
    for feature, value in (("age", 0.2), ("plan", 0.4)):
        rows.append(_result("qual", "quality", T0, "*", feature, "missing_rate", value, 0.05,
                            "limit"))
    rows.append(_result("qual", "quality", T0, "*", "*", "volume", 1.0, 6.0, "limit"))
    rows.append(_result("qual", "quality", T0, "*", "segment:region", "new_categories", 0.1,
                        0.02, "limit"))
    rows.append(_result("qual", "quality", T0, "*", "output:score", "missing_rate", 0.3, 0.05,
                        "limit"))
    rows.append(_result("qual", "quality", T0, "*", "income", "type_mismatch", 1.0, 0.0,
                        "limit"))  # (left out of drift: never in the feature variable)
    for feature in ("age", "plan"):  # what the feature variable lists
        rows.append(_result("qual", "fp", T0, "*", feature, "emd", 0.1, 1.0))
    rows.append(_result("stale", "fp", T0, "region=east", "age", "emd", 3.0, 1.0))
    rows.append(_result("stale", "fp", T0, "*", "age", "emd", 2.0, 1.0))
    rows.append(_result("stale", "fp", T0 + H, "*", "age", "emd", 0.4, 1.0))
    _insert(store, schema.DRIFT_RESULTS, rows)
    _insert(store, schema.ALERTS, [
        _alert("firing-since-2-days", T0 - 48 * H, "firing", T0 - 47 * H),
        _alert("resolved-in-range", T0 - 10 * H, "resolved", T0 + H),
        _alert("resolved-before", T0 - 30 * H, "resolved", T0 - 29 * H),
        _alert("opened-in-range", T0 + 2 * H, "firing", T0 + 2 * H)])
    five = timedelta(minutes=5)
    _insert(store, schema.WINDOW_PARTS, [
        {"model_id": "five", "window_start": T0 + k * five, "window_seconds": 300,
         "kafka_partition": 0, "first_offset": 100 * k, "last_offset": 100 * k + 99,
         "n": 100, "n_late": 0, "max_event_time": T0 + k * five,
         "created_at": T0 + (k + 1) * five} for k in range(24)])
    _insert(store, schema.REFERENCE_EVENTS, [
        {"model_id": "quiet", "reference_name": "base", "event_id": f"r{i}",
         "timestamp": T0 - 24 * H, "features_num": {"age": float(i)}, "features_cat": {},
         "features_null": [], "pred_num": {}, "pred_cat": {}, "pred_probs": {}, "label": None,
         "segments": {}} for i in range(50)])
    _insert(store, schema.REFERENCES, [
        {"model_id": "quiet", "name": "base", "kind": "dataset", "spec": "{}", "n_rows": 50,
         "created_at": T0 - 24 * H}])


@pytest.fixture(scope="module")
def verdicts(chdb_dsn: str) -> Iterator[Store]:
    yield from filled_database(chdb_dsn, "verdicts", _fill)


def _run(store: Store, spec: PanelSpec, model: str, interval: int = 3600,
         **more: list[str]) -> list[dict[str, Any]]:
    v = {"model": [model], "monitor": [ALL], "feature": ["age", "plan", "x"],
         "segment": ["all"]} | more
    return panel_rows(store, spec, T0, T1, interval, v)


def test_a_moved_constant_column_is_drawn_at_10_and_chance_at_most_1(verdicts: Store) -> None:
    heat = {r["feature"]: r["ratio"] for r in _run(verdicts, panels_drift.drift_heatmap(),
                                                   "zero")}
    assert heat == {"plan": UNBOUNDED_SEVERITY, "age": 1.0, "x": 0.5}
    line = _run(verdicts, panels_drift.drift_statistic(), "zero", feature=["plan"])
    assert [r["ratio"] for r in line] == [UNBOUNDED_SEVERITY]
    raw = _run(verdicts, panels_drift.drift_statistic(), "zero", feature=["age"])
    assert [r["ratio"] for r in raw] == [pytest.approx(1.3)]  # the test's own figure


def test_drift_status_counts_what_the_monitor_counted(verdicts: Store) -> None:
    (row,) = _run(verdicts, panels_overview.drift_status(), "zero")
    assert (row["drifted_checks"], row["checks"], row["max_severity"]) == (
        1, 3, UNBOUNDED_SEVERITY)


def test_an_alert_firing_since_before_the_range_is_listed(verdicts: Store) -> None:
    listed = [r["summary"] for r in _run(verdicts, panels_overview.alert_timeline(), "long")]
    assert listed == ["opened-in-range", "resolved-in-range", "firing-since-2-days"]


@pytest.mark.parametrize("interval", [60, 120, 300, 420, 600])
def test_event_volume_has_no_false_zeros(verdicts: Store, interval: int) -> None:
    rows = _run(verdicts, panels_overview.event_volume(), "five", interval=interval)
    data = [r for r in rows if r["time"].replace(tzinfo=UTC) < T0 + 2 * H]
    step = -(-max(interval, 300) // 300) * 300  # whole windows: 420 s is 2 of them
    assert sum(r["events"] for r in data) == 2400
    assert all(r["events"] == 100 * step // 300 for r in data), data
    assert all(r["events"] == 0 for r in rows if r["time"].replace(tzinfo=UTC) >= T0 + 2 * H)


def test_reference_vs_current_is_empty_without_a_current_event(verdicts: Store) -> None:
    assert _run(verdicts, panels_drift.reference_vs_current(), "quiet", feature=["age"]) == []


def test_quality_checks_keep_the_selected_features(verdicts: Store) -> None:
    series = {r["series"] for r in _run(verdicts, panels_quality.quality_checks(), "qual",
                                        feature=["age"])}
    assert series == {"missing_rate age (all)", "volume (all)",
                      "new_categories segment:region (all)", "missing_rate output:score (all)",
                      "type_mismatch income (all)"}, series


def test_latest_verdict_is_of_the_latest_window_only(verdicts: Store) -> None:
    rows = _run(verdicts, panels_drift.drifted_features(), "stale",
                segment=["all", "region=east"])
    assert [(r["segment"], r["drifted"], r["last_window"].replace(tzinfo=UTC))
            for r in rows] == [("all", 0, T0 + H)]


def test_the_report_says_what_it_leaves_out() -> None:
    from driftscope.dashboards import svg
    from driftscope.dashboards.report import _render

    spec = PanelSpec("t", "T", "table", "SELECT 1", ("n",))
    assert "the first 50 of 60 rows" in _render(spec, ("n",), [(i,) for i in range(60)])
    assert "of 50 rows" not in _render(spec, ("n",), [(i,) for i in range(50)])
    names = ["value missing_rate age (region=north)"] + [f"s{i}" for i in range(20)]
    legend = "".join(svg._legend(names))
    assert "<title>value missing_rate age (region=north)</title>" in legend
    assert "value missing_rate ag…" in legend and "+8 more" in legend
