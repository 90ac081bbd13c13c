"""Threshold policies, corrections and severity ranking."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from driftscope.detectors import registry
from driftscope.detectors.emd import EMD
from driftscope.detectors.linf import LInf
from driftscope.detectors.significance import (
    Constant,
    Permutation,
    PValue,
    ReferenceQuantile,
    benjamini_hochberg,
    bh_adjusted,
    bonferroni,
    p_value_from_null,
    permutation_threshold,
    rank_by_severity,
)
from driftscope.errors import ConfigError
from driftscope.types import Score


def test_permutation_threshold_agrees_with_p_value() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        perm = np.round(rng.normal(size=int(rng.integers(1, 60))), 1)
        stat, alpha = float(np.round(rng.normal(1.0), 1)), float(rng.uniform(0.01, 0.5))
        p = (np.sum(perm >= stat) + 1) / (len(perm) + 1)
        assert (stat > permutation_threshold(perm, alpha)) == (p <= alpha)


def test_permutation_p_value_is_never_zero() -> None:
    """Beyond every permutation it is the tail's (below ``1/(n + 1)``, never 0)."""
    x = np.zeros(100)
    s = EMD(Permutation(n=19)).fit(x, rng=np.random.default_rng(0)).score(x + 10.0)
    assert s.p_value is not None and 0 < s.p_value <= 1 / 20
    assert s.drifted and s.policy == "permutation"


def test_a_change_beyond_every_permutation_can_pass_the_models_multiple_testing() -> None:
    """Found in review: a permutation p-value was ``(b + 1)/(n + 1)``, 0.005 at the
    default 200, so the monitor's Benjamini–Hochberg step at 0.01 across seven tests never
    let ``mmd`` flag a correlation change 20 times over its threshold. Beyond every
    permutation, the p-value is the tail the reference-quantile policy models; within
    them it is still the count."""
    from driftscope.detectors.mmd import MMD

    rng = np.random.default_rng(0)
    d = 6
    tied = 0.8 * np.ones((d, d)) + 0.2 * np.eye(d)
    ref = rng.multivariate_normal(np.zeros(d), tied, size=600)
    moved = rng.normal(size=(300, d))  # every marginal N(0, 1) on both sides
    fitted = MMD(Permutation(n=200)).fit(ref, rng=np.random.default_rng(1))
    s = fitted.score(moved)
    assert s.drifted and s.p_value is not None and s.p_value < 0.01 / 7
    same = fitted.score(rng.multivariate_normal(np.zeros(d), tied, size=300))
    assert same.p_value is not None and same.p_value >= 1 / 201


def test_too_few_permutations_never_drift() -> None:
    x = np.zeros(100)
    s = EMD(Permutation(n=5, alpha=0.05)).fit(x, rng=np.random.default_rng(0)).score(x + 10.0)
    assert s.threshold == float("inf") and not s.drifted


def test_reference_quantile_false_alarm_rate() -> None:
    rng = np.random.default_rng(1)
    cats = np.array(list("abcdefgh"), dtype=object)
    p = np.linspace(1, 2, 8) / np.linspace(1, 2, 8).sum()
    fitted = LInf(ReferenceQuantile(q=0.95, n_boot=400)).fit(rng.choice(cats, 5000, p=p), rng=rng)
    alarms = [fitted.score(rng.choice(cats, 500, p=p)).drifted for _ in range(200)]
    assert 0.0 < np.mean(alarms) < 0.12
    assert fitted.score(rng.choice(cats, 500, p=p)).policy == "reference-quantile"


def test_reference_quantile_shrinks_with_window_size_and_is_cached() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=20_000)
    fitted = EMD(ReferenceQuantile(q=0.99)).fit(x, rng=rng)
    small = fitted.score(rng.normal(size=100)).threshold
    large = fitted.score(rng.normal(size=10_000)).threshold
    assert large < small
    assert set(fitted._cache) == {100, 10_000}


def test_p_value_from_null_empirical_part_and_tail() -> None:
    null = np.sort(np.random.default_rng(0).exponential(size=500))
    assert p_value_from_null(-1.0, null) == 1.0
    median = float(np.median(null))
    assert p_value_from_null(median, null) == pytest.approx(0.5, abs=0.01)
    u = float(np.quantile(null, 0.9))
    tail = [p_value_from_null(u + d, null) for d in (0.01, 1.0, 5.0, 20.0)]
    assert tail == sorted(tail, reverse=True) and len(set(tail)) == len(tail)  # decreasing
    assert tail[0] <= 0.1 and 0 < tail[-1] < 1e-6
    assert p_value_from_null(1.0, np.zeros(50)) == 0.0  # no spread: beyond it is impossible
    with pytest.raises(ValueError):
        p_value_from_null(1.0, np.array([]))


