"""Hellinger distance between frequency vectors over reference-fixed bins.

Weaker as a default: a bounded metric, but dominated by rare bins and harder to
explain than a change of frequency.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .binning import BinnedDetector


def hellinger_distance(p: np.ndarray, q: np.ndarray) -> float:
    """sqrt(0.5 · sum_b (sqrt p_b - sqrt q_b)²), in [0, 1]."""
    h2 = 0.5 * float(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))
    return float(np.sqrt(max(h2, 0.0)))


class Hellinger(BinnedDetector):
    """Hellinger distance over reference-fixed bins.

    ``sqrt(0.5 · sum_b (sqrt p_b - sqrt q_b)²), in [0, 1]``.
    Weaker as a default: a bounded metric, but dominated by rare bins and harder to
    explain than a change of frequency.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array(["a", "b"] * 50, dtype=object)
    >>> fitted = Hellinger().fit(ref, rng=np.random.default_rng(0))
    >>> fitted.score(ref).statistic
    0.0
    """

    name: ClassVar[str] = "hellinger"
    null_exponent: ClassVar[float | None] = 0.5


    distance = staticmethod(hellinger_distance)
