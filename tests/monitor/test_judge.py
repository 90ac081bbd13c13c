"""Pure pieces of the monitor: is-it-bad decisions, FDR control, performance metrics."""

from __future__ import annotations

import numpy as np
from scipy.stats import mannwhitneyu

from driftscope.monitor import judge, performance
from driftscope.monitor.detect import Scored
from driftscope.types import Score


def scored(stat: float, thr: float, p: float | None, min_effect: float = 0.0) -> Scored:
    return Scored("*", "f", "linf", Score(stat, thr, "permutation", p), 100, 100, "fp",
                  min_effect)


def test_fdr_needs_significance_and_effect_never_a_p_value_alone() -> None:
    tests = [scored(0.3, 0.1, 0.001, 0.1), scored(0.05, 0.01, 0.001, 0.1),
             scored(0.3, 0.1, 0.04, 0.1), scored(0.3, 0.1, None, 0.1)]
    assert judge.fdr_control(tests, "bh", 0.05) == [True, False, True, True]
    assert judge.fdr_control(tests, "bonferroni", 0.05) == [True, False, False, True]
    assert judge.fdr_control(tests, "none", 0.05) == [True, False, True, True]


def test_bh_across_many_null_tests_rejects_nothing() -> None:
    rng = np.random.default_rng(0)
    tests = [scored(0.3, 0.1, float(p), 0.1) for p in rng.uniform(0.02, 1, 40)]
    assert not any(judge.fdr_control(tests, "bh", 0.05))


def test_predicted_range_anomaly_and_seasonal_history() -> None:
    hist = [0.90, 0.91, 0.89, 0.90, 0.92, 0.90, 0.91, 0.89]
    lo, hi = judge.predicted_range(hist, k=4)
    assert judge.performance_bad("accuracy", 0.80, lo, hi)
    assert not judge.performance_bad("accuracy", 0.95, lo, hi)
    assert judge.performance_bad("mae", 10.0, lo, hi)
    assert judge.robust_z(0.905, hist) < 1 < judge.robust_z(0.5, hist)
    assert judge.seasonal_history([1, 2, 3, 4, 5, 6], 3) == [4, 1]
    assert judge.rule_breached(">=", 0.05, 0.05) and not judge.rule_breached("<", np.nan, 1)


def test_classification_and_regression_metrics() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    s = y * 0.5 + rng.uniform(size=200)
    auc = performance.roc_auc(y, s)
    u = mannwhitneyu(s[y == 1], s[y == 0]).statistic / ((y == 1).sum() * (y == 0).sum())
    assert abs(auc - u) < 1e-12
    labels = np.array(["1", "0", "1", "1", None], dtype=object)
    preds = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=object)
    m = performance.metrics("classification", labels, preds, None, "1")
    assert m["accuracy"] == 0.75 and abs(m["f1"] - 0.8) < 1e-12
    r = performance.regression(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 5.0]))
    assert r["mae"] == 1.0 and abs(r["rmse"] - np.sqrt(5 / 3)) < 1e-12
