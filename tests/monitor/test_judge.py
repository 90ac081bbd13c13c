"""Pure pieces of the monitor: is-it-bad decisions, FDR control, performance metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from driftscope.alerts.messages import describe
from driftscope.alerts.model import Finding
from driftscope.monitor import judge, performance
from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.detect import Scored
from driftscope.monitor.evaluate import Row, _judge_history
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


def _performance_row(value: float, hist: list[float]) -> Row:
    cfg = MonitorConfig.model_validate({
        "name": "mon", "model": "m", "features": ["x"],
        "performance": {"task": "classification", "prediction": "pred"}})
    row = Row("performance", "*", "*", "accuracy", value, math.nan, "none", False, n_cur=200,
              fingerprint="performance")
    _judge_history(cfg, row, [(v, math.nan) for v in hist], 1)
    return row


def test_an_accuracy_inside_its_band_is_no_anomaly_when_most_past_values_are_one() -> None:
    """Found in review: fourteen windows at 1.0 and ten at 0.97 (few labels) have no
    median absolute deviation; the scale fell to 1e-3 and 0.99 paged as an anomaly (z 10),
    its finding reading "0.99 < 0.927, band", a bound it was above."""
    hist = [1.0] * 14 + [0.97] * 10
    assert judge.robust_z(0.99, hist) < 1
    row = _performance_row(0.99, hist)
    assert not row.bad
    assert _performance_row(0.80, hist).bad  # a real fall still is


def test_an_anomaly_inside_the_band_shows_the_bound_it_crossed() -> None:
    """Good past values at 0.9 with a few lower ones widen the band (mean ± 4 sd) more than
    the anomaly's robust scale: 0.65 is inside the band and an anomaly. Its finding says
    so with the anomaly's bound, which it is below (before: the band's, which it was
    above, and a severity under 1)."""
    hist = [0.9] * 20 + [0.7, 0.75, 0.8, 0.72]
    row = _performance_row(0.65, hist)
    band_lo, anomaly_lo = row.details["band"][0], row.details["anomaly"][0]
    assert band_lo < 0.65 < anomaly_lo
    assert row.bad and row.reason == row.policy == "anomaly" and row.threshold == anomaly_lo
    f = Finding(row.kind, row.segment, row.feature, row.metric, row.statistic,
                row.threshold, row.policy, row.reason)
    assert describe(f) == f"accuracy (accuracy 0.65 < {anomaly_lo:.3g}, anomaly)"
    assert f.severity > 1


def test_a_pass_failing_again_and_again_is_told_once(caplog: pytest.LogCaptureFixture) -> None:
    """``serve`` and ``driftscope monitor`` tell a failed pass once while it keeps failing
    the same way, even when its message carries numbers that change (a memory error names
    its amount), again every ``every`` seconds, and once when passes work again."""
    from driftscope.monitor.service import PassFailures

    now = [0.0]
    failures = PassFailures("serve", every=600, clock=lambda: now[0])
    with caplog.at_level("INFO", logger="driftscope.monitor"):
        for gib in (3.52, 3.55, 3.61):
            failures.failed(RuntimeError(f"Memory limit exceeded: would use {gib} GiB"))
        failures.failed(KeyError("window"))  # another error: told
        now[0] = 700.0
        failures.failed(KeyError("window"))  # the same, 10 minutes on: told again
        failures.ok()
    assert [r.getMessage().split(": ", 1)[1] for r in caplog.records] == [
        "monitor pass failed (1 in a row); the next pass tries again: RuntimeError: Memory "
        "limit exceeded: would use 3.52 GiB",
        "monitor pass failed (4 in a row); the next pass tries again: KeyError: 'window'",
        "monitor pass failed (5 in a row); the next pass tries again: KeyError: 'window'",
        "monitor passes work again, after 5 failed"]


def test_a_history_of_few_labels_that_happened_to_agree_is_no_narrow_band() -> None:
    """Found in review: 24 windows of 25 labels all right (accuracy 1.0, standard errors
    kept), then 1 wrong of 100: the spread fell to its 1e-3 floor, the band to 0.996 and
    the anomaly's z to 10, and it paged; the mean of 24 windows of 25 labels is itself
    uncertain."""
    hist, past = [1.0] * 24, [performance.binomial_se(1.0, 25)] * 24
    se = performance.binomial_se(1.0, 100)
    lo, _ = judge.predicted_range(hist, 4, se, past)
    assert lo < 0.99 - 0.03
    assert judge.robust_z(0.99, hist, se, past) < 1
    assert judge.robust_z(0.80, hist, se, past) > 6  # a real fall is still one
