"""Model performance counted on the events the traffic held, on chDB (the
model-performance review): a batch a producer's retry stored twice counts once (fault A),
and the overall metric of a sample stratified by a segment weighs each stratum by its
share of the window's events, its noise that of the effective number of labels (fault B)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.collector.sampling import sample_hash
from driftscope.config import Config
from driftscope.monitor import performance
from driftscope.monitor.frame import Sampled, read_events, read_labels
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import event_rows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D = S.DRIFT_RESULTS


def _close(store: Store, count: int, n: int) -> None:
    secs = int(W.total_seconds())
    store.insert(S.WINDOW_PARTS, [("m", T0 + i * W, secs, 0, 0, n - 1, n, 0, T0 + (i + 1) * W,
                                   T0 + (i + 1) * W) for i in range(count)],
                 S.WINDOW_PARTS.columns)
    store.insert(S.MODEL_VERSIONS, [("m", "1", T0, T0 + count * W)], S.MODEL_VERSIONS.columns)
    store.insert(S.WINDOWS, [("m", T0 + i * W, T0 + (i + 1) * W, secs, n, 0, T0 + (i + 1) * W)
                             for i in range(count)], S.WINDOWS.columns)


def _overall(store: Store) -> list[tuple[float, dict[str, Any]]]:
    got = store.query(f"SELECT {D.statistic}, {D.details} FROM {D} FINAL WHERE "
                      f"{D.fingerprint} = 'performance' AND {D.segment} = '*' AND "
                      f"{D.metric} = 'accuracy' ORDER BY {D.window_start}")
    return [(float(v), json.loads(d)) for v, d in got]


def test_a_batch_stored_twice_counts_once(store: Store) -> None:
    """200 events at accuracy 0.800, the first 100 (40 wrong) stored again as new Kafka
    records with the same event_ids: 0.800 on 200 labels. Before, 0.733 on 300. Their
    feedback labels, too, count once; a read of the labels alone lines up with it."""
    rng = np.random.default_rng(4)
    n = 200
    y = rng.integers(0, 2, n)
    p = y.copy()
    p[:40] = 1 - p[:40]
    cols = {"x": rng.normal(size=n), "output:pred": p.astype(float),
            "label": [None if j % 2 else str(y[j]) for j in range(n)]}
    rows = event_rows("m", T0, W, n, cols, "e")
    again = [(*r[:-2], 1, 1000 + k) for k, r in enumerate(rows[:100])]
    store.insert(S.EVENTS, rows + again, S.EVENTS.columns)
    # the odd events' labels come as feedback (the first 100's: once for both copies)
    store.insert(S.FEEDBACK, [("m", rows[j][2], str(y[j]), rows[j][3] + timedelta(minutes=1),
                               T0, 0, j) for j in range(1, n, 2)], S.FEEDBACK.columns)
    _close(store, 1, n)
    frame = read_events(store, "m", T0, T0 + W, ["x", "output:pred"], labels=True)
    assert frame.n == n
    assert len(read_labels(store, "m", T0, T0 + W)) == n
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "reference": {"kind": "previous", "windows": 3},
                      "performance": {"task": "classification", "prediction": "pred",
                                      "metrics": ["accuracy"]}}],
        "alerts": {"console": False}})
    Monitor(store, cfg).run_once()
    [(value, details)] = _overall(store)
    assert round(value, 3) == 0.8
    assert details["labels"] == n


def test_events_that_share_an_id_at_different_times_both_count(store: Store) -> None:
    """An id reused (a producer's own ids, not a retry's copy): kept, each at its time."""
    a = event_rows("m", T0, W, 10, {"x": np.arange(10.0)}, "e")
    b = event_rows("m", T0 + W / 2, W, 10, {"x": np.arange(10.0)}, "e")  # same ids, later
    store.insert(S.EVENTS, [*a, *b], S.EVENTS.columns)
    assert read_events(store, "m", T0, T0 + 2 * W, ["x"]).n == 20


def _stratified(store: Store, windows: int, n: int, k: int, seed: int) -> float:
    """Sample candidates of ``windows`` windows of ``n`` events, country A 90 % of them
    at accuracy 0.95, B 10 % at 0.50, as the collector keeps them stratified by country
    (each stratum's k smallest hashes, every event a candidate here); returns the
    population's accuracy."""
    rng = np.random.default_rng(seed)
    rows, right = [], []
    for i in range(windows):
        for j in range(n):
            c = "A" if rng.uniform() < 0.9 else "B"
            y = int(rng.integers(0, 2))
            p = y if rng.uniform() < (0.95 if c == "A" else 0.5) else 1 - y
            right.append(p == y)
            eid, ts = f"{seed}-{i}-{j}", T0 + i * W + j * (W / n)
            rows.append((T0 + i * W, 600, c, sample_hash(eid), "m", "1", eid, ts, {"x": 0.0},
                         {}, [], {"pred": float(p)}, {}, {}, str(y), {"country": c},
                         0, i * n + j))
    store.insert(S.SAMPLES, rows, S.SAMPLES.columns)
    _close(store, windows, n)
    return float(np.mean(right))


def test_a_stratified_samples_overall_metric_weighs_each_stratum_by_its_share(
        store: Store) -> None:
    """Samples of 100 a stratum: the overall accuracy is the events' (about 0.905), not
    the sample's (B's 100 rows weigh as A's: about 0.725). Before, 0.73. The labels are
    the real 200; the noise is that of the effective number (about 122)."""
    truth = _stratified(store, 6, 2000, 100, seed=10)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "10m", "logging": ["sample"], "sample_size": 100,
                    "sample_stratify_by": "country"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "segments": ["country"],
                      "reference": {"kind": "previous", "windows": 1},
                      "performance": {"task": "classification", "prediction": "pred",
                                      "metrics": ["accuracy"]}}],
        "alerts": {"console": False}})
    Monitor(store, cfg).run_once()
    got = _overall(store)
    assert len(got) == 6
    mean = float(np.mean([v for v, _ in got]))
    assert abs(mean - truth) < 0.03, (mean, truth)
    for _, details in got:
        assert details["labels"] == 200
        assert 90 < details["effective_labels"] < 160
    # one stratum's rows are alike: its own row is as before, no effective count
    frame = read_events(store, "m", T0, T0 + W, ["x", "output:pred"], labels=True,
                        source=Sampled(100, 600))
    assert frame.weights is not None
    a = frame.weights[frame.segments["country"] == "A"]
    b = frame.weights[frame.segments["country"] == "B"]
    assert np.ptp(a) == 0 and np.ptp(b) == 0
    assert 5 < a[0] / b[0] < 15  # (9 for shares of 90 % and 10 %)


