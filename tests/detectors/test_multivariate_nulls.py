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
