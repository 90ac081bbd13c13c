"""Known values: our exact paths agree with scipy and POT to 1e-9 relative."""

from __future__ import annotations

import numpy as np
import ot
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from driftscope.detectors.binning import categorical_counts
from driftscope.detectors.chi2 import ChiSquare
from driftscope.detectors.emd import EMD, wasserstein_1d
from driftscope.detectors.jensen_shannon import jensen_shannon_distance
from driftscope.detectors.ks import KS
from driftscope.detectors.pot_emd import OTDistance
from driftscope.detectors.significance import Constant, PValue
from driftscope.detectors.sliced import SlicedWasserstein

RTOL = 1e-9
SIZES = [(1, 1), (1, 7), (5, 3), (50, 50), (200, 137), (1000, 999)]


@pytest.mark.parametrize(("n", "m"), SIZES)
def test_emd_matches_scipy(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 1000 + m)
    x, y = rng.standard_t(3, size=n), rng.normal(0.3, 2.0, size=m)
    fitted = EMD(Constant(1.0), normalise="none", trim=0).fit(x, rng=rng)
    expected = stats.wasserstein_distance(x, y)
    assert fitted.score(y).statistic == pytest.approx(expected, rel=RTOL)
    assert wasserstein_1d(x, y) == pytest.approx(expected, rel=RTOL)


def test_emd_matches_scipy_with_ties_and_p2() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, 300).astype(float)
    y = rng.integers(1, 7, 211).astype(float)
    assert wasserstein_1d(x, y) == pytest.approx(stats.wasserstein_distance(x, y), rel=RTOL)
    assert wasserstein_1d(x, y, p=2) == pytest.approx(ot.wasserstein_1d(x, y, p=2) ** 0.5, rel=RTOL)


def test_emd_normalised_by_iqr() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=500), rng.normal(1.0, size=400)
    q1, q3 = np.quantile(x, [0.25, 0.75])
    s = EMD(Constant(1.0), trim=0).fit(x, rng=rng).score(y)
    assert s.statistic == pytest.approx(stats.wasserstein_distance(x, y) / (q3 - q1), rel=RTOL)


@pytest.mark.parametrize(("n", "m"), [(30, 40), (500, 321), (2000, 2000)])
def test_ks_matches_scipy(n: int, m: int) -> None:
    rng = np.random.default_rng(n + m)
    x, y = rng.normal(size=n), rng.normal(0.1, 1.1, size=m)
    s = KS(PValue(0.05)).fit(x, rng=rng).score(y)
    ref = stats.ks_2samp(x, y, method="asymp")
    assert s.statistic == pytest.approx(ref.statistic, rel=RTOL)
    assert s.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert s.drifted == (ref.pvalue < 0.05)


def test_chi2_matches_scipy_chi2_contingency() -> None:
    rng = np.random.default_rng(3)
    cats = np.array(["a", "b", "c", "d"], dtype=object)
    ref = rng.choice(cats, 1000, p=[0.4, 0.3, 0.2, 0.1])
    cur = rng.choice(cats, 700, p=[0.35, 0.3, 0.2, 0.15])
    s = ChiSquare().fit(ref, rng=rng).score(cur)
    rc = categorical_counts(ref.astype(str), 0, np.unique(ref.astype(str)))[:4]
    cc = categorical_counts(cur.astype(str), 0, np.unique(ref.astype(str)))[:4]
    expected = stats.chi2_contingency(np.vstack([rc, cc]), correction=False)
    assert s.statistic == pytest.approx(expected.statistic, rel=RTOL)
    assert s.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert s.threshold == pytest.approx(stats.chi2.isf(0.05, 3), rel=RTOL)


def test_chi2_holds_its_false_alarm_rate_with_a_reference_of_twice_the_window() -> None:
    """The reference is a sample too: tested as exact frequencies, 41 of 300 windows like
    it drifted at alpha 5 % (and one value beyond its range alone made a window drift)."""
    rng = np.random.default_rng(0)
    fitted = ChiSquare().fit(rng.normal(size=2000), rng=rng)
    drifted = sum(fitted.score(rng.normal(size=1000)).drifted for _ in range(300))
    assert drifted <= 25  # 5 % of 300 is 15; 41 before
    quantiles = np.quantile(rng.normal(size=2000), (np.arange(100) + 0.5) / 100)
    quantiles[-1] = 50.0  # one value far beyond the reference's range
    assert not fitted.score(quantiles).drifted


def test_jensen_shannon_matches_scipy() -> None:
    rng = np.random.default_rng(4)
    p, q = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(7))
    q[2] = 0.0
    q /= q.sum()
    assert jensen_shannon_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), rel=RTOL)


@pytest.mark.parametrize("n", [5, 40, 120])
def test_ot_exact_matches_pot(n: int) -> None:
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=(n, 3)), rng.normal(0.5, size=(n + 3, 3))
    fitted = OTDistance(Constant(1.0)).fit(x, rng=rng)
    xs, ys = fitted.standard.apply(x), fitted.standard.apply(y)  # median, IQR, fences
    a, b = np.full(len(xs), 1 / len(xs)), np.full(len(ys), 1 / len(ys))
    expected = ot.emd2(a, b, ot.dist(xs, ys, metric="euclidean"))
    assert fitted.score(y).statistic == pytest.approx(expected, rel=RTOL)


def test_ot_one_dimension_equals_wasserstein() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(60, 1)), rng.normal(1.0, size=(45, 1))
    fitted = OTDistance(Constant(1.0)).fit(x, rng=rng)
    iqr = np.subtract(*np.percentile(x, [75, 25]))  # the robust standardiser's scale
    expected = stats.wasserstein_distance(x[:, 0], y[:, 0]) / (iqr / 1.3489795003921634)
    assert fitted.score(y).statistic == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("p", [1, 2])
def test_sliced_matches_pot(p: int) -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(300, 5)), rng.normal(0.2, size=(250, 5))
    fitted = SlicedWasserstein(Constant(1.0), n_projections=20, p=p).fit(x, rng=rng)
    xs = fitted.standard.apply(x)
    ys = fitted.standard.apply(y)
    expected = ot.sliced_wasserstein_distance(xs, ys, projections=fitted.directions, p=p)
    assert fitted.score(y).statistic == pytest.approx(expected, rel=RTOL)


def test_ot_sinkhorn_matches_pot_and_approaches_exact() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(40, 2)), rng.normal(1.0, size=(30, 2))
    exact = OTDistance(Constant(1.0)).fit(x, rng=rng).score(y).statistic
    fitted = OTDistance(Constant(1.0), method="sinkhorn", reg=0.05).fit(x, rng=rng)
    xs, ys = fitted.standard.apply(x), fitted.standard.apply(y)
    a, b = np.full(40, 1 / 40), np.full(30, 1 / 30)
    expected = float(ot.sinkhorn2(a, b, ot.dist(xs, ys, metric="euclidean"), 0.05))
    got = fitted.score(y).statistic
    assert got == pytest.approx(expected, rel=RTOL)
    assert got == pytest.approx(exact, rel=0.05)
