"""Pearson chi-square goodness-of-fit of the current counts to the reference frequencies.

Weaker as a default: the statistic grows with the window size, so at large ``n`` every
trivial difference is significant, and bins empty in the reference need a pseudo-count.
Offered because users expect it; its default policy is the analytic p-value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from .binning import BinnedDetector, FittedBinned
from .significance import PValue, ThresholdPolicy


def chi2_parts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, int]:
    """Pearson statistic and degrees of freedom.

    Bins empty on both sides are dropped. When a kept bin is empty in the reference,
    0.5 is added to every kept reference bin (documented smoothing); otherwise the
    expected counts are exactly ``m · ref / n``, as in ``scipy.stats.chisquare``.
    """
    keep = (ref_counts > 0) | (cur_counts > 0)
    ref = ref_counts[keep].astype(float)
    cur = cur_counts[keep].astype(float)
    if np.any(ref == 0):
        ref = ref + 0.5
    m = cur.sum()
    expected = m * ref / ref.sum()
    stat = float(np.sum((cur - expected) ** 2 / expected))
    return stat, int(keep.sum()) - 1


@dataclass(frozen=True, kw_only=True)
class FittedChiSquare(FittedBinned):
    """Binned reference with the chi-square null distribution."""

    def _between(self, ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
        return chi2_parts(ref_counts, cur_counts)[0]

    def _p_value_and_critical(
        self, statistic: float, prepared: Any, alpha: float
    ) -> tuple[float, float]:
        dof = chi2_parts(self.ref_counts, prepared)[1]
        if dof < 1:
            return 1.0, float("inf")
        return float(stats.chi2.sf(statistic, dof)), float(stats.chi2.isf(alpha, dof))


class ChiSquare(BinnedDetector):
    """Pearson chi-square of current counts against reference frequencies.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array(["a", "b"] * 50, dtype=object)
    >>> fitted = ChiSquare().fit(ref, rng=np.random.default_rng(0))
    >>> s = fitted.score(np.array(["a"] * 70 + ["b"] * 30, dtype=object))
    >>> round(s.statistic, 6), s.drifted, s.policy
    (16.0, True, 'p-value')
    """

    name: ClassVar[str] = "chi2"
    fitted_class: ClassVar[type[FittedBinned]] = FittedChiSquare

    @staticmethod
    def default_policy() -> ThresholdPolicy:
        return PValue(0.05)

    @staticmethod
    def distance(p: np.ndarray, q: np.ndarray) -> float:  # unused: counts are needed
        return float(np.sum((q - p) ** 2 / np.where(p > 0, p, 1.0)))
