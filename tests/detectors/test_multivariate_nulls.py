"""A multivariate detector's default threshold flags windows without drift about as
often as its level says, in more than one or two dimensions."""

from __future__ import annotations

import numpy as np
import pytest

from driftscope.detectors import registry


@pytest.mark.parametrize("d", [3, 10])
def test_ot_emd_default_threshold_does_not_cry_wolf(d: int) -> None:
    """Its null was the distance to resamples of the reference itself, whose copies of
    reference rows cost nothing to transport: 29 % of such windows flagged in 3
    dimensions, every one in 10."""
    rng = np.random.default_rng(d)
    flagged = 0
    for i in range(40):
        fitted = registry.get("ot_emd").fit(rng.normal(size=(300, d)),
                                            rng=np.random.default_rng(i))
        flagged += fitted.score(rng.normal(size=(100, d))).drifted
    assert flagged <= 4  # q = 0.99 of 50 draws: about 1 in 50


def test_pca_projection_scores_the_reference_as_it_scores_a_window() -> None:
    """PCA's reconstruction error of the rows it was fitted on is smaller than a fresh
    row's: detectors fitted on it flagged 9 % of windows without drift where its three
    components at q = 0.99 allow about 3 %."""
    rng = np.random.default_rng(7)
    flagged = 0
    for i in range(150):
        fitted = registry.get("projected").fit(rng.normal(size=(500, 20)),
                                               rng=np.random.default_rng(i))
        flagged += fitted.score(rng.normal(size=(100, 20))).drifted
    assert flagged <= 7  # about 3 expected; 14 before
