"""The monitor on awkward data, on chDB: partial feedback, a feature whose type differs
from the reference's, an all-null feature, tiny windows, metrics that do not exist, and a
monitor that fails beside one that does not."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftscope.config import Config
from driftscope.detectors import registry
from driftscope.monitor.frame import read_events
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import event_rows, write_windows
from driftscope.monitor.upload import upload
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
from driftscope.types import Score

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D, M, F = S.DRIFT_RESULTS, S.MONITOR_WINDOWS, S.FEEDBACK


def config(*monitors: dict[str, Any]) -> Config:
    base = {"name": "mon", "model": "m", "features": ["x"],
            "reference": {"kind": "fixed", "start": T0.isoformat(),
                          "end": (T0 + 2 * W).isoformat()}}
    return Config.model_validate({"models": [{"id": "m", "window": "10m"}],
                                  "monitors": [{**base, **m} for m in monitors],
                                  "alerts": {"console": False}})


def performance(store: Store, window: int) -> dict[str, float]:
    rows = store.query(
        f"SELECT {D.metric}, {D.statistic} FROM {D} FINAL WHERE {D.fingerprint} = 'performance' "
        f"AND {D.segment} = '*' AND {D.window_start} = {{s:DateTime64(3, 'UTC')}}",
        {"s": T0 + window * W})
    return {str(m): float(v) for m, v in rows}


def feedback(window: int, labels: dict[int, str], at: timedelta = timedelta(0)) -> list[Any]:
    ts = T0 + window * W + at
    return [("m", f"0-{window}-{j}", lab, ts, ts, 0, j) for j, lab in labels.items()]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_performance_counts_only_the_events_that_have_feedback(store: Store, task: str) -> None:
    write_windows(store, "m", T0, W, 3, 100,
                  lambda i, rng, n: {"x": rng.normal(size=n), "output:pred": np.ones(n)})
    store.insert(F, feedback(1, {j: "1" for j in range(5)})  # fewer than min_labels
                 + feedback(2, {j: "1" if j < 24 else "0" for j in range(30)})
                 + feedback(2, {0: "0"}, -timedelta(minutes=1))  # superseded by the later "1"
                 + feedback(2, {30: "0"}, timedelta(days=8)),  # beyond the feedback horizon
                 F.columns)
    Monitor(store, config({"performance": {"task": task, "prediction": "pred"}})).run_once()
    assert performance(store, 0) == performance(store, 1) == {}  # none; 5 < min_labels 20
    if task == "classification":  # 24 of the 30 labelled events predicted right
        assert performance(store, 2) == pytest.approx({"accuracy": 0.8, "f1": 48 / 54})
    else:
        assert performance(store, 2) == pytest.approx({"mae": 0.2, "rmse": np.sqrt(0.2)})


def test_no_non_finite_metric_rows_and_roc_auc_from_the_positive_class(store: Store) -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(size=100)
    cols = {"x": rng.normal(size=100), "output:pred": (p > 0.5).astype(float),
            "label": ["1" if v > 0.5 else "0" for v in p]}
    rows = event_rows("m", T0, W, 100, cols, "0-0")
    rows = [(*r[:9], {"probs": [1 - q, q]}, *r[10:]) for r, q in zip(rows, p, strict=True)]
    store.insert(S.EVENTS, rows, S.EVENTS.columns)
    write_windows(store, "m", T0 + W, W, 1, 100, lambda i, rng, n: {  # one class only
        "x": rng.normal(size=n), "output:pred": np.zeros(n), "label": ["0"] * n}, seed=1)
    store.insert(S.WINDOWS, [("m", T0, T0 + W, 600, 100, 0, T0 + W)], S.WINDOWS.columns)
    Monitor(store, config(
        {"name": "scored", "performance": {"prediction": "pred", "score": "probs"}},
        {"name": "plain", "performance": {"prediction": "pred"}})).run_once()
    assert store.count(f"{D} FINAL", "NOT isFinite(statistic)") == 0
    rows = store.query(f"SELECT {D.monitor}, {D.window_start}, {D.metric}, {D.statistic} "
                       f"FROM {D} FINAL WHERE {D.fingerprint} = 'performance' ORDER BY 1, 2, 3")
    got = {(m, w.replace(tzinfo=UTC) - T0, k): v for m, w, k, v in rows}
    assert got == {("plain", W * 0, "accuracy"): 1.0, ("plain", W * 0, "f1"): 1.0,
                   ("plain", W, "accuracy"): 1.0, ("scored", W * 0, "accuracy"): 1.0,
                   ("scored", W * 0, "f1"): 1.0, ("scored", W * 0, "roc_auc"): 1.0,
                   ("scored", W, "accuracy"): 1.0}


def test_a_feature_typed_differently_from_the_reference_is_one_finding(store: Store) -> None:
    rng = np.random.default_rng(0)
    upload(store, "m", "train", pd.DataFrame(
        {"zip": rng.integers(10000, 10010, 500), "age": rng.normal(40, 5, 500)}))
    write_windows(store, "m", T0, W, 2, 200, lambda i, rng, n: {
        "zip": np.array([str(v) for v in rng.integers(10000, 10010, n)], dtype=object),
        "age": rng.normal(40 + 10 * i, 5, n)})
    cfg = config({"features": ["zip", "age"], "reference": {"kind": "dataset",
                                                          "dataset": "train"}})
    v = Monitor(store, cfg).run_once()
    assert len(v) == 2
    assert [(f.feature, f.metric) for f in v[0].findings] == [("zip", "type_mismatch")]
    assert {(f.feature, f.metric) for f in v[1].findings} >= {("zip", "type_mismatch"),
                                                             ("age", "emd")}


def test_a_flag_column_of_an_uploaded_dataset_matches_the_events_flag(store: Store) -> None:
    """Events carry a boolean as the category "true"/"false". A bool column was uploaded as
    the numbers 0/1 (a type mismatch for ever) and a nullable one as "True"/"False" (every
    window drifted); both are now the events' categories, the label too."""
    rng = np.random.default_rng(0)
    upload(store, "m", "train", pd.DataFrame({
        "flag": rng.random(400) < 0.5,
        "opt": pd.array([bool(b) for b in rng.random(400) < 0.3], dtype="boolean"),
        "label": rng.random(400) < 0.5}))
    assert store.query(f"SELECT DISTINCT {S.REFERENCE_EVENTS.label} FROM "
                       f"{S.REFERENCE_EVENTS} ORDER BY 1") == [("false",), ("true",)]

    def flags(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        on = 0.5 if i < 2 else 0.95
        return {"flag": np.where(rng.random(n) < on, "true", "false").astype(object),
                "opt": np.where(rng.random(n) < 0.3, "true", "false").astype(object)}

    write_windows(store, "m", T0, W, 3, 400, flags)
    cfg = config({"features": ["flag", "opt"],
                  "reference": {"kind": "dataset", "dataset": "train"}})
    v = Monitor(store, cfg).run_once()
    assert [[(f.feature, f.metric) for f in x.findings] for x in v] == [
        [], [], [("flag", "linf")]]


def _mixed(store: Store, values: list[Any]) -> None:
    store.insert(S.EVENTS, event_rows("m", T0, W, len(values), {"x": values}, "mix"),
                 S.EVENTS.columns)


def test_a_mixed_column_keeps_each_value_in_its_own_row(store: Store) -> None:
    _mixed(store, ["a", 1.0, "b", 3.0])
    f = read_events(store, "m", T0, T0 + W, ["x", "never"])
    np.testing.assert_array_equal(f.columns["x"], [np.nan, 1.0, np.nan, 3.0])
    np.testing.assert_array_equal(f.columns["never"], [np.nan] * 4)
    np.testing.assert_array_equal(f.take(np.array([0, 3])).columns["x"], [np.nan, 3.0])


def test_a_stray_number_in_a_categorical_column_does_not_blind_it(store: Store) -> None:
    """The column keeps the kind most rows have: one number among strings (two collectors
    learning a new feature's kind at once) is a missing value, not the column's kind."""
    _mixed(store, ["a", 1.0, "b"])
    f = read_events(store, "m", T0, T0 + W, ["x"])
    assert f.columns["x"].tolist() == ["a", None, "b"]


def test_a_window_read_gives_each_name_its_values_row_by_row(store: Store) -> None:
    # what the monitor reads of each event: features, missing ones as NaN/None, a numeric
    # and a categorical output, a class's top probability and one class's, segments with
    # a key some events lack, and labels
    rows = event_rows("m", T0, W, 3, {
        "x": [1.0, None, 3.0], "plan": ["a", "b", None], "output:pred": [1.0, 0.0, 0.0],
        "output:cls": ["yes", "no", "yes"], "segment:country": ["fr", "de", "fr"],
        "label": ["1", None, "0"]}, "r")
    rows[1] = (*rows[1][:11], {}, *rows[1][12:])  # the second event has no segment
    probs = [{"p": [0.2, 0.8]}, {}, {"p": [0.9, 0.1]}]
    rows = [(*r[:9], pr, *r[10:]) for r, pr in zip(rows, probs, strict=True)]
    store.insert(S.EVENTS, rows, S.EVENTS.columns)
    f = read_events(store, "m", T0, T0 + W, ["x", "plan", "output:pred", "output:cls",
                                             "output:p", "output:p[1]", "absent"],
                    labels=True)
    np.testing.assert_array_equal(f.columns["x"], [1.0, np.nan, 3.0])
    assert f.columns["plan"].tolist() == ["a", "b", None]
    np.testing.assert_array_equal(f.columns["output:pred"], [1.0, 0.0, 0.0])
    assert f.columns["output:cls"].tolist() == ["yes", "no", "yes"]
    np.testing.assert_array_equal(f.columns["output:p"], [0.8, np.nan, 0.9])
    np.testing.assert_array_equal(f.columns["output:p[1]"], [0.8, np.nan, 0.1])
    np.testing.assert_array_equal(f.columns["absent"], [np.nan] * 3)
    assert f.segments["country"].tolist() == ["fr", None, "fr"]
    assert f.labels is not None and f.labels.tolist() == ["1", None, "0"]
    assert f.timestamps.tolist() == sorted(f.timestamps.tolist()) and f.n == 3


class Boom:
    """A plug-in detector that fails on values above 50 (a bug in one monitor)."""

    name = "boom"

    def __init__(self, policy: Any = None) -> None:
        pass

    def fit(self, ref: np.ndarray, rng: Any = None) -> Boom:
        return self

    def score(self, cur: np.ndarray) -> Score:
        if np.nanmax(cur) > 50:
            raise RuntimeError("boom")
        return Score(0.0, 1.0, "constant")


def test_a_failing_monitor_does_not_stop_the_others(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(registry.DETECTORS._items, "boom", Boom)
    write_windows(store, "m", T0, W, 6, 100,
                  lambda i, rng, n: {"x": rng.normal(100.0 if i == 4 else 0.0, 1, n)})
    cfg = config({"name": "bad", "detectors": [{"name": "boom"}]}, {"name": "good"})
    with caplog.at_level(logging.WARNING, "driftscope.monitor"):
        v = Monitor(store, cfg).run_once()
    assert [x.monitor for x in v].count("good") == 6
    assert [x.window_start - T0 for x in v if x.monitor == "bad"] == [W * i for i in range(4)]
    assert [r.getMessage() for r in caplog.records] == [
        "monitor bad: window 2026-02-01 00:40 failed, retried next pass: RuntimeError: boom"]
    assert Monitor(store, cfg).run_once() == []  # still failing: still not processed
    monkeypatch.setitem(registry.DETECTORS._items, "boom", type("Fixed", (Boom,), {
        "score": lambda self, cur: Score(0.0, 1.0, "constant")}))
    assert [x.window_start - T0 for x in Monitor(store, cfg).run_once()] == [4 * W, 5 * W]


def test_an_all_null_feature_keeps_reporting_its_missing_rate(store: Store) -> None:
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(size=n) if i < 2 else np.full(n, np.nan),
                "y": rng.normal(size=n)}
    write_windows(store, "m", T0, W, 6, 100, gen)
    cfg = config({"features": ["x", "y"], "persistence": {"enabled": False}})
    for k in range(3, 7):  # one pass per closed window, as `driftscope monitor` runs
        v = Monitor(store, cfg).run_once(until=T0 + k * W)
        assert ("x", "missing_rate", 1.0) in [(f.feature, f.metric, f.statistic)
                                              for f in v[-1].findings]
    assert store.count(f"{D} FINAL", f"{D.feature} = 'x' AND {D.metric} = 'emd'") == 6


def test_a_window_below_min_events_gets_no_column_quality_checks(store: Store) -> None:
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        x = rng.normal(size=n)
        x[0] = np.nan if i == 10 else x[0]
        return {"x": x}
    write_windows(store, "m", T0, W, 11, lambda i: 2 if i == 10 else 200, gen)
    v = Monitor(store, config({})).run_once()
    assert [(f.feature, f.metric) for f in v[-1].findings] == [("*", "volume")]
    metrics = store.query(f"SELECT DISTINCT {D.metric} FROM {D} FINAL "
                          f"WHERE {D.window_start} = {{s:DateTime64(3, 'UTC')}}",
                          {"s": T0 + 10 * W})
    assert [m for m, in metrics] == ["volume"]


def test_a_projection_over_a_feature_never_sent_writes_no_rows(store: Store) -> None:
    """A projection needs values of every input on both sides; an all-null column (every
    requested name is one now) is nothing to project, not a constant 0 that stays quiet."""
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"p1": rng.normal(size=n), "y": rng.normal(size=n)}
    write_windows(store, "m", T0, W, 6, 200, gen)
    cfg = config({"features": ["y"],
                  "projections": [{"name": "pp", "kind": "mean", "features": ["p1", "ghost"]}]})
    Monitor(store, cfg).run_once()
    assert store.count(f"{D} FINAL", f"{D.feature} = 'projection:pp'") == 0
    assert store.count(f"{D} FINAL", f"{D.feature} = 'y' AND {D.metric} = 'emd'") > 0


def test_of_two_feedbacks_given_at_the_same_time_the_last_to_arrive_wins(store: Store) -> None:
    """A correction sent with the same timestamp (say the prediction's) replaces the label
    it corrects: the one ingested last counts."""
    write_windows(store, "m", T0, W, 3, 100,
                  lambda i, rng, n: {"x": rng.normal(size=n), "output:pred": np.ones(n)})
    first = feedback(2, {j: "1" for j in range(30)})
    later = [(*row[:4], row[4] + timedelta(minutes=5), *row[5:])
             for row in feedback(2, {j: "0" for j in range(6)})]
    store.insert(F, first + later, F.columns)
    Monitor(store, config({"performance": {"task": "classification",
                                           "prediction": "pred"}})).run_once()
    assert performance(store, 2)["accuracy"] == pytest.approx(24 / 30)
