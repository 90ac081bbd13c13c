"""A window's own judgement, without the store: a segment value the reference lacks (a new
country) gets column checks against the whole reference, and a performance band longer
than the anomaly check's history gets the history it needs."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np

from driftscope.config import Config
from driftscope.monitor import evaluate as ev
from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.frame import Frame


def monitor(**extra: Any) -> MonitorConfig:
    c = Config.model_validate({"models": [{"id": "m", "window": "10m"}],
                               "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                                             **extra}]})
    return c.monitors[0].model_copy(update={"window": timedelta(minutes=10)})


def frame(columns: dict[str, np.ndarray], segments: dict[str, np.ndarray] | None = None,
          labels: np.ndarray | None = None) -> Frame:
    n = len(next(iter(columns.values())))
    return Frame(np.arange(n).astype("datetime64[ms]"), columns, segments or {}, labels)


def test_a_new_segment_value_is_held_to_the_whole_references_missing_rate() -> None:
    rng = np.random.default_rng(0)
    ref = frame({"x": rng.normal(size=2000)},
                {"country": np.array(["DE", "FR"] * 1000, dtype=object)})
    x = rng.normal(size=2000)
    x[:60] = np.nan  # the new country's events: all without x
    country = np.array(["NEW"] * 60 + ["DE", "FR"] * 970, dtype=object)
    rows = ev.quality_rows(monitor(segments=["country"]), frame({"x": x}, {"country": country}),
                           ref, [2000] * 10, [])
    got = {(r.segment, r.metric): r for r in rows if r.feature == "x"}
    new = got[("country=NEW", "missing_rate")]  # (before: no row; the whole window's 3 %
    assert new.bad and new.statistic == 1.0  # stayed under its limit)
    assert new.details["reference_rate"] == 0.0
    assert not got[("*", "missing_rate")].bad
    # drift still needs min_events on both sides: none for the new value
    assert [s for s, *_ in ev._segments(monitor(segments=["country"]),
                                        frame({"x": x}, {"country": country}), ref)] \
        == ["*", "country=DE", "country=FR"]


def test_a_band_longer_than_the_anomaly_history_is_judged() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400).astype(str).astype(object)
    wrong = rng.uniform(size=400) < 0.16  # accuracy about 0.85, after 24 windows at 0.95
    pred = np.where(wrong, np.where(y == "1", "0", "1"), y).astype(object)
    cur = frame({"output:pred": pred, "x": np.zeros(400)}, labels=y)
    past = list(0.95 + 0.005 * rng.standard_normal(24))
    asked: list[int] = []

    def history(seg: str, feature: str, metric: str, k: int) -> list[tuple[float, float]]:
        asked.append(k)
        return [(v, math.nan) for v in past[-k:]]

    cfg = monitor(performance={"task": "classification", "prediction": "pred",
                               "metrics": ["accuracy"]},
                  band={"history": 24, "k": 4, "min_history": 8},
                  anomaly={"enabled": False, "history": 6})
    row, = ev.performance_rows(cfg, cur, history)
    assert asked == [24]  # (before: 6, under the band's min_history 8: no band at all)
    assert row.policy == "band" and row.bad and row.reason == "band"
