"""L1 distance between frequency vectors (twice the total-variation distance).

Recommended default beside L-infinity: bounded in [0, 2], symmetric, a metric, finite
on empty bins; it adds up many small moves that L-infinity would not see.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .binning import BinnedDetector


class L1(BinnedDetector):
    """``sum_b |p_b - q_b|`` over reference-fixed bins (categories or quantile bins).

    Examples
    --------
    >>> import numpy as np
    >>> from driftscope.detectors.significance import Constant
    >>> ref = np.array(["a", "a", "b", None], dtype=object)
    >>> fitted = L1(Constant(0.2)).fit(ref, rng=np.random.default_rng(0))
    >>> fitted.score(np.array(["b", "b", "b", "c"], dtype=object)).statistic
    1.5
    """

    name: ClassVar[str] = "l1"
    null_exponent: ClassVar[float | None] = 0.5
    shares_nulls: ClassVar[bool] = True
    distance_by_rows: ClassVar[bool] = True


    @staticmethod
    def distance(p: np.ndarray, q: np.ndarray) -> Any:
        return np.sum(np.abs(p - q), axis=-1)
