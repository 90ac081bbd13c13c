"""The practical-significance floor of L-inf on categories: 10 points of a share held a
rare category to the same 10 points as a common one, so a predicted fraud rate from 5 % to
12 % (2.4 times, three times its threshold at p < 1e-4) was never flagged. The floor now
reads each share's change on the square-root scale too."""

from __future__ import annotations

import numpy as np

from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.detect import Fitter
from driftscope.monitor.evaluate import drift_rows
from driftscope.monitor.frame import Frame


def counted(p_ref: dict[str, float], p_cur: dict[str, float], n: int = 2000) -> bool:
    """Whether the monitor counts the feature's L-inf drift (a dataset-like reference of
    20,000 events against a window of ``n``)."""
    cfg = MonitorConfig(name="mon", model="m", features=["label"])
    rng = np.random.default_rng(1)

    def frame(p: dict[str, float], size: int) -> Frame:
        values = rng.choice(list(p), size=size, p=list(p.values())).astype(object)
        return Frame(np.arange(size).astype("datetime64[ms]"), {"label": values})

    rows = drift_rows(cfg, Fitter(0), frame(p_cur, n), frame(p_ref, 20000))
    (row,) = [r for r in rows if r.metric == "linf"]
    return bool(row.details["model_level"])


def test_a_rare_class_whose_share_more_than_doubles_is_drift() -> None:
    assert counted({"ok": 0.95, "fraud": 0.05}, {"ok": 0.88, "fraud": 0.12})


def test_a_common_class_is_still_held_to_ten_points() -> None:
    assert counted({"a": 0.4, "b": 0.6}, {"a": 0.55, "b": 0.45})
    assert not counted({"a": 0.3, "b": 0.35, "c": 0.35}, {"a": 0.38, "b": 0.31, "c": 0.31})
    assert not counted({"ok": 0.95, "fraud": 0.05}, {"ok": 0.92, "fraud": 0.08})


def test_missing_values_and_unseen_categories_are_held_to_their_share() -> None:
    """On the square-root scale 0 % → 1 % is already 0.1: 1-2 % of nulls, or of values the
    reference never held, counted as drift of a large window, where the quality checks
    allow 5 and 2 points (and a retraining request went out to learn the nulls)."""
    assert not counted({"a": 0.5, "b": 0.5}, {"a": 0.49, "b": 0.49, None: 0.02}, n=10000)
    assert not counted({"a": 0.5, "b": 0.5}, {"a": 0.49, "b": 0.49, "new": 0.02}, n=10000)
