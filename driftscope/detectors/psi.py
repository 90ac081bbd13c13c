"""Population Stability Index between frequency vectors over reference-fixed bins.

Weaker: unbounded, without a natural scale for its threshold, and the
smoothing constant decides its value on empty bins; the 0.1/0.25 rules of thumb
ignore sample size.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .binning import BinnedDetector


def psi_distance(p: np.ndarray, q: np.ndarray) -> float:
    """sum_b (q_b - p_b) ln(q_b / p_b), bins smoothed by eps = 1e-4."""
    eps = 1e-4
    p = (p + eps) / (1 + eps * len(p))
    q = (q + eps) / (1 + eps * len(q))
    return max(float(np.sum((q - p) * np.log(q / p))), 0.0)


class PSI(BinnedDetector):
    """Population Stability Index over reference-fixed bins.

    ``sum_b (q_b - p_b) ln(q_b / p_b), bins smoothed by eps = 1e-4``.
    Weaker: unbounded, without a natural scale for its threshold, and the
    smoothing constant decides its value on empty bins; the 0.1/0.25 rules of thumb
    ignore sample size.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array(["a", "b"] * 50, dtype=object)
    >>> fitted = PSI().fit(ref, rng=np.random.default_rng(0))
    >>> fitted.score(ref).statistic
    0.0
    """

    name: ClassVar[str] = "psi"
    null_exponent: ClassVar[float | None] = 1.0


    distance = staticmethod(psi_distance)
