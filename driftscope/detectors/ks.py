"""Two-sample Kolmogorov–Smirnov statistic, with missing values as mass at +inf.

Weaker as a default: its p-value flags trivial differences at large ``n``, and its
statistic only sees the largest CDF gap, missing shifts in the tails. Offered because
users expect it; the statistic equals ``scipy.stats.ks_2samp`` and its p-value is the
asymptotic one (``method="asymp"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from driftscope.errors import DetectorInputError

from .base import FittedBase, as_numeric, check_policy, draw_seed, params_repr
from .emd import FittedEMD
from .significance import PValue, ReferenceQuantile, ThresholdPolicy


def ks_sorted(a: np.ndarray, a_missing: int, b: np.ndarray, b_missing: int) -> float:
    """sup_t |F_a(t) - F_b(t)| for sorted observed values, missing values at +inf."""
    na, nb = len(a) + a_missing, len(b) + b_missing
    pts = np.concatenate([a, b])
    if pts.size == 0:
        return 0.0
    fa = np.searchsorted(a, pts, side="right") / na
    fb = np.searchsorted(b, pts, side="right") / nb
    return float(np.max(np.abs(fa - fb)))


@dataclass(frozen=True, kw_only=True)
class FittedKS(FittedEMD):
    """Sorted reference values; KS statistic instead of Wasserstein."""

    def null_signature(self) -> np.ndarray | None:
        return None  # its null depends on ties the EMD's shape does not see: not shared

    def _between(
        self, a: np.ndarray, a_miss: int, b: np.ndarray, b_miss: int
    ) -> tuple[float, float, float]:
        d = ks_sorted(a, a_miss, b, b_miss)
        return d, d, 0.0

    def _statistic(self, prepared: tuple[np.ndarray, int]) -> tuple[float, dict[str, Any]]:
        cur, miss = prepared
        d = ks_sorted(self.ref_sorted, self.ref_missing, cur, miss)
        return d, {"n_reference": self._reference_size(), "n_current": len(cur) + miss}

    def _boot_statistic(self, rng: np.random.Generator, m: int) -> float:
        return FittedBase._boot_statistic(self, rng, m)  # ties break the EMD fast path

    def _boot_statistics(self, rng: np.random.Generator, m: int, n_boot: int) -> np.ndarray:
        return FittedBase._boot_statistics(self, rng, m, n_boot)

    def _window_null(self, pol: ReferenceQuantile, prepared: tuple[np.ndarray, int]
                     ) -> np.ndarray | None:
        return None  # distribution-free: the reference's bootstrap null serves

    def _permutation_statistics(
        self, prepared: tuple[np.ndarray, int], rng: np.random.Generator, n: int
    ) -> np.ndarray:
        """``n`` random splits of the pooled values, each sorted and compared afresh."""
        cur, miss = prepared
        pooled = np.concatenate([self.ref_sorted, cur])
        miss_total = self.ref_missing + miss
        n_ref = self._reference_size()
        out = np.empty(n)
        for b in range(n):
            labels = rng.permutation(len(pooled) + miss_total) < n_ref  # True: reference
            obs_lab, miss_lab = labels[: len(pooled)], labels[len(pooled):]
            am = int(miss_lab.sum())
            out[b] = self._between(np.sort(pooled[obs_lab]), am, np.sort(pooled[~obs_lab]),
                                   miss_total - am)[0]
        return out

    def _p_value_and_critical(
        self, statistic: float, prepared: tuple[np.ndarray, int], alpha: float
    ) -> tuple[float, float]:
        n, m = self._reference_size(), self._size(prepared)
        en = max(1, round(n * m / (n + m)))
        return float(stats.kstwo.sf(statistic, en)), float(stats.kstwo.isf(alpha, en))


class KS:
    """Kolmogorov–Smirnov two-sample statistic (missing values sort above every number).

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.linspace(0, 1, 200)
    >>> fitted = KS().fit(ref, rng=np.random.default_rng(0))
    >>> s = fitted.score(ref + 0.5)
    >>> s.statistic, s.drifted
    (0.5, True)
    """

    name: ClassVar[str] = "ks"
    input_kind: ClassVar[str] = "numeric"

    def __init__(self, policy: ThresholdPolicy | None = None) -> None:
        self.policy = check_policy(policy or PValue(0.05), self.name, p_value=True)

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedKS:
        """Sort the reference once."""
        seed = draw_seed(rng)
        x = as_numeric(reference, "reference")
        if x.size == 0:
            raise DetectorInputError("reference is empty; need at least one value")
        nan = np.isnan(x)
        return FittedKS(
            self.policy,
            seed,
            ref_sorted=np.sort(x[~nan]),
            ref_missing=int(nan.sum()),
            scale=1.0,
            scale_rule="none",
        )

    def __repr__(self) -> str:
        return params_repr(self, {"policy": self.policy})
