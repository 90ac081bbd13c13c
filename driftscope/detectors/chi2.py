"""Pearson chi-square test of homogeneity of the reference and current counts.

The two-sample test (``scipy.stats.chi2_contingency`` without continuity correction):
the reference is a sample too, so its noise is in the null. Before, the current counts
were tested for goodness of fit to the reference's frequencies as if they were exact, and
a window of 1,000 like a reference of 2,000 drifted in ~14 % of cases at alpha 5 %.

Weaker as a default: the statistic grows with the window size, so at large ``n`` every
trivial difference is significant. Offered because users expect it; its default policy is
the analytic p-value.

On numeric data the values below the reference's minimum and above its maximum count in
the outermost quantile bins (the classical binning): a bin empty in the reference gives a
current value in it an expected count near 0, and one value beyond the range made a window
drift. Bins of one value each (a flag, a small count, a constant) keep them apart: a new
value is no neighbour's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from .binning import BinnedDetector, FittedBinned
from .significance import PValue, ThresholdPolicy

MIN_EXPECTED = 5.0
"""Cells expecting fewer counts than this (on either side) are pooled into one."""


def chi2_parts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, int]:
    """Pearson statistic of the 2 × k table ``[ref; cur]`` and its degrees of freedom.

    Bins empty on both sides are dropped, and those expecting fewer than
    :data:`MIN_EXPECTED` on a side, or empty in the reference, are pooled into one (with
    the smallest others until the pool expects enough); the expected counts come from the
    pooled bins, as in ``scipy.stats.chi2_contingency(..., correction=False)``.
    """
    keep = (ref_counts > 0) | (cur_counts > 0)
    table = np.vstack([ref_counts[keep], cur_counts[keep]]).astype(float)
    rows, cols = table.sum(axis=1, keepdims=True), table.sum(axis=0, keepdims=True)
    if rows.min() == 0:
        return 0.0, 0
    expected = rows * cols / table.sum()
    # a cell the reference is empty in (the categories it never saw, lumped) is one by
    # construction, not by chance: pooled as the small ones are
    small = (expected.min(axis=0) < MIN_EXPECTED) | (table[0] == 0)
    if small.any() and small.size > 2:
        # cells expecting fewer than 5 pooled into one (Cochran's rule: the chi-square
        # law does not hold for them; 40 categories with rare ones drifted 23 % at 5 %),
        # with the smallest other cell while the pool still expects too few, or holds
        # nothing of the reference
        pool = table[:, small].sum(axis=1)
        rest = table[:, ~small][:, np.argsort(table[:, ~small].sum(axis=0))]
        while rest.shape[1] > 1 and ((rows[:, 0] * pool.sum() / table.sum()).min()
                                     < MIN_EXPECTED or pool[0] == 0):
            pool, rest = pool + rest[:, 0], rest[:, 1:]
        table = np.column_stack([rest, pool])
        expected = rows * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    return stat, table.shape[1] - 1


@dataclass(frozen=True, kw_only=True)
class FittedChiSquare(FittedBinned):
    """Binned reference with the chi-square null distribution."""

    def _between(self, ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
        return chi2_parts(self._folded(ref_counts), self._folded(cur_counts))[0]

    def _p_value_and_critical(
        self, statistic: float, prepared: Any, alpha: float
    ) -> tuple[float, float]:
        dof = chi2_parts(self._folded(self.ref_counts), self._folded(prepared))[1]
        if dof < 1:
            return 1.0, float("inf")
        return float(stats.chi2.sf(statistic, dof)), float(stats.chi2.isf(alpha, dof))


class ChiSquare(BinnedDetector):
    """Pearson chi-square test of homogeneity of the reference and current counts.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array(["a", "b"] * 50, dtype=object)
    >>> fitted = ChiSquare().fit(ref, rng=np.random.default_rng(0))
    >>> s = fitted.score(np.array(["a"] * 70 + ["b"] * 30, dtype=object))
    >>> round(s.statistic, 6), s.drifted, s.policy
    (8.333333, True, 'p-value')
    """

    name: ClassVar[str] = "chi2"
    analytic_null: ClassVar[bool] = True
    fitted_class: ClassVar[type[FittedBinned]] = FittedChiSquare

    @staticmethod
    def default_policy() -> ThresholdPolicy:
        return PValue(0.05)

    @staticmethod
    def distance(p: np.ndarray, q: np.ndarray) -> float:  # unused: counts are needed
        return float(np.sum((q - p) ** 2 / np.where(p > 0, p, 1.0)))
