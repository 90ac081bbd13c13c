"""`projected`: free of a column's units, held-out PCA error like a fresh window's, a
too-small reference for the autoencoder refused, and importance named by component."""

from __future__ import annotations

import numpy as np
import pytest

from driftscope.detectors import registry
from driftscope.errors import DetectorInputError


@pytest.mark.parametrize("projection", ["pca", "gaussian_random", "sparse_random", "analytical"])
def test_a_column_in_other_units_gives_the_same_verdict(projection: str) -> None:
    """One column in km rather than metres (×1e-3) beside one in the 1e5s: a 3-SD shift of
    it was found in metres and missed in km (PCA: 20 and 0 of 20 windows)."""
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(size=(1000, 5)), rng.normal(size=(200, 5))
    ref[:, 0] *= 1e5
    cur[:, 0] *= 1e5
    cur[:, 2] += 3.0
    scores = []
    for unit in (1.0, 1e-3):
        r, c = ref.copy(), cur.copy()
        r[:, 2] *= unit
        c[:, 2] *= unit
        det = registry.get("projected", projection=projection)
        scores.append(det.fit(r, rng=np.random.default_rng(1)).score(c))
    metres, km = scores
    assert metres.drifted and km.drifted  # (thresholds: draws keyed by the bytes projected)
    assert km.details["component_statistic"] == pytest.approx(
        metres.details["component_statistic"], rel=1e-9)


def test_pca_with_many_features_against_few_rows_keeps_its_false_alarms() -> None:
    """50 reference rows × 200 features, windows of 50 alike: each half of the reference
    was reconstructed about a mean that held its own rows, so its error was ~2d/n lower
    than a fresh window's and 24 % of windows drifted (3 components at q = 0.99: ~3 %)."""
    drifted = 0
    for t in range(60):
        rng = np.random.default_rng([38, t])
        ref, cur = rng.normal(size=(50, 200)), rng.normal(size=(50, 200))
        drifted += registry.get("projected").fit(ref, rng=np.random.default_rng(t)).score(
            cur).drifted
    assert drifted <= 12


def test_the_autoencoder_refuses_a_reference_it_cannot_hold_out() -> None:
    """Under 100 rows the autoencoder learned from the rows its detectors were fitted on,
    and 72–92 % of windows without drift were flagged."""
    from driftscope.detectors.projected import MIN_HALF

    ref = np.random.default_rng(0).normal(size=(2 * MIN_HALF - 1, 10))
    det = registry.get("projected", projection="autoencoder", projection_params={"epochs": 1})
    with pytest.raises(DetectorInputError, match=f"at least {2 * MIN_HALF} rows"):
        det.fit(ref, rng=np.random.default_rng(0))


def test_importance_over_projected_components_is_not_called_feature_importance() -> None:
    """With MMD inside, ``feature_importance`` ranked the projected components (0, 1, 2) as
    if they were features; feature 3, the one that moved, was never named."""
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(size=(400, 8)), rng.normal(size=(200, 8))
    cur[:, 3] += 1.0
    score = registry.get("projected", detector="mmd").fit(
        ref, rng=np.random.default_rng(0)).score(cur)
    assert "feature_importance" not in score.details
    assert {i for i, _ in score.details["component_importance"]} <= set(range(3))


def test_a_users_analytical_functions_get_the_window_as_given() -> None:
    """The review of the change: standardising every analytical projection handed users'
    functions z-scores (a price per unit became a ratio of z-scores) and an array where
    they read a DataFrame's columns. Only the default functions read standardised rows."""
    import pandas as pd

    from driftscope.detectors.projections import Analytical

    rng = np.random.default_rng(0)
    ref = np.column_stack([rng.normal(100, 10, 500), rng.normal(10, 1, 500)])
    unit = Analytical({"unit_price": lambda x: x[:, 0] / x[:, 1]})
    got = unit.fit(ref, rng=np.random.default_rng(0)).transform(ref[:3]).ravel()
    assert np.allclose(got, ref[:3, 0] / ref[:3, 1])
    df = pd.DataFrame(ref, columns=["price", "qty"])
    named = Analytical({"unit": lambda x: (x["price"] / x["qty"]).to_numpy()})
    assert named.fit(df, rng=np.random.default_rng(0)).transform(df).shape == (500, 1)
