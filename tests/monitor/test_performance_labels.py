"""Performance judged on what the labels can tell, on chDB: a window of few labels after
windows of many is held to its own sampling noise, each metric needs min_labels rows it can
use, a prediction that is not a number leaves the row out instead of stopping the monitor,
and class probabilities given as the prediction are read as the most probable class."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import event_rows, write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D = S.DRIFT_RESULTS


def config(performance: dict[str, Any], name: str = "mon") -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": name, "model": "m", "features": ["x"], "performance": performance,
                      "reference": {"kind": "fixed", "start": T0.isoformat(),
                                    "end": (T0 + 2 * W).isoformat()}}],
        "alerts": {"console": False}})


def rows(store: Store, monitor: str = "mon") -> dict[tuple[int, str], tuple[float, bool, str]]:
    got = store.query(
        f"SELECT {D.window_start}, {D.metric}, {D.statistic}, {D.drifted}, {D.details} "
        f"FROM {D} FINAL WHERE {D.fingerprint} = 'performance' AND {D.segment} = '*' "
        f"AND {D.monitor} = {{m:String}}", {"m": monitor})
    return {((w.replace(tzinfo=UTC) - T0) // W, m): (v, bool(d), det)
            for w, m, v, d, det in got}


def test_a_window_of_few_labels_is_held_to_its_own_noise_and_a_real_fall_still_pages(
        store: Store) -> None:
    """24 windows of 1,000 labels at accuracy 0.9, then 30 of 25 labels at the same
    accuracy (each ~1 standard error from 0.9 alone): none is flagged. Before, the band
    learnt from 1,000-label windows (0.87–0.93) flagged about one in four. A fall to 0.6 on
    25 labels is still found, and one to 0.75 on 1,000 (before, the band learnt from the
    windows of 25 reached down to 0.66)."""
    big, small = 24, 30

    def generate(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.integers(0, 2, n)
        wrong = rng.uniform(size=n) < {big + small: 0.4, big + small + 1: 0.25}.get(i, 0.1)
        labelled = n if i < big or i == big + small + 1 else 25
        return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y).astype(float),
                "label": [str(y[j]) if j < labelled else None for j in range(n)]}

    write_windows(store, "m", T0, W, big + small + 2, 1000, generate, seed=5)
    Monitor(store, config({"task": "classification", "prediction": "pred"})).run_once()
    got = rows(store)
    small_windows = [got[(i, "accuracy")] for i in range(big, big + small)]
    assert all(abs(v - 0.9) < 0.2 for v, _, _ in small_windows)
    assert [i for i, (_, bad, _) in enumerate(small_windows) if bad] == []
    assert '"labels": 25' in small_windows[0][2]
    assert got[(big + small, "accuracy")][1]  # 0.6 on 25 labels
    assert got[(big + small + 1, "accuracy")][1]  # 0.75 on 1,000 labels


def test_each_metric_needs_min_labels_rows_it_can_use(store: Store) -> None:
    """30 labelled events (min_labels 20): 3 of them carry the prediction, or 27 of the
    labels are not numbers, or 2 carry a score. Before, a metric was written from those
    3 or 2 rows (accuracy 1.0 from 3)."""
    def generate(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.integers(0, 2, n)
        return {"x": rng.normal(size=n),
                "output:pred": np.where(np.arange(n) < 3 if i == 0 else np.ones(n, bool),
                                        y.astype(float), np.nan),
                "output:score": np.where(np.arange(n) < 2, y * 0.8 + 0.1, np.nan),
                "output:yhat": y + 0.5,
                "label": [(("n/a" if j >= 3 else str(y[j])) if i == 2 else str(y[j]))
                          if j < 30 else None for j in range(n)]}

    write_windows(store, "m", T0, W, 3, 100, generate)
    Monitor(store, config({"task": "classification", "prediction": "pred",
                           "score": "score"})).run_once()
    got = rows(store)
    assert {m for (i, m) in got if i == 0} == set()  # 3 predictions
    assert {m for (i, m) in got if i == 1} == {"accuracy", "f1"}  # no roc_auc from 2 scores
    Monitor(store, config({"task": "regression", "prediction": "yhat"}, "reg")).run_once()
    got = rows(store, "reg")
    assert {m for (i, m) in got if i == 2} == set()  # 27 labels "n/a"
    assert got[(1, "mae")][0] == pytest.approx(0.5)


def test_a_prediction_that_is_not_a_number_leaves_it_out_and_the_windows_go_on(
        store: Store) -> None:
    """A regression prediction sent as text, one "n/a" among them in window 2. Before,
    float("n/a") failed window 2 at every pass, and every later window waited behind it."""
    def generate(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.normal(10, 1, n)
        pred = np.array([f"{v + 0.25:.3f}" for v in y], dtype=object)
        if i == 2:
            pred[0] = "n/a"
        return {"x": rng.normal(size=n), "output:yhat": pred, "label": [str(v) for v in y]}

    write_windows(store, "m", T0, W, 4, 50, generate)
    verdicts = Monitor(store, config({"task": "regression", "prediction": "yhat"})).run_once()
    assert len(verdicts) == 4
    got = rows(store)
    assert [got[(i, "mae")][0] for i in range(4)] == pytest.approx([0.25] * 4, abs=1e-3)
    assert '"labels": 49' in got[(2, "mae")][2]


def test_class_probabilities_as_the_prediction_are_read_as_the_most_probable_class(
        store: Store) -> None:
    """The model's only output is ``probs`` = [P(0), P(1)], named as both prediction and
    score. Before, the prediction read as its largest probability (0.8) matched no label:
    accuracy 0 every window, a retraining rule's dream."""
    rng = np.random.default_rng(0)
    for w in range(2):
        y = rng.integers(0, 2, 100)
        p1 = np.clip(np.where(y == 1, 0.8, 0.2) + rng.normal(0, 0.05, 100), 0, 1)
        p1[:10] = 1 - p1[:10]  # 10 predicted wrong
        cols = {"x": rng.normal(size=100), "label": [str(v) for v in y]}
        ev = event_rows("m", T0 + w * W, W, 100, cols, f"w{w}")
        ev = [(*r[:9], {"probs": [1 - q, q]}, *r[10:]) for r, q in zip(ev, p1, strict=True)]
        store.insert(S.EVENTS, ev, S.EVENTS.columns)
        store.insert(S.WINDOWS, [("m", T0 + w * W, T0 + (w + 1) * W, 600, 100, 0,
                                  T0 + (w + 1) * W)], S.WINDOWS.columns)
    Monitor(store, config({"task": "classification", "prediction": "probs",
                           "score": "probs"})).run_once()
    got = rows(store)
    assert got[(0, "accuracy")][0] == got[(1, "accuracy")][0] == pytest.approx(0.9)
    assert 0.8 < got[(0, "roc_auc")][0] < 1.0


def test_a_positive_class_no_label_has_is_told_once(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """Labels "yes"/"no" with the default positive "1": F1 and ROC AUC are never written;
    before, silently."""
    def generate(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.choice(np.array(["yes", "no"], dtype=object), n)
        return {"x": rng.normal(size=n), "output:pred": y, "label": list(y)}

    write_windows(store, "m", T0, W, 3, 100, generate)
    with caplog.at_level("WARNING", logger="driftscope.monitor"):
        Monitor(store, config({"task": "classification", "prediction": "pred"}, "yn")
                ).run_once()
    told = [r.getMessage() for r in caplog.records if "performance.positive" in r.getMessage()]
    assert told == ["monitor yn: performance.positive '1' is none of the labels (no, yes): "
                    "F1 and ROC AUC are not computed; set performance.positive to the "
                    "positive class"]
    assert {m for (_, m) in rows(store, "yn")} == {"accuracy"}