def test_a_shaped_tail_reads_a_heavy_null_where_the_exponential_cannot() -> None:
    """Nulls of 200 from a Lomax law (tail index 3: P(X > x) = (1 + x)^-3): the point
    with P = 1e-4 (x = 20.5) gets about 1e-4 from the shaped tail, and from an exponential
    fitted to the same top 20 a p-value thousands of times too small. On an exponential
    null the shaped tail keeps the exponential's reading."""
    x = 1e-4 ** (-1 / 3) - 1
    shaped, plain, light = [], [], []
    for seed in range(25):
        rng = np.random.default_rng(seed)
        null = np.sort(rng.pareto(3.0, size=200))
        shaped.append(p_value_from_null(x, null, shaped=True))
        plain.append(p_value_from_null(x, null))
        expo = np.sort(rng.exponential(size=200))
        light.append(p_value_from_null(9.0, expo, shaped=True) / p_value_from_null(9.0, expo))
    assert 2e-5 < np.median(shaped) < 5e-4
    assert np.median(plain) < 1e-6
    assert 0.5 < np.median(light) < 3  # (a shape fitted at 0 or below: the exponential)


def test_reference_quantile_p_values_valid_under_the_null_small_under_a_shift() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=10_000)
    fitted = EMD(ReferenceQuantile(q=0.99, n_boot=200)).fit(x, rng=rng)
    null_p = np.array([fitted.score(rng.normal(size=500)).p_value for _ in range(300)])
    assert np.all((null_p > 0) & (null_p <= 1))
    assert 0.35 < np.mean(null_p) < 0.65  # uniform-ish: mean 1/2
    for level in (0.05, 0.1, 0.5):  # valid: P(p <= a) about a, never far above
        assert np.mean(null_p <= level) < level + 0.1  # (one reference: p-values correlate)
    shifted = fitted.score(rng.normal(0.35, 1.0, size=500))
    assert shifted.p_value is not None and shifted.p_value < 1e-4 and shifted.drifted
    # the threshold is still the q-quantile: p <= 1 - q wherever the feature drifted
    s = fitted.score(rng.normal(0.12, 1.0, size=500))
    assert s.policy == "reference-quantile" and s.p_value is not None
    assert not s.drifted or s.p_value <= 0.011


def test_reference_quantile_floor() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=50_000)
    fitted = EMD(ReferenceQuantile(floor=0.05)).fit(x, rng=rng)
    s = fitted.score(rng.normal(0.01, size=50_000))  # tiny, real shift
    assert s.threshold == 0.05 and not s.drifted


def test_constant_policy() -> None:
    s = EMD(Constant(0.5), normalise="none").fit(np.zeros(10), rng=np.random.default_rng(0))
    assert s.score(np.ones(10)).threshold == 0.5
    assert s.score(np.ones(10)).policy == "constant"


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Constant(-1),
        lambda: ReferenceQuantile(q=1.5),
        lambda: Permutation(n=0),
        lambda: PValue(alpha=0),
        lambda: ReferenceQuantile(n_boot=2),
    ],
)
def test_bad_policies_are_config_errors(bad: Callable[[], object]) -> None:
    with pytest.raises(ConfigError):
        bad()


def test_p_value_policy_needs_an_analytic_null() -> None:
    """Refused when the detector is made, not at its first window."""
    with pytest.raises(ConfigError, match="emd has no analytic null distribution"):
        EMD(PValue(0.05))
    for name, params in (("ks", {}), ("chi2", {}), ("mmd", {"estimator": "linear"})):
        assert registry.get(name, policy=PValue(0.05), **params).policy == PValue(0.05)
    for name in set(registry.names()) - {"ks", "chi2", "projected"}:
        with pytest.raises(ConfigError, match="no analytic null"):
            registry.get(name, policy=PValue(0.05))


