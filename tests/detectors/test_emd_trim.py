"""EMD's winsorised distance (``trim``, default 1 %): what a heavy-tailed feature's
handful of extreme values may and may not do to it."""

from __future__ import annotations

import numpy as np
import pytest

from driftscope.detectors.emd import (
    DEFAULT_TRIM,
    DISCRETE_MAX,
    EMD,
    FittedEMD,
    winsorize_sorted,
)
from driftscope.detectors.significance import Constant


def _quantile_integral(x: np.ndarray, y: np.ndarray, trim: float) -> float:
    """``∫₀¹ |clip(Qx(t)) − clip(Qy(t))| dt`` with ``Q(t) = x_(⌈n·t⌉)`` each clipped at its
    own ``trim`` quantile ``x_(r)`` and the value as far from the top ``x_(n+1−r)``, summed
    exactly over the merged breakpoints."""
    xs, ys = np.sort(x), np.sort(y)

    def q(s: np.ndarray, t: np.ndarray) -> np.ndarray:
        return s[np.clip(np.ceil(len(s) * t - 1e-12).astype(int) - 1, 0, len(s) - 1)]

    def clipped(s: np.ndarray, t: np.ndarray) -> np.ndarray:
        r = max(int(np.ceil(len(s) * trim - 1e-12)), 1)
        lo, hi = s[r - 1], s[len(s) - r]
        return np.clip(q(s, t), lo, hi) if trim > 0 else q(s, t)

    cuts = np.unique(np.concatenate([[0.0, 1.0], np.arange(1, len(xs)) / len(xs),
                                     np.arange(1, len(ys)) / len(ys)]))
    mid = (cuts[:-1] + cuts[1:]) / 2
    return float(np.sum(np.diff(cuts) * np.abs(clipped(xs, mid) - clipped(ys, mid))))


@pytest.mark.parametrize(("n", "m", "trim"), [
    (50, 50, 0.01), (200, 137, 0.01), (1000, 999, 0.01), (3000, 450, 0.05), (999, 2001, 0.005),
    (300, 300, 0.0),
])
def test_the_statistic_is_the_distance_between_winsorised_quantile_functions(
    n: int, m: int, trim: float
) -> None:
    rng = np.random.default_rng(n + m)
    x, y = rng.lognormal(sigma=2, size=n), np.round(rng.pareto(2.2, size=m), 1)
    got = EMD(Constant(1.0), normalise="none", trim=trim).fit(x, rng=rng).score(y).statistic
    assert got == pytest.approx(_quantile_integral(x, y, trim), rel=1e-9)


def test_a_shift_is_still_the_shift_and_the_default_trims_one_percent() -> None:
    x = np.random.default_rng(1).standard_t(2, size=2000)
    fitted = EMD(Constant(1.0), normalise="none").fit(x, rng=np.random.default_rng(0))
    assert DEFAULT_TRIM == 0.01 and fitted.trim == 0.01
    assert fitted.score(x + 0.25).statistic == pytest.approx(0.25, rel=1e-9)


def test_winsorising_keeps_the_order_and_clips_only_the_tails() -> None:
    x = np.arange(1000.0)
    w = winsorize_sorted(x, 0.01)
    # 1 % of 1,000: the 10th value from each end is kept, the 9 beyond it take its value
    assert (w[:9] == 9.0).all() and (w[9:991] == x[9:991]).all() and (w[991:] == 990.0).all()
    assert (winsorize_sorted(x[:100], 0.01) == x[:100]).all()  # 1 % of 100: the extreme itself
    assert (winsorize_sorted(x[:101], 0.01)[[0, 1, 99, 100]] == [1, 1, 99, 99]).all()


def test_one_extreme_value_in_a_window_is_no_drift() -> None:
    """A single outlier (a 10⁶ in a feature of SD 1) moved the untrimmed distance by
    10⁶/1000 of a spread: the window paged. Trimmed, it weighs as the 99th percentile."""
    rng = np.random.default_rng(2)
    ref, cur = rng.normal(size=10_000), rng.normal(size=1000)
    cur[0] = 1e6
    assert EMD(trim=0).fit(ref, rng=rng).score(cur).drifted
    assert not EMD().fit(ref, rng=rng).score(cur).drifted


