"""Metric axioms, property-based (DESIGN.md §5)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftscope.detectors.emd import EMD, wasserstein_1d
from driftscope.detectors.hellinger import hellinger_distance
from driftscope.detectors.jensen_shannon import jensen_shannon_distance
from driftscope.detectors.kl import kl_distance
from driftscope.detectors.l1 import L1
from driftscope.detectors.linf import LInf
from driftscope.detectors.mmd import MMD
from driftscope.detectors.pot_emd import OTDistance
from driftscope.detectors.psi import psi_distance
from driftscope.detectors.significance import Constant
from driftscope.detectors.sliced import SlicedWasserstein, combine, sliced_from_sorted

from .strategies import categories, finite, prob_vectors, samples

FAST = settings(max_examples=40, deadline=None)
TOL = 1e-9

METRICS = {
    "linf": LInf.distance,
    "l1": L1.distance,
    "hellinger": hellinger_distance,
    "jensen_shannon": jensen_shannon_distance,
}
DIVERGENCES = {**METRICS, "psi": psi_distance, "kl": kl_distance}


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
@FAST
@given(p=prob_vectors(6), q=prob_vectors(6))
def test_identity_and_non_negativity(name: str, p: np.ndarray, q: np.ndarray) -> None:
    f = DIVERGENCES[name]
    assert f(p, p) == pytest.approx(0.0, abs=TOL)
    assert f(p, q) >= 0.0


@pytest.mark.parametrize("name", sorted(set(DIVERGENCES) - {"kl"}))
@FAST
@given(p=prob_vectors(6), q=prob_vectors(6))
def test_symmetry(name: str, p: np.ndarray, q: np.ndarray) -> None:
    f = DIVERGENCES[name]
    assert f(p, q) == pytest.approx(f(q, p), rel=TOL, abs=TOL)


@pytest.mark.parametrize("name", sorted(METRICS))
@FAST
@given(p=prob_vectors(5), q=prob_vectors(5), r=prob_vectors(5))
def test_triangle_inequality(name: str, p: np.ndarray, q: np.ndarray, r: np.ndarray) -> None:
    f = METRICS[name]
    assert f(p, r) <= f(p, q) + f(q, r) + TOL


def test_kl_is_not_symmetric() -> None:  # documented weakness, kept honest
    p, q = np.array([0.9, 0.1]), np.array([0.5, 0.5])
    assert kl_distance(p, q) != pytest.approx(kl_distance(q, p))


@FAST
@given(ref=categories, cur=categories)
def test_linf_le_l1_le_2_on_data(ref: np.ndarray, cur: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    linf = LInf(Constant(0.1)).fit(ref, rng=rng).score(cur).statistic
    l1 = L1(Constant(0.1)).fit(ref, rng=rng).score(cur).statistic
    assert 0.0 <= linf <= l1 + TOL
    assert l1 <= 2.0 + TOL


@FAST
@given(ref=samples(1, 60), cur=samples(1, 60))
def test_linf_le_l1_le_2_on_numeric_bins(ref: np.ndarray, cur: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    linf = LInf(Constant(0.1), n_bins=5).fit(ref, rng=rng).score(cur).statistic
    l1 = L1(Constant(0.1), n_bins=5).fit(ref, rng=rng).score(cur).statistic
    assert 0.0 <= linf <= l1 + TOL <= 2.0 + 2 * TOL


@FAST
@given(x=samples(), y=samples(), z=samples())
def test_wasserstein_metric_axioms(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> None:
    assert wasserstein_1d(x, x) == 0.0
    assert wasserstein_1d(x, y) >= 0.0
    assert wasserstein_1d(x, y) == pytest.approx(wasserstein_1d(y, x), rel=TOL, abs=TOL)
    assert wasserstein_1d(x, z) <= wasserstein_1d(x, y) + wasserstein_1d(y, z) + 1e-7


@FAST
@given(x=samples(), c=finite)
def test_emd_of_a_shift_is_the_shift(x: np.ndarray, c: float) -> None:
    fitted = EMD(Constant(1.0), normalise="none").fit(x, rng=np.random.default_rng(0))
    assert fitted.score(x + c).statistic == pytest.approx(abs(c), rel=1e-9, abs=1e-9)


@FAST
@given(x=samples(2, 50), y=samples(2, 50), seed=st.integers(0, 1000))
def test_emd_row_order_invariance(x: np.ndarray, y: np.ndarray, seed: int) -> None:
    fitted = EMD(Constant(1.0)).fit(x, rng=np.random.default_rng(0))
    perm = np.random.default_rng(seed).permutation(len(y))
    assert fitted.score(y[perm]).statistic == fitted.score(y).statistic


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_multivariate_row_and_column_order_invariance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(30, 4)), rng.normal(0.3, size=(25, 4))
    rows, cols = rng.permutation(len(y)), rng.permutation(4)
    for det in (MMD(Constant(0.1)), OTDistance(Constant(0.1))):
        a = det.fit(x, rng=np.random.default_rng(1)).score(y).statistic
        b = det.fit(x[:, cols], rng=np.random.default_rng(1)).score(y[rows][:, cols]).statistic
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    sw = SlicedWasserstein(Constant(0.1)).fit(x, rng=np.random.default_rng(1))
    assert sw.score(y[rows]).statistic == pytest.approx(sw.score(y).statistic, rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.sampled_from([1, 2]))
def test_sliced_is_a_metric_for_fixed_directions(seed: int, p: int) -> None:
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(3, 8))
    dirs /= np.linalg.norm(dirs, axis=0)

    def sw(a: np.ndarray, b: np.ndarray) -> float:
        per = sliced_from_sorted(np.sort(a @ dirs, axis=0), np.sort(b @ dirs, axis=0), p)
        return combine(per, p)

    x, y, z = (rng.normal(rng.normal(), size=(int(rng.integers(5, 30)), 3)) for _ in range(3))
    assert sw(x, x) == 0.0
    assert sw(x, y) == pytest.approx(sw(y, x), rel=1e-12)
    assert sw(x, z) <= sw(x, y) + sw(y, z) + 1e-9
