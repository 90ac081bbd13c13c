"""One stray row in the reference — a sentinel (999999999), a unit slip, the largest float —
must not blind a multivariate detector to a shift of several standard deviations, and the
row order of a reference kept in time order must not decide a test."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from driftscope.detectors import registry
from driftscope.detectors.significance import Permutation, PValue

CHEAP: dict[str, dict[str, Any]] = {
    "mmd": {"policy": Permutation(100)},
    "sliced_wasserstein": {},
    "ot_emd": {"policy": Permutation(50)},
}


@pytest.mark.parametrize("sentinel", [999_999_999.0, np.finfo(float).max])
@pytest.mark.parametrize("name", sorted(CHEAP))
def test_one_sentinel_row_does_not_hide_a_shift(name: str, sentinel: float) -> None:
    rng = np.random.default_rng(3)
    ref = rng.normal(size=(500, 3))
    ref[17, 0] = sentinel
    fitted = registry.get(name, **CHEAP[name]).fit(ref, rng=np.random.default_rng(0))
    shifted = rng.normal(size=(200, 3))
    shifted[:, 0] += 5.0
    score = fitted.score(shifted)
    assert np.isfinite(score.statistic) and score.drifted, score
    same = fitted.score(rng.normal(size=(200, 3)))
    assert not same.drifted, same


def test_linear_mmd_pairs_rows_at_random_not_in_time_order() -> None:
    """A reference in time order (morning N(0, 1), afternoon N(1, 1)) and windows of the
    whole day: the linear estimator paired the window with the morning rows only and
    flagged half the windows (50 of 100)."""
    rng = np.random.default_rng(5)
    ref = np.r_[rng.normal(0, 1, (1000, 2)), rng.normal(1, 1, (1000, 2))]
    flagged = 0
    for i in range(60):
        day = np.r_[rng.normal(0, 1, (100, 2)), rng.normal(1, 1, (100, 2))]
        fitted = registry.get("mmd", estimator="linear", policy=PValue(0.05)).fit(
            ref, rng=np.random.default_rng(i))
        flagged += fitted.score(day[rng.permutation(200)]).drifted
    assert flagged <= 8  # about 3 at alpha 0.05


@pytest.mark.parametrize("unit", [0.01, 100.0])
def test_a_rare_flag_in_small_units_is_still_watched(unit: float) -> None:
    """A column 99.5 % zeros has no IQR and no clipped spread: its scale was 1 in its own
    units, so in fractions (0.01) a rise from 0.5 % to 20 % of non-zero rows went unseen
    while in percent it was caught."""
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(1000, 3))
    ref[:, 2] = 0.0
    ref[:5, 2] = rng.uniform(0.5, 1.5, 5) * unit
    cur = rng.normal(size=(300, 3))
    cur[:, 2] = 0.0
    cur[:60, 2] = rng.uniform(0.5, 1.5, 60) * unit
    fitted = registry.get("sliced_wasserstein").fit(ref, rng=np.random.default_rng(0))
    assert fitted.score(cur).drifted
