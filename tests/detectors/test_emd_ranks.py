"""EMD on the reference's ranks (``params: {transform: ranks}``): the distance a
heavy-tailed feature's bulk moved, in the reference's quantiles, which its tails' noise
hides from the distance on values."""

from __future__ import annotations

import numpy as np
import pytest

from driftscope.detectors.emd import EMD, reference_ranks
from driftscope.errors import ConfigError
from driftscope.monitor.config import DEFAULT_MIN_EFFECT, MonitorConfig
from driftscope.monitor.detect import check_detectors

MIN_EFFECT = DEFAULT_MIN_EFFECT["emd"]


def _flags(det: EMD, ref: np.ndarray, cur: np.ndarray, seed: int) -> bool:
    s = det.fit(ref, rng=np.random.default_rng(seed)).score(cur)
    return bool(s.drifted and s.statistic >= MIN_EFFECT)


def test_the_reference_ranks_spread_evenly_and_ties_take_their_middle() -> None:
    knots = np.array([0.0, 0.0, 0.0, 1.0, 2.0])
    assert reference_ranks(knots, knots).tolist() == [0.3, 0.3, 0.3, 0.7, 0.9]
    assert reference_ranks(knots, np.array([-5.0, 0.5, 9.0])).tolist() == [0.0, 0.6, 1.0]
    assert reference_ranks(np.empty(0), np.array([1.0, 2.0])).tolist() == [0.5, 0.5]


def test_any_increasing_rescaling_of_both_sides_scores_the_same() -> None:
    """Ranks are what the distance reads: amounts in cents or their logs score alike."""
    rng = np.random.default_rng(3)
    ref, cur = rng.lognormal(0, 2, 3000), rng.lognormal(0.3, 2, 400)
    det = EMD(transform="ranks")
    scores = [det.fit(f(ref), rng=np.random.default_rng(1)).score(f(cur))
              for f in (lambda x: x, np.log, lambda x: 100 * x)]
    assert len({s.statistic for s in scores}) == 1
    assert len({s.threshold for s in scores}) == 1
    assert scores[0].details["transform"] == "ranks"


def test_a_heavy_tailed_features_bulk_moving_is_caught_without_crying_wolf() -> None:
    """A lognormal (σ = 2) feature's values ×1.65 (its median 1 → 1.65), windows of 500
    against 6,000 reference values: ranks flag nearly every changed window, and about
    none of the unchanged ones."""
    rng = np.random.default_rng(11)
    det = EMD(transform="ranks")
    changed = same = 0
    for t in range(20):
        ref = rng.lognormal(0, 2, 6000)
        changed += _flags(det, ref, rng.lognormal(0.5, 2, 500), t)
        same += _flags(det, ref, rng.lognormal(0, 2, 500), t)
    assert changed >= 18
    assert same <= 1


def test_a_changed_missing_rate_still_counts_under_ranks() -> None:
    rng = np.random.default_rng(4)
    ref = rng.normal(size=4000)
    cur = rng.normal(size=500)
    cur[:100] = np.nan
    s = EMD(transform="ranks").fit(ref, rng=np.random.default_rng(0)).score(cur)
    assert s.details["missing_rate_change"] == pytest.approx(0.2)
    assert s.drifted


def test_an_unknown_transform_stops_the_start_in_one_line() -> None:
    with pytest.raises(ConfigError, match="transform must be one of"):
        EMD(transform="log")
    m = MonitorConfig.model_validate({
        "name": "m", "model": "x", "features": ["a"],
        "detectors": [{"name": "emd", "params": {"transform": "log"}}]})
    with pytest.raises(ConfigError) as err:
        check_detectors([m])
    assert "\n" not in str(err.value) and "monitor m: detector emd" in str(err.value)
