"""L-infinity distance between frequency vectors: the largest change of any one bin.

Recommended default for categorical and binned numeric data: bounded in [0, 1],
symmetric, a metric, finite on empty bins, and it names the bin that moved.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .binning import BinnedDetector, FittedBinned, bin_labels


class FittedLInf(FittedBinned):
    """:class:`FittedBinned` whose details carry the change's effect (:func:`effects`, the
    largest), what a monitor's ``min_effect`` holds it to, and whose ``top_bins`` lead
    with the categories of the largest effect (what a finding's note names)."""

    def _details(self, cur: np.ndarray) -> dict[str, Any]:
        details = super()._details(cur)
        ref, now = self._folded(self.ref_counts), self._folded(cur)
        p, q = ref / ref.sum(), now / now.sum()
        scaled = p > 0  # (a bin the reference never held: 0 % → 1 % is √ 0.1)
        scaled[-1] = False  # missing values, and categories never seen, are the quality
        if self.kind == "categorical":  # checks' to judge (limits of 5 and 2 points)
            scaled[-2] = False
        each = effects(p, q, scaled)
        if self.kind == "categorical":
            labels = bin_labels(self.edges, self.categories)
            details["top_bins"] = [(labels[i], float(p[i]), float(q[i]))
                                   for i in np.argsort(-each, kind="stable")[:5] if each[i] > 0]
        details["effect"] = float(each.max())
        return details


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
    fitted_class: ClassVar[type[FittedBinned]] = FittedLInf
    shares_nulls: ClassVar[bool] = True
    distance_by_rows: ClassVar[bool] = True


    @staticmethod
    def distance(p: np.ndarray, q: np.ndarray) -> Any:
        return np.max(np.abs(p - q), axis=-1)


def effects(p: np.ndarray, q: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    """How large each bin's change of share is, for a practical-significance floor: its
    change of share, or where ``scaled`` of its square root (the scale of a share's noise),
    the larger. So a floor of 0.1 holds a common category to 10 points and a rare one to
    its ratio: 40 % → 50 % and 5 % → 12 % (a fraud rate 2.4 times) both reach it; 5 % → 8 %
    or 30 % → 38 % do not. (On the share alone, a predicted fraud rate from 5 % to 12 %,
    three times its threshold at p < 1e-4, was never flagged.) A fitted L-inf scales only
    the categories the reference holds: not the missing-value bin, nor what it never saw,
    which the quality checks judge.

    >>> p, q = np.array([0.95, 0.05]), np.array([0.88, 0.12])
    >>> [round(float(e), 3) for e in effects(p, q, np.array([True, True]))]
    [0.07, 0.123]
    """
    return np.maximum(np.abs(p - q), np.where(scaled, np.abs(np.sqrt(p) - np.sqrt(q)), 0.0))
