"""Kullback–Leibler divergence between frequency vectors over reference-fixed bins.

Weaker: asymmetric, not a metric, and infinite on a bin that is empty in the
reference, so the smoothing constant decides its value there.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .binning import BinnedDetector


def kl_distance(p: np.ndarray, q: np.ndarray) -> float:
    """KL(current ‖ reference) = sum_b q_b ln(q_b / p_b), bins smoothed by eps = 1e-4."""
    eps = 1e-4
    p = (p + eps) / (1 + eps * len(p))
    q = (q + eps) / (1 + eps * len(q))
    return max(float(np.sum(q * np.log(q / p))), 0.0)


class KL(BinnedDetector):
    """Kullback–Leibler divergence over reference-fixed bins.

    ``KL(current ‖ reference) = sum_b q_b ln(q_b / p_b), bins smoothed by eps = 1e-4``.
    Weaker: asymmetric, not a metric, and infinite on a bin that is empty in the
    reference, so the smoothing constant decides its value there.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array(["a", "b"] * 50, dtype=object)
    >>> fitted = KL().fit(ref, rng=np.random.default_rng(0))
    >>> fitted.score(ref).statistic
    0.0
    """

    name: ClassVar[str] = "kl"
    null_exponent: ClassVar[float | None] = 1.0


    distance = staticmethod(kl_distance)
