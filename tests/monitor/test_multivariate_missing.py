"""The multivariate check with missing values: it kept only rows complete in every
feature, so one feature absent from a window, or 2 % of values missing at random among
256 features, left no row to score, and the check was skipped without a word."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.detect import Fitter
from driftscope.monitor.evaluate import drift_rows
from driftscope.monitor.frame import Frame

Mutate = Callable[[np.random.Generator, np.ndarray, np.ndarray], None]


def multivariate(d: int, shift: float, mutate: Mutate, seed: int = 0) -> dict[str, object]:
    """The mmd row of a window of 300 against a reference of 600 (empty: none written)."""
    names = [f"f{j}" for j in range(d)]
    cfg = MonitorConfig(name="emb", model="m", features=names,
                        detectors=[{"name": "mmd", "threshold": {"policy": "permutation"}}])
    rng = np.random.default_rng(seed)
    ref, cur = rng.normal(size=(600, d)), rng.normal(size=(300, d)) + shift
    mutate(rng, ref, cur)

    def frame(x: np.ndarray) -> Frame:
        return Frame(np.arange(len(x)).astype("datetime64[ms]"),
                     {f: x[:, j].copy() for j, f in enumerate(names)})

    rows = [r for r in drift_rows(cfg, Fitter(0), frame(cur), frame(ref))
            if r.feature == "multivariate"]
    return {} if not rows else {"drifted": rows[0].details["model_level"],
                                "left_out": rows[0].details.get("left_out", [])}


def gone(rng: np.random.Generator, ref: np.ndarray, cur: np.ndarray) -> None:
    cur[:, 5] = np.nan  # a feature absent from every event of the window


def scattered(rng: np.random.Generator, ref: np.ndarray, cur: np.ndarray) -> None:
    ref[rng.random(ref.shape) < 0.02] = np.nan  # 2 % of values, both sides
    cur[rng.random(cur.shape) < 0.02] = np.nan


def test_a_feature_gone_from_the_window_is_left_out_and_the_rest_still_judged() -> None:
    assert multivariate(32, 0.3, gone) == {"drifted": True, "left_out": ["f5"]}
    assert multivariate(32, 0.0, gone) == {"drifted": False, "left_out": ["f5"]}


def test_values_missing_here_and_there_are_judged_at_the_same_level() -> None:
    assert multivariate(128, 0.3, scattered) == {"drifted": True, "left_out": []}
    quiet = [multivariate(128, 0.0, scattered, seed)["drifted"] for seed in range(10)]
    assert sum(map(bool, quiet)) <= 1, quiet
