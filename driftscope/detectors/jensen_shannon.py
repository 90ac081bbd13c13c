"""Jensen–Shannon distance between frequency vectors over reference-fixed bins.

Weaker as a default: a bounded metric, but its value does not read as a change
of frequency, and it reacts little to small moves of rare bins.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .binning import BinnedDetector


def jensen_shannon_distance(p: np.ndarray, q: np.ndarray) -> float:
    """sqrt(JS divergence), base 2, in [0, 1] (as scipy.spatial.distance.jensenshannon)."""
    mid = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        tp = np.where(p > 0, p * np.log(p / mid), 0.0)
        tq = np.where(q > 0, q * np.log(q / mid), 0.0)
    js = 0.5 * float(np.sum(tp) + np.sum(tq)) / float(np.log(2.0))
    return float(np.sqrt(max(js, 0.0)))


class JensenShannon(BinnedDetector):
    """Jensen–Shannon distance over reference-fixed bins.

    ``sqrt(JS divergence), base 2, in [0, 1] (as scipy.spatial.distance.jensenshannon)``.
    Weaker as a default: a bounded metric, but its value does not read as a change
    of frequency, and it reacts little to small moves of rare bins.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array(["a", "b"] * 50, dtype=object)
    >>> fitted = JensenShannon().fit(ref, rng=np.random.default_rng(0))
    >>> fitted.score(ref).statistic
    0.0
    """

    name: ClassVar[str] = "jensen_shannon"
    null_exponent: ClassVar[float | None] = 0.5


    distance = staticmethod(jensen_shannon_distance)