def test_a_sentinel_in_the_reference_no_longer_hides_a_shift() -> None:
    """0.2 % of the reference (and of the window) at a sentinel 999999: its count's noise
    made the untrimmed null so wide that a one-SD shift passed. (A sentinel share near
    the trim still widens the null: a resample holding more than 1 % of them keeps one.)"""
    rng = np.random.default_rng(3)

    def draw(k: int, mean: float) -> np.ndarray:
        v = rng.normal(mean, 1.0, size=k)
        v[rng.random(k) < 0.002] = 999_999.0
        return v

    ref, cur = draw(10_000, 0.0), draw(1000, 1.0)
    assert not EMD(trim=0).fit(ref, rng=rng).score(cur).drifted
    assert EMD().fit(ref, rng=rng).score(cur).drifted


def test_contamination_beyond_the_trim_is_still_seen() -> None:
    rng = np.random.default_rng(4)
    ref, cur = rng.normal(size=10_000), rng.normal(size=1000)
    cur[:30] = 999_999.0  # 3 % of the window: more than the 1 % trimmed
    score = EMD().fit(ref, rng=rng).score(cur)
    assert score.drifted and score.statistic > 1000


def test_heavy_tailed_features_get_calibrated_p_values(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Lognormal (σ = 2) windows of 500 against references of 4,000 drawn from the same
    law, 400 times: a p-value under 0.001 (what Benjamini–Hochberg needs across ten
    features) should come 0.4 times. Untrimmed, the exponential tail of the null
    extrapolated from 200 resamples gave 7; trimmed 0; untrimmed but with the windows the
    bootstrap flags judged against their permutation null (the default since session 17:
    a heavy-tailed feature), 0 too."""
    def small_p(trim: float) -> int:
        rng = np.random.default_rng(3)
        count = 0
        for r in range(400):
            fitted = EMD(trim=trim).fit(rng.lognormal(sigma=2, size=4000),
                                        rng=np.random.default_rng(r))
            p = fitted.score(rng.lognormal(sigma=2, size=500)).p_value
            count += p is not None and p < 0.001
        return count

    assert small_p(0.0) <= 2
    assert small_p(DEFAULT_TRIM) <= 2
    monkeypatch.setattr(FittedEMD, "_confirming_null", lambda self, pol, prepared: None)
    assert small_p(0.0) >= 4
    assert small_p(DEFAULT_TRIM) <= 2


def test_a_rare_flag_and_a_small_count_are_not_winsorised() -> None:
    """A 0/1 flag at 0.5 %: winsorising would clip every one of its ones to 0, and its rate
    doubling would pass unseen. A feature of few values keeps the plain distance."""
    rng = np.random.default_rng(5)
    ref = (rng.random(60_000) < 0.005).astype(float)
    cur = (rng.random(10_000) < 0.01).astype(float)
    fitted = EMD().fit(ref, rng=rng)
    assert fitted.ends == (False, False) and fitted.score(cur).drifted
    counts = rng.poisson(3, 5000).astype(float)
    assert len(np.unique(counts)) <= DISCRETE_MAX
    assert EMD().fit(counts, rng=rng).trim == 0.0
    assert EMD().fit(rng.normal(size=5000), rng=rng).trim == DEFAULT_TRIM


def test_a_zero_inflated_amount_keeps_its_rare_values() -> None:
    """99.5 % zeros and rare amounts of 1–100 (more than 20 distinct values): the top's
    clip value is 0, an atom, so the top is not clipped and the share of non-zero
    amounts going from 0.5 % to 0.9 % is seen, as by the plain distance."""
    rng = np.random.default_rng(6)

    def draw(k: int, share: float) -> np.ndarray:
        return np.where(rng.random(k) < share, rng.uniform(1, 100, k), 0.0)

    fitted = EMD().fit(draw(50_000, 0.005), rng=rng)
    assert fitted.ends == (False, False) and fitted.trim == 0.0
    assert sum(fitted.score(draw(10_000, 0.009)).drifted for _ in range(4)) >= 3

    half = np.where(rng.random(5000) < 0.5, rng.lognormal(size=5000), 0.0)
    assert EMD().fit(half, rng=rng).ends == (False, True)  # the zeros' end is not clipped


@pytest.mark.parametrize("zeros", [0.0, 0.5])
def test_the_bootstrap_from_counts_is_the_statistic_of_the_resample(zeros: float) -> None:
    rng = np.random.default_rng(7)
    ref = np.where(rng.random(400) < zeros, 0.0, rng.lognormal(sigma=1.5, size=400))
    fitted = EMD().fit(ref, rng=rng)
    assert fitted.ends == ((zeros == 0.0), True)
    k = len(fitted.ref_sorted)
    for m in (1, 3, 99, 100, 101, 250, 1000):
        counts = np.stack([np.bincount(rng.integers(0, k, m), minlength=k) for _ in range(4)])
        fast = fitted._counts_statistics(counts, np.zeros(4, dtype=int), m, fitted._own_cdf(),
                                         np.diff(fitted.ref_sorted))
        slow = [fitted._between(fitted.ref_sorted, 0, np.repeat(fitted.ref_sorted, c), 0)[0]
                for c in counts]
        assert fast == pytest.approx(slow, rel=1e-9, abs=1e-12)


def test_a_null_serves_no_size_that_clips_another_count() -> None:
    """Windows of 110 then 100 events (resamples of 104 and 95 against 2,000: one value
    clipped, then none): the second window's threshold is its own null's, not the first
    one's rescaled (which was a quarter lower on heavy tails)."""
    rng = np.random.default_rng(8)
    ref = rng.lognormal(sigma=2, size=2000)
    w110, w100 = rng.lognormal(sigma=2, size=110), rng.lognormal(sigma=2, size=100)
    both = EMD().fit(ref, rng=np.random.default_rng(1))
    both.score(w110)
    both.score(rng.lognormal(sigma=2, size=115))  # one value clipped too: the null serves
    assert sorted(both.null_pool.nulls) == [104]
    alone = EMD().fit(ref, rng=np.random.default_rng(1))
    assert both.score(w100).threshold == alone.score(w100).threshold
    assert sorted(both.null_pool.nulls) == [95, 104]
    # from 20 clipped values on, one clipped more is within the Monte Carlo noise: shared
    wide = EMD().fit(rng.lognormal(sigma=2, size=60_000), rng=np.random.default_rng(2))
    wide.score(rng.lognormal(sigma=2, size=5000))
    wide.score(rng.lognormal(sigma=2, size=5100))  # resamples of 4,615 and 4,717: 46/47
    assert len(wide.null_pool.nulls) == 1


@pytest.mark.parametrize(("trim", "law"), [(0.0, "lognormal"), (0.01, "lognormal"),
                                           (0.05, "lognormal"), (0.01, "zeros"),
                                           (0.01, "counts"), (0.05, "missing"),
                                           (0.01, "far out")])
def test_a_small_resample_scored_from_its_draws_is_the_one_scored_from_counts(
    trim: float, law: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resamples much smaller than the reference are scored from their sorted draws
    (``_draws_statistics``): the same statistics as from their counts over the reference,
    resample by resample, for every clipped-ends case, ties, resamples that drew only
    missing values, and values far out beyond the clip values."""
    import driftscope.detectors.emd as emd

    rng = np.random.default_rng(11)
    n = 3000
    ref = {"lognormal": lambda: rng.lognormal(sigma=2, size=n),
           "zeros": lambda: np.where(rng.random(n) < 0.5, 0.0, rng.lognormal(size=n)),
           "counts": lambda: rng.poisson(40, n).astype(float),
           "missing": lambda: np.where(rng.random(n) < 0.9, np.nan, rng.normal(size=n)),
           # junk far beyond the clip values: sums across its gap would lose every digit
           "far out": lambda: np.concatenate([rng.normal(100, 10, n - 2), [-1e15, 1e15]]),
           }[law]()
    fitted = EMD(trim=trim).fit(ref, rng=rng)
    k = len(fitted.ref_sorted)
    for m in (1, 2, 7, 60, 250):
        b = 9
        miss = rng.binomial(m, fitted.ref_missing / fitted._reference_size(), size=b)
        draws = rng.integers(0, k, int((m - miss).sum()))
        rows = np.repeat(np.arange(b), m - miss)
        counts = np.bincount(rows * k + draws, minlength=b * k).reshape(b, k)
        dense = fitted._counts_statistics(counts, miss, m, fitted._own_cdf(),
                                          np.diff(fitted.ref_sorted))
        sparse = fitted._draws_statistics(draws, m - miss, miss, m)
        assert sparse == pytest.approx(dense, rel=1e-9, abs=1e-12)
    # the null itself: the same draws in the same order, whichever way they are scored
    m = k // 20
    monkeypatch.setattr(emd, "SPARSE_BELOW", 10**9)
    dense_null = fitted._boot_statistics(np.random.default_rng(3), m, 200)
    monkeypatch.setattr(emd, "SPARSE_BELOW", 8)
    monkeypatch.setattr(emd, "DRAWS_BLOCK", 1000)  # several groups of resamples
    assert fitted._boot_statistics(np.random.default_rng(3), m, 200) == pytest.approx(
        dense_null, rel=1e-9, abs=1e-12)