def test_weighted_metrics() -> None:
    """Weights: each row's events; equal weights give the unweighted figures exactly."""
    y = np.array(["1", "0", "1", "1", "0", "0"], dtype=object)
    p = np.array(["1", "0", "0", "1", "1", "0"], dtype=object)
    s = np.array([0.9, 0.2, 0.4, 0.8, 0.6, 0.1])
    plain = performance.measure("classification", y, p, s, "1")
    alike = performance.measure("classification", y, p, s, "1", np.full(6, 3.0))
    assert plain == alike
    w = np.array([1.0, 1.0, 4.0, 1.0, 1.0, 1.0])  # the wrong positive counts 4 times
    got = performance.measure("classification", y, p, s, "1", w)
    assert got["accuracy"].value == 4 / 9  # (rows 0, 1, 3, 5 right: 4 of 9 events)
    assert got["accuracy"].n == 6
    assert got["accuracy"].effective == performance.kish(w)
    from sklearn.metrics import f1_score, roc_auc_score
    yi, pi = (y == "1").astype(int), (p == "1").astype(int)
    assert abs(got["f1"].value - f1_score(yi, pi, sample_weight=w)) < 1e-12
    assert abs(got["roc_auc"].value - roc_auc_score(yi, s, sample_weight=w)) < 1e-12
    reg = performance.measure("regression", np.array([1.0, 2.0, 3.0]),
                              np.array([1.5, 2.0, 5.0]), None, "1", np.array([2.0, 1.0, 1.0]))
    assert reg["mae"].value == (2 * 0.5 + 0 + 2) / 4
