"""``segments: [model_version]``: a rollout's versions side by side in the same windows
(a canary) — each version's performance, column checks and drift rows of its own.

Before, ``model_version`` was no segment key (the events' segment map does not hold it):
a canary serving a tenth of the traffic was averaged into the old version's figures, and
its broken feature or worse accuracy was diluted below every limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.config import Config
from driftscope.monitor.frame import read_events
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D = S.DRIFT_RESULTS


def config(segments: list[str], reference: dict[str, Any] | None = None) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x", "y"],
                      "segments": segments,
                      "reference": reference or {"kind": "initial", "windows": 3},
                      "performance": {"task": "classification", "prediction": "pred",
                                      "metrics": ["accuracy"]},
                      "rules": [{"metric": "accuracy", "op": "<", "value": 0.85}],
                      "persistence": {"enabled": False}}],
        "alerts": {"console": False}})


def rollout(canary: float, broken: bool = True) -> Any:
    """Version 1 serves everything; from window 4, version 2 serves ``canary`` of each
    window, with ``y`` missing in half its events and a worse accuracy (broken)."""
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        v2 = (rng.random(n) < canary) if i >= 4 else np.zeros(n, dtype=bool)
        y = rng.normal(0, 1, n).astype(object)
        if broken:
            y[v2 & (rng.random(n) < 0.5)] = None
        label = rng.integers(0, 2, n)
        right = rng.random(n) < np.where(v2 & broken, 0.6, 0.9)
        return {"x": rng.normal(0, 1, n), "y": y, "label": label.astype(str).astype(object),
                "output:pred": np.where(right, label, 1 - label).astype(float),
                "model_version": np.where(v2, "2", "1").astype(object)}
    return make


def rows(store: Store, metric: str) -> dict[tuple[int, str, str], tuple[float, bool]]:
    got = store.query(
        f"SELECT {D.window_start}, {D.segment}, {D.feature}, {D.statistic}, {D.drifted} "
        f"FROM {D} FINAL WHERE {D.metric} = {{k:String}}", {"k": metric})
    return {(int((t.replace(tzinfo=UTC) - T0) / W), s, f): (float(v), bool(d))
            for t, s, f, v, d in got}


def test_a_canary_is_judged_side_by_side_with_the_version_it_replaces(store: Store) -> None:
    write_windows(store, "m", T0, W, 8, 1000, rollout(0.1), seed=0)
    Monitor(store, config(["model_version"])).run_once()
    acc = rows(store, "accuracy")
    for i in range(4, 8):  # each version's accuracy, in the same window
        assert 0.86 < acc[(i, "model_version=1", "*")][0] < 0.94
        assert 0.45 < acc[(i, "model_version=2", "*")][0] < 0.75
        assert acc[(i, "*", "*")][0] > 0.85  # (all events: the canary diluted)
    assert (3, "model_version=2", "*") not in acc  # (no canary yet)
    # the accuracy rule fires for the canary's segment only
    assert {(i, s) for (i, s, _), (_, bad) in acc.items() if bad} == {
        (i, "model_version=2") for i in range(4, 8)}
    missing = rows(store, "missing_rate")
    flagged = {(i, s) for (i, s, f), (_, bad) in missing.items() if bad and f == "y"}
    # the canary's broken feature, in each of its windows; never the old version's
    assert {(i, "model_version=2") for i in range(4, 8)} <= flagged
    assert not {s for _, s in flagged} & {"model_version=1"}


def test_a_new_version_or_one_that_stopped_is_no_data_quality_fault(store: Store) -> None:
    """A rollout brings a version the reference never had, and the old one's traffic
    stops: what a deploy does, not a broken client (a segment value new or gone)."""
    write_windows(store, "m", T0, W, 4, 500, rollout(0.0), seed=0)
    write_windows(store, "m", T0 + 4 * W, W, 4, 500, rollout(1.0, broken=False), seed=1)
    Monitor(store, config(["model_version"])).run_once()
    volume = rows(store, "volume")
    new = rows(store, "new_categories")
    assert not [k for k in volume if k[2].startswith("segment:model_version")]
    assert not [k for k in new if k[2] == "segment:model_version"]
    assert not [k for k, (_, bad) in {**volume, **new}.items() if bad]


def test_a_version_with_enough_events_in_the_reference_is_scored_for_drift(
    store: Store,
) -> None:
    """Against the windows before (a canary running since), each version's inputs are
    judged against its own past: the canary's shift is found, the old version's not."""
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        v2 = rng.random(n) < 0.3
        x = rng.normal(0, 1, n) + np.where(v2 & (i >= 6), 1.0, 0.0)
        return {"x": x, "y": rng.normal(0, 1, n), "label": np.full(n, "1", dtype=object),
                "output:pred": np.ones(n), "model_version": np.where(v2, "2", "1")}
    write_windows(store, "m", T0, W, 7, 1000, make, seed=0)
    Monitor(store, config(["model_version"], {"kind": "previous", "windows": 3})).run_once()
    emd = {(i, s): d for (i, s, f), (_, d) in rows(store, "emd").items() if f == "x"}
    assert emd[(6, "model_version=2")] and not emd[(6, "model_version=1")]
    assert not any(d for (i, _), d in emd.items() if i < 6)


def test_the_version_is_read_only_where_a_monitor_asks_for_it(store: Store) -> None:
    """Other monitors' frames (and the digests of their references) are as before; an
    event's own segment map key ``model_version`` is not what the key reads."""
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(0, 1, n), "model_version": np.full(n, "7", dtype=object),
                "segment:model_version": np.full(n, "stale", dtype=object)}
    write_windows(store, "m", T0, W, 1, 50, make, seed=0)
    plain = read_events(store, "m", T0, T0 + W, ["x"])
    assert set(plain.segments) == {"model_version"}  # (the map's key, as before)
    assert set(plain.segments["model_version"]) == {"stale"}
    asked = read_events(store, "m", T0, T0 + W, ["x"], versions=True)
    assert set(asked.segments["model_version"]) == {"7"}
