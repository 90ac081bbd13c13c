"""Multivariate Earth Mover's distance through POT: exact (network simplex) or Sinkhorn.

For small samples: cost is O(n·m) memory and roughly cubic time for the exact solver.
Both sides are deterministically subsampled to at most ``max_points`` rows (seeded at
``fit``; the result's details say so). Rows are standardised by the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import ot

from driftscope.errors import ConfigError

from .base import (
    FittedBase,
    Standardiser,
    as_matrix,
    check_policy,
    draw_seed,
    params_repr,
    robust_standardiser,
)
from .significance import ReferenceQuantile, ThresholdPolicy

METHODS = ("exact", "sinkhorn")


def ot_distance(x: np.ndarray, y: np.ndarray, method: str, reg: float) -> float:
    """``W_1`` (Euclidean ground cost, uniform weights) between two point clouds."""
    cost = ot.dist(x, y, metric="euclidean")
    a = np.full(len(x), 1.0 / len(x))
    b = np.full(len(y), 1.0 / len(y))
    if method == "exact":
        return float(ot.emd2(a, b, cost, numItermax=1_000_000))
    return float(ot.sinkhorn2(a, b, cost, reg))


@dataclass(frozen=True, kw_only=True)
class FittedOT(FittedBase):
    """Standardised (possibly subsampled) reference rows."""

    ref: np.ndarray
    standard: Standardiser
    method: str
    reg: float
    max_points: int
    n_reference: int

    def _prepare(self, current: Any) -> np.ndarray:
        x = as_matrix(current, "current window", d=len(self.standard.center))
        xs = self.standard.apply(x)
        if len(xs) > self.max_points:
            rng = np.random.default_rng([self.seed, 5, len(xs)])
            xs = xs[np.sort(rng.choice(len(xs), self.max_points, replace=False))]
        return xs

    def _size(self, prepared: np.ndarray) -> int:
        return len(prepared)

    def _reference_size(self) -> int:
        return len(self.ref)

    def _statistic(self, prepared: np.ndarray) -> tuple[float, dict[str, Any]]:
        w = ot_distance(self.ref, prepared, self.method, self.reg)
        return w, {
            "method": self.method,
            "rows_used": (len(self.ref), len(prepared)),
            "reference_rows": self.n_reference,
        }

    def _resample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        return self.ref[rng.integers(0, len(self.ref), m)]

    def _null_size(self, m: int) -> int:
        return m  # the window's own size: a split of the reference (below), no resample

    def _boot_statistic(self, rng: np.random.Generator, m: int) -> float:
        """The distance between two disjoint parts of the kept reference rows: ``m`` of
        them (at most half) against the rest. A resample holds exact copies of reference
        rows, which the transport matches at no cost, so in several dimensions that null
        was far too small: 29 of 100 windows without drift flagged in 3 dimensions, all
        in 10. The rest is smaller than the reference a window meets, so this null errs
        on the high side (a window over half the reference's size more so)."""
        k = len(self.ref)
        if k < 2:
            return super()._boot_statistic(rng, m)
        take = min(m, k // 2)
        idx = rng.permutation(k)
        return ot_distance(self.ref[idx[take:]], self.ref[idx[:take]], self.method, self.reg)

    def _permutation_statistics(
        self, prepared: np.ndarray, rng: np.random.Generator, n: int
    ) -> np.ndarray:
        z = np.concatenate([self.ref, prepared])
        k = len(self.ref)
        out = np.empty(n)
        for b in range(n):
            idx = rng.permutation(len(z))
            out[b] = ot_distance(z[idx[:k]], z[idx[k:]], self.method, self.reg)
        return out


class OTDistance:
    """Earth Mover's distance between standardised point clouds via POT.

    Parameters
    ----------
    method : {"exact", "sinkhorn"}
    reg : float
        Entropic regularisation for Sinkhorn.
    max_points : int
        Rows kept per side (seeded subsample) to bound the O(n·m) cost.

    Examples
    --------
    >>> import numpy as np
    >>> from driftscope.detectors.significance import Constant
    >>> ref = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> fitted = OTDistance(Constant(0.5)).fit(ref, rng=np.random.default_rng(0))
    >>> fitted.score(ref).statistic
    0.0
    """

    name: ClassVar[str] = "ot_emd"
    input_kind: ClassVar[str] = "multivariate"

    def __init__(
        self,
        policy: ThresholdPolicy | None = None,
        *,
        method: str = "exact",
        reg: float = 0.05,
        max_points: int = 2000,
    ) -> None:
        self.policy = check_policy(policy or ReferenceQuantile(n_boot=50), self.name)
        if method not in METHODS:
            raise ConfigError(f"method must be one of {METHODS}, got {method!r}")
        if reg <= 0 or max_points < 2:
            raise ConfigError("reg must be > 0 and max_points >= 2")
        self.method, self.reg, self.max_points = method, reg, max_points

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedOT:
        """Standardise on the reference; keep at most ``max_points`` rows."""
        seed = draw_seed(rng)
        x = as_matrix(reference, "reference")
        standard = robust_standardiser(x)
        xs = standard.apply(x)
        if len(xs) > self.max_points:
            pick = np.random.default_rng([seed, 6]).choice(len(xs), self.max_points, replace=False)
            xs = xs[np.sort(pick)]
        return FittedOT(
            self.policy,
            seed,
            ref=xs,
            standard=standard,
            method=self.method,
            reg=self.reg,
            max_points=self.max_points,
            n_reference=len(x),
        )

    def __repr__(self) -> str:
        return params_repr(
            self,
            {
                "policy": self.policy,
                "method": self.method,
                "reg": self.reg,
                "max_points": self.max_points,
            },
        )
