"""Projections: shapes, reproducibility, pickling, and drift measured on projected data."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from driftscope.detectors import registry
from driftscope.detectors.projected import ProjectedDetector
from driftscope.detectors.projections import PCA, Autoencoder, GaussianRandom, SparseRandom
from driftscope.detectors.significance import Permutation

NAMES = registry.projection_names()


def _data(seed: int = 0, n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 3))
    return latent @ rng.normal(size=(3, 12)) + 0.1 * rng.normal(size=(n, 12))


@pytest.mark.parametrize("name", NAMES)
def test_seeded_reproducible_and_picklable(name: str) -> None:
    x = _data()
    proj = registry.get_projection(name)
    a = proj.fit(x, rng=np.random.default_rng(5)).transform(x)
    fitted = proj.fit(x, rng=np.random.default_rng(5))
    b = pickle.loads(pickle.dumps(fitted)).transform(x)
    np.testing.assert_array_equal(a, b)
    assert a.ndim == 2 and a.shape[0] == len(x) and np.all(np.isfinite(a))


def test_random_projections_preserve_distances_roughly() -> None:
    x = np.random.default_rng(1).normal(size=(50, 400))
    for proj in (GaussianRandom(k=200), SparseRandom(k=200)):
        z = proj.fit(x, rng=np.random.default_rng(0)).transform(x)
        d_x = np.linalg.norm(x[0] - x[1:], axis=1)
        d_z = np.linalg.norm(z[0] - z[1:], axis=1)
        assert np.all(np.abs(d_z / d_x - 1) < 0.35)


def test_pca_reconstruction_error_flags_off_manifold_rows() -> None:
    x = _data()
    f = PCA(k=3).fit(x, rng=np.random.default_rng(0))
    on = f.transform(_data(seed=0))[:, -1]
    off = f.transform(np.random.default_rng(2).normal(size=(300, 12)))[:, -1]
    assert np.median(off) > 10 * np.median(on)


def test_autoencoder_learns_the_reference() -> None:
    x = _data(n=512)
    f = Autoencoder(k=3, epochs=40).fit(x, rng=np.random.default_rng(0))
    err_ref = f.transform(x)[:, -1].mean()
    err_noise = f.transform(np.random.default_rng(3).normal(size=(512, 12)) * 3)[:, -1].mean()
    assert err_ref < 0.3 and err_noise > err_ref


@pytest.mark.parametrize(
    ("projection", "detector"),
    [
        ("pca", "emd"),
        ("gaussian_random", "mmd"),
        ("analytical", "linf"),
        ("autoencoder", "sliced_wasserstein"),
        ("sparse_random", "ks"),
    ],
)
def test_projected_detector(projection: str, detector: str) -> None:
    x = _data()
    params = {"policy": Permutation(n=100)} if detector == "mmd" else {}
    proj_params = {"epochs": 5} if projection == "autoencoder" else {}
    det = ProjectedDetector(
        projection, detector, detector_params=params, projection_params=proj_params
    )
    fitted = det.fit(x, rng=np.random.default_rng(0))
    assert not fitted.score(_data(seed=0)).drifted
    shifted = _data(seed=0) * 2.0 + 1.0
    s = fitted.score(shifted)
    assert s.drifted and np.isfinite(s.statistic)


def test_projected_takes_a_policy_like_every_detector() -> None:
    from driftscope.detectors.significance import Constant

    det = registry.get("projected", policy=Constant(0.5), detector="emd")
    fitted = det.fit(_data(), rng=np.random.default_rng(0))
    assert fitted.score(_data(seed=0)).policy == "max-severity(constant)"
    assert all(f.policy == Constant(0.5) for f in fitted.fitted)


def test_every_detector_accepts_a_policy_keyword() -> None:
    from driftscope.detectors.significance import Constant

    for name in registry.names():
        assert registry.get(name, policy=Constant(0.3)) is not None


def test_pca_scores_of_the_reference_are_held_out_like_a_windows() -> None:
    """200 reference rows × 100 features, windows of 100 alike: the reference's top
    component scores, fitted on those very rows, spread wider than a fresh window's
    (their directions are where its own noise spreads most), and 90 % of like windows
    drifted. Each half is now scored by the other half's components."""
    drifted = 0
    for t in range(30):
        rng = np.random.default_rng([17, t])
        ref, cur = rng.normal(size=(200, 100)), rng.normal(size=(100, 100))
        drifted += registry.get("projected").fit(ref, rng=np.random.default_rng(t)).score(
            cur).drifted
    assert drifted <= 4  # 3 components at q = 0.99: about 1 in 30
    rng = np.random.default_rng(5)
    ref = rng.normal(size=(500, 8)) @ np.diag([4, 2, 1, 1, 1, 1, 1, 1.0])
    fitted = registry.get("projected").fit(ref, rng=np.random.default_rng(0))
    moved = rng.normal(size=(200, 8)) @ np.diag([4, 2, 1, 1, 1, 1, 1, 1.0]) + [2, 0, 0, 0, 0,
                                                                             0, 0, 0]
    assert fitted.score(moved).drifted  # a shift along the top component is still found


def test_pca_scores_of_the_reference_are_as_wide_as_a_fresh_windows() -> None:
    """Each half of the reference was centred at the other half's mean, which spread its
    scores 1.7× wider than a window's: 10 of 100 windows without drift were flagged at
    k = 2 on 64 features (a 99 % threshold)."""
    from driftscope.detectors.significance import ReferenceQuantile

    flagged = 0
    for i in range(100):
        rng = np.random.default_rng(i * 31 + 7)
        ref, cur = rng.normal(size=(1000, 64)), rng.normal(size=(500, 64))
        fitted = ProjectedDetector("pca", "emd", policy=ReferenceQuantile(q=0.99),
                                   projection_params={"k": 2}).fit(
            ref, rng=np.random.default_rng(i))
        flagged += fitted.score(cur).drifted
    assert flagged <= 5  # (2 now)


def test_an_analytical_projection_refuses_a_window_of_other_columns() -> None:
    """A window with 15 of the reference's 16 columns was projected (a row mean of 15
    values against means of 16) and scored without a word."""
    from driftscope.detectors.projections import Analytical
    from driftscope.errors import DetectorInputError

    rng = np.random.default_rng(0)
    fitted = Analytical().fit(rng.normal(size=(50, 16)), rng=rng)
    assert fitted.transform(rng.normal(size=(5, 16))).shape == (5, 2)
    with pytest.raises(DetectorInputError, match="has 15 columns, the reference has 16"):
        fitted.transform(rng.normal(size=(5, 15)))
