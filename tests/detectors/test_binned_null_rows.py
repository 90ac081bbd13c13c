"""The plain null of ``linf`` and ``l1`` is drawn in one call over all its windows
(FittedBinned._boot_statistics): the same statistics, to the bit, as a window at a time,
so that thresholds, and every verdict, are what they were."""
import numpy as np
import pytest

from driftscope.detectors.base import FittedBase
from driftscope.detectors.l1 import L1
from driftscope.detectors.linf import LInf

RNG = np.random.default_rng(3)
REFERENCES = {
    "numeric": RNG.lognormal(size=2_000),
    "numeric with missing": np.where(RNG.random(2_000) < 0.05, np.nan, RNG.normal(size=2_000)),
    "categorical": np.array(RNG.choice(["a", "b", "c", "d", None], p=[.5, .2, .2, .05, .05],
                                       size=2_000), dtype=object),
}


@pytest.mark.parametrize("detector", [LInf, L1])
@pytest.mark.parametrize("reference", list(REFERENCES))
@pytest.mark.parametrize("m", [30, 1_000])
def test_null_drawn_at_once_is_the_null_drawn_a_window_at_a_time(detector, reference, m):
    fitted = detector().fit(REFERENCES[reference], rng=np.random.default_rng(1))
    assert fitted.by_rows and not fitted.beyond and not fitted.fold
    at_once = fitted._boot_statistics(np.random.default_rng(9), m, 200)
    one_by_one = FittedBase._boot_statistics(fitted, np.random.default_rng(9), m, 200)
    assert at_once.shape == (200,)
    np.testing.assert_array_equal(at_once, one_by_one)


def test_a_window_scores_the_same_statistic_as_before():
    """The distance still gives one window's statistic as a plain number."""
    ref = REFERENCES["categorical"]
    stat = LInf().fit(ref, rng=np.random.default_rng(0)).score(ref[:500]).statistic
    assert isinstance(stat, float) and 0 <= stat <= 1