def test_bonferroni_and_bh() -> None:
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]
    assert bonferroni(p, 0.05).sum() == 1
    assert benjamini_hochberg(p, 0.05).tolist() == [True, True] + [False] * 8
    q = bh_adjusted(p)
    assert np.array_equal(q <= 0.05, benjamini_hochberg(p, 0.05))
    assert q[0] == pytest.approx(0.01)
    assert benjamini_hochberg([], 0.05).size == 0


def test_rank_by_severity() -> None:
    scores = {
        "cat": Score(0.3, 0.1, "constant"),  # severity 3
        "num": Score(0.5, 0.25, "reference-quantile"),  # severity 2
        "ok": Score(0.01, 0.1, "constant"),
    }
    assert [n for n, _ in rank_by_severity(scores)] == ["cat", "num", "ok"]


def test_emd_fast_bootstrap_equals_the_generic_one() -> None:
    from driftscope.detectors.base import FittedBase

    rng = np.random.default_rng(4)
    x = np.round(rng.normal(size=500), 1)  # ties
    x[:20] = np.nan
    fitted = EMD().fit(x, rng=rng)
    for m in (1, 7, 300):
        fast = fitted._boot_statistic(np.random.default_rng(m), m)
        # same draws through the generic path: resample then score
        slow = FittedBase._boot_statistic(fitted, np.random.default_rng(m), m)
        assert fast == pytest.approx(slow, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("trim", [0.0, 0.01, 0.05])
def test_emd_batched_bootstrap_matches_explicit_resamples(trim: float) -> None:
    from driftscope.detectors.emd import wasserstein_sorted, winsorize_sorted

    rng = np.random.default_rng(6)
    x = rng.exponential(size=300)
    x[:30] = np.nan
    fitted = EMD(trim=trim).fit(x, rng=rng)
    m, b = 120, 4
    got = fitted._boot_statistics(np.random.default_rng(5), m, b)
    draws = np.random.default_rng(5)
    rate = 30 / 300
    miss = draws.binomial(m, rate, size=b)
    idx = draws.integers(0, 270, int((m - miss).sum()))
    parts = np.split(idx, np.cumsum(m - miss)[:-1])
    for i in range(b):
        sample = fitted.ref_sorted[np.sort(parts[i])]
        w = wasserstein_sorted(winsorize_sorted(fitted.ref_sorted, trim),
                               winsorize_sorted(sample, trim)) / fitted.scale
        assert got[i] == pytest.approx(w + abs(rate - miss[i] / m), rel=1e-9)


def test_p_values_flag_trivial_differences_at_large_n_while_a_floor_does_not() -> None:
    """The documented weakness of chi-square/KS at large n, and the floor that avoids it."""
    from driftscope.detectors.chi2 import ChiSquare

    rng = np.random.default_rng(8)
    cats = np.array(["a", "b", "c"], dtype=object)
    ref = rng.choice(cats, 200_000, p=[0.5, 0.3, 0.2])
    cur = rng.choice(cats, 200_000, p=[0.49, 0.31, 0.2])  # a 1-point move nobody cares about
    assert ChiSquare().fit(ref, rng=rng).score(cur).drifted
    floored = LInf(ReferenceQuantile(floor=0.02)).fit(ref, rng=rng).score(cur)
    assert not floored.drifted and floored.statistic > 0.005


def test_a_null_tied_over_its_tail_gives_a_p_value_not_zero() -> None:
    """Small windows over few bins give a discrete null whose top 10 % is one value: a
    statistic just above it had p = 0 (Benjamini–Hochberg always rejects it); the scale
    comes from the spread above the median now. A constant null still gives 0."""
    from driftscope.detectors.significance import p_value_from_null

    null = np.sort(np.concatenate([np.linspace(0.0, 0.2, 80), np.full(20, 0.3)]))
    p = p_value_from_null(0.31, null)
    assert 0.0 < p < 0.1
    assert p_value_from_null(0.5, null) < p
    assert p_value_from_null(0.01, np.zeros(100)) == 0.0
    # tied but for rounding (l1's top value 1.0000000000000002 over a quantile of 1.0):
    # the scale was 2e-16 and a statistic of 1.2 got p = 0
    rounded = np.sort(np.concatenate([np.linspace(0.2, 1.0, 89), np.full(10, 1.0),
                                      [1.0000000000000002]]))
    assert p_value_from_null(1.2, rounded) > 1e-4
    # half the null tied at its top, nothing above the median: as far as B can tell
    assert p_value_from_null(2.0, np.sort(np.r_[np.zeros(40), np.ones(60)])) == 1 / 101
