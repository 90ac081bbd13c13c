"""Threshold policies as values, multiple-testing corrections and severity ranking.

A policy says how a detector's threshold is set; the resulting
:class:`driftscope.types.Score` names it in ``policy``:

``Constant(v)``
    a fixed cut on the statistic.
``ReferenceQuantile(q, n_boot, floor)``
    the ``q``-quantile of the statistic between the reference and its own bootstrap
    resamples sized like the production window (cached per window size), never
    below ``floor`` (a minimum effect size worth an alert). The score also carries a
    p-value from the same bootstrap null (:func:`p_value_from_null`), which the
    monitor's model-level multiple-testing step uses.
``Permutation(n, alpha)``
    a permutation test; ``p = (b + 1) / (B + 1)``, never zero. The threshold is the
    permutation quantile such that ``statistic > threshold`` exactly when ``p <= alpha``.
``PValue(alpha)``
    an analytic test (KS, chi-square); the threshold is the critical value.

Examples
--------
>>> benjamini_hochberg([0.01, 0.02, 0.03, 0.5], alpha=0.05).tolist()
[True, True, True, False]
>>> bonferroni([0.01, 0.04], alpha=0.05).tolist()
[True, False]
>>> null = np.sort(np.random.default_rng(0).exponential(size=200))
>>> p_value_from_null(0.0, null), p_value_from_null(20.0, null) < 1e-6
(1.0, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from driftscope.errors import ConfigError
from driftscope.types import Score


@dataclass(frozen=True, slots=True)
class Constant:
    """A fixed threshold on the statistic.

    Examples
    --------
    >>> Constant(0.1).label
    'constant'
    """

    value: float

    def __post_init__(self) -> None:
        if not np.isfinite(self.value) or self.value < 0:
            raise ConfigError(f"Constant threshold must be finite and >= 0, got {self.value}")

    @property
    def label(self) -> str:
        return "constant"


@dataclass(frozen=True, slots=True)
class ReferenceQuantile:
    """Calibrate the threshold from the reference itself at the window's size.

    Examples
    --------
    >>> ReferenceQuantile(q=0.95, floor=0.02)
    ReferenceQuantile(q=0.95, n_boot=200, floor=0.02)
    """

    q: float = 0.99
    n_boot: int = 200
    floor: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.q < 1:
            raise ConfigError(f"ReferenceQuantile q must be in (0, 1), got {self.q}")
        if self.n_boot < 10:
            raise ConfigError(f"ReferenceQuantile n_boot must be >= 10, got {self.n_boot}")
        if self.floor < 0:
            raise ConfigError(f"ReferenceQuantile floor must be >= 0, got {self.floor}")

    @property
    def label(self) -> str:
        return "reference-quantile"


@dataclass(frozen=True, slots=True)
class Permutation:
    """A permutation test with ``n`` permutations at level ``alpha``.

    Examples
    --------
    >>> Permutation(n=99).label
    'permutation'
    """

    n: int = 500
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ConfigError(f"Permutation n must be >= 1, got {self.n}")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"Permutation alpha must be in (0, 1), got {self.alpha}")

    @property
    def label(self) -> str:
        return "permutation"


@dataclass(frozen=True, slots=True)
class PValue:
    """An analytic test at level ``alpha`` (only detectors with a known null).

    Examples
    --------
    >>> PValue(0.01).alpha
    0.01
    """

    alpha: float = 0.05

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ConfigError(f"PValue alpha must be in (0, 1), got {self.alpha}")

    @property
    def label(self) -> str:
        return "p-value"


ThresholdPolicy = Constant | ReferenceQuantile | Permutation | PValue


def permutation_threshold(perm_stats: np.ndarray, alpha: float) -> float:
    """Cut such that ``stat > cut`` iff ``(#{perm >= stat} + 1) / (B + 1) <= alpha``.

    Returns ``inf`` when ``B`` is too small for any p-value to reach ``alpha``.
    """
    b_total = len(perm_stats)
    k = int(np.floor(alpha * (b_total + 1) + 1e-12)) - 1  # allowed exceedances
    if k < 0:
        return float("inf")
    ordered = np.sort(perm_stats)[::-1]
    return float(ordered[min(k, b_total - 1)])


NULL_TAIL = 0.1
"""Share of a bootstrap null above which :func:`p_value_from_null` models the tail."""


def p_value_from_null(
    statistic: float, null: np.ndarray, tail: float = NULL_TAIL, shaped: bool = False
) -> float:
    """The p-value of ``statistic`` against a sorted bootstrap null distribution.

    Below the null's ``1 - tail`` quantile ``u`` it is the empirical
    ``(1 + #{null >= s}) / (1 + B)``; above ``u`` the tail is modelled as exponential
    (peaks over threshold: ``p = tail·exp(-(s - u)/β)`` with ``β`` the mean excess of the
    null over ``u``). That resolves the small p-values a multiple-testing step needs
    without tens of thousands of resamples, and is conservative for the light-tailed
    distances used here. A null tied above ``u`` (small windows, few bins; values within
    rounding of each other are tied) takes its scale from the spread above its median, or
    gives ``1/(1 + B)`` without one; a constant null (a constant reference) gives 0 beyond
    it.

    With ``shaped``, the tail is a generalised Pareto fitted to the excesses by probability
    weighted moments (Hosking and Wallis, 1987: closed form, steady on the 20 excesses of
    200 statistics): ``p = tail·(1 + ξ(s - u)/σ)^(-1/ξ)``, and the exponential above where
    the fitted shape ``ξ`` is not positive. A permutation null of a skewed feature has a
    heavier tail than an exponential, which put p under 0.001 about twice as often as it
    should (BENCHMARKS.md, "Splits that share no luck").

    Parameters
    ----------
    statistic : float
        The observed statistic (higher means more different).
    null : numpy.ndarray
        The statistic between the reference and its bootstrap resamples, sorted ascending.
    tail : float
        Share of the null modelled by the exponential tail, in (0, 1).
    shaped : bool
        Fit the tail's shape too (a generalised Pareto), not only its scale.

    Examples
    --------
    >>> p_value_from_null(0.5, np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]))
    0.6363636363636364
    """
    null = np.asarray(null, dtype=float)
    b = len(null)
    if b == 0:
        raise ValueError("the null distribution is empty")
    u = float(np.quantile(null, 1.0 - tail))
    if statistic > u + _TIE * abs(u):
        excess = _above(null, u)
        if not excess.size:  # a discrete null tied over its tail: the spread above its
            excess = _above(null, float(np.quantile(null, 0.5)))  # median gives the scale
        if excess.size:
            return _tail_p(statistic - u, excess, tail, shaped)
        if null[0] == null[-1]:
            return 0.0  # a constant null (a constant reference): nothing else is possible
        return 1.0 / (1 + b)  # no scale at all: as far as B resamples can tell
    exceed = b - int(np.searchsorted(null, statistic - 1e-12 * max(abs(statistic), 1.0), "left"))
    return (1 + exceed) / (1 + b)


_TIE = 1e-9  # null values this close (relative) to a quantile are tied with it (rounding)


def _tail_p(over: float, excess: np.ndarray, tail: float, shaped: bool) -> float:
    """``tail`` times the chance of exceeding ``over`` under the tail fitted to ``excess``:
    exponential with their mean, or with ``shaped`` a generalised Pareto by probability
    weighted moments where its shape comes out positive."""
    b0 = float(excess.mean())
    if shaped and excess.size > 2:
        y = np.sort(excess)
        n = len(y)
        b1 = float(np.sum((n - 1 - np.arange(n)) * y)) / (n * (n - 1))
        if b0 > 2 * b1 > 0:
            xi = 2.0 - b0 / (b0 - 2 * b1)
            if xi > 0:
                sigma = 2 * b0 * b1 / (b0 - 2 * b1)
                return float(tail * np.exp(-np.log1p(xi * over / sigma) / xi))
    return float(tail * np.exp(-over / b0))


def _above(null: np.ndarray, u: float) -> np.ndarray:
    """The excesses over ``u`` of the null values beyond rounding of it."""
    return null[null > u + _TIE * abs(u)] - u


def bonferroni(p_values: Sequence[float] | np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Reject where ``p * m <= alpha`` (family-wise error control)."""
    p = np.asarray(p_values, dtype=float)
    return p * max(len(p), 1) <= alpha


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Benjamini–Hochberg step-up: reject the ``k`` smallest with ``p_(k) <= k·alpha/m``."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    reject = np.zeros(m, dtype=bool)
    if m == 0:
        return reject
    order = np.argsort(p, kind="stable")
    below = p[order] <= alpha * np.arange(1, m + 1) / m
    if below.any():
        k = int(np.nonzero(below)[0].max())
        reject[order[: k + 1]] = True
    return reject


def bh_adjusted(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), capped at 1."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def rank_by_severity(scores: Mapping[str, Score]) -> list[tuple[str, float]]:
    """Feature names sorted by severity (statistic ÷ threshold), most severe first.

    Ties are broken by name so the ranking is deterministic.

    Examples
    --------
    >>> s = {"a": Score(0.1, 0.2, "constant"), "b": Score(0.3, 0.1, "constant")}
    >>> [name for name, _ in rank_by_severity(s)]
    ['b', 'a']
    """
    items = [(name, float(sc.severity)) for name, sc in scores.items()]
    return sorted(items, key=lambda t: (-t[1], t[0]))
