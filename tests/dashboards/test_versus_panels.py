"""A ``versus_rest`` segment on the dashboards: its lines and its verdict say what it was
judged against.

A canary's row of ``versus_rest: [model_version]`` is its drift against the rest of its
own window, not against the reference. Before, the panels drew it as ``emd
(model_version=2)`` like any segment's drift from the reference, and only the alert line
said otherwise: a user reading the Drift dashboard took a canary whose inputs differ from
the old version's for drift of the model's data (what asks for retraining, not a
rollback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.config import Config
from driftscope.dashboards import build as b
from driftscope.dashboards import panels_drift, panels_quality
from driftscope.dashboards.macros import expand
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=10)
WINDOWS = 6


def _canary(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Version 2 serves a tenth of each window; from window 3 its ``x`` is 0.6 SD higher
    (a feature pipeline of its own)."""
    v2 = rng.random(n) < 0.1
    x = rng.normal(0, 1, n) + np.where(v2 & (i >= 3), 0.6, 0.0)
    return {"x": x, "label": np.full(n, "1", dtype=object), "output:pred": rng.normal(0, 1, n),
            "model_version": np.where(v2, "2", "1").astype(object)}


def _config(versus_rest: list[str], **monitor: Any) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "outputs": ["pred"],
                      "segments": ["model_version"], "versus_rest": versus_rest,
                      "reference": {"kind": "fixed", "start": T0.isoformat(),
                                    "end": (T0 + 3 * W).isoformat()},
                      "persistence": {"enabled": False}, **monitor}],
        "alerts": {"console": False}})


def _panel(store: Store, sql: str) -> list[tuple[Any, ...]]:
    """The panel's rows, every segment selected (the segment variable's values)."""
    segments = [r[0] for r in store.query(expand(
        b.variable_queries()["segment"], T0, T0 + WINDOWS * W, 60,
        {"model": ["m"], "monitor": ["mon"]}))]
    return store.query(expand(sql, T0, T0 + WINDOWS * W, 600,
                              {"model": ["m"], "monitor": ["mon"], "feature": ["x"],
                               "segment": segments}))


def test_a_versus_rest_segment_is_named_so_on_the_drift_panels(store: Store) -> None:
    write_windows(store, "m", T0, W, WINDOWS, 1000, _canary, seed=0)
    Monitor(store, _config(["model_version"])).run_once()
    lines: dict[str, dict[int, float]] = {}
    for time, series, ratio in _panel(store, panels_drift.drift_statistic().sql):
        lines.setdefault(series, {})[int((time.replace(tzinfo=UTC) - T0) / W)] = ratio
    # the old version, the window's largest, is the rest: no line of its own
    assert set(lines) == {"emd (all)", "emd (model_version=2 vs rest)"}
    canary = lines["emd (model_version=2 vs rest)"]
    assert sorted(canary) == list(range(WINDOWS))
    assert {i for i, r in canary.items() if r > 1} == {3, 4, 5}
    assert not [r for r in lines["emd (all)"].values() if r > 1]  # (a tenth: diluted)
    verdicts = {(seg, metric): drifted for _, seg, metric, _, _, drifted, _
                in _panel(store, panels_drift.drifted_features().sql)}
    assert verdicts == {("all", "emd"): 0, ("model_version=2 vs rest", "emd"): 1}
    proxy = {series for _, series, *_ in _panel(store, panels_quality.performance_proxy().sql)}
    assert proxy == {"emd output:pred (all)", "emd output:pred (model_version=2 vs rest)"}


def test_a_segment_judged_against_the_reference_keeps_its_plain_name(store: Store) -> None:
    write_windows(store, "m", T0, W, WINDOWS, 1000, _canary, seed=0)
    Monitor(store, _config([])).run_once()
    series = {s for _, s, _ in _panel(store, panels_drift.drift_statistic().sql)}
    assert series == {"emd (all)", "emd (model_version=1)", "emd (model_version=2)"}
    verdicts = {(seg, metric): drifted for _, seg, metric, _, _, drifted, _
                in _panel(store, panels_drift.drifted_features().sql)}
    assert verdicts == {("all", "emd"): 0, ("model_version=1", "emd"): 0,
                        ("model_version=2", "emd"): 1}


def test_the_latest_verdict_says_drifted_only_where_the_monitor_counted_it(
    store: Store,
) -> None:
    """A test over its own threshold that ``min_effect`` (or the false-discovery control)
    did not keep is no drift of the window: the table showed it ``drifted 1`` beside an
    alert, a heatmap and an Overview that did not count it (the demo's report: ``plan``
    drifted beside an alert naming three other features)."""
    write_windows(store, "m", T0, W, WINDOWS, 1000, _canary, seed=0)
    Monitor(store, _config([], fdr={"method": "bonferroni", "alpha": 1e-4})).run_once()
    raw = {seg: drifted for seg, drifted in store.query(
        "SELECT segment, drifted FROM drift_results WHERE window_start = "
        "(SELECT max(window_start) FROM drift_results) AND feature = 'x' AND metric = 'emd'")}
    assert raw["model_version=2"] == 1  # over its threshold, as before
    verdicts = {(seg, metric): drifted for _, seg, metric, _, _, drifted, _
                in _panel(store, panels_drift.drifted_features().sql)}
    assert verdicts == {("all", "emd"): 0, ("model_version=1", "emd"): 0,
                        ("model_version=2", "emd"): 0}
