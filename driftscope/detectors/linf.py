"""L-infinity distance between frequency vectors: the largest change of any one bin.

Recommended default for categorical and binned numeric data: bounded in [0, 1],
symmetric, a metric, finite on empty bins, and it names the bin that moved.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .binning import BinnedDetector


class LInf(BinnedDetector):
    """``max_b |p_b - q_b|`` over reference-fixed bins (categories or quantile bins).

    Examples
    --------
    >>> import numpy as np
    >>> from driftscope.detectors.significance import Constant
    >>> ref = np.array(["a", "a", "b", None], dtype=object)
    >>> fitted = LInf(Constant(0.2)).fit(ref, rng=np.random.default_rng(0))
    >>> fitted.score(np.array(["b", "b", "b", "c"], dtype=object)).statistic
    0.5
    """

    name: ClassVar[str] = "linf"
    null_exponent: ClassVar[float | None] = 0.5
    shares_nulls: ClassVar[bool] = True


    @staticmethod
    def distance(p: np.ndarray, q: np.ndarray) -> float:
        return float(np.max(np.abs(p - q)))
