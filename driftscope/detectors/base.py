"""The detector contract and the input checks every detector shares.

A :class:`Detector` stores configuration only. ``fit(reference, rng=...)`` returns a
frozen, picklable :class:`Fitted` that holds the prepared reference and the threshold
policy; ``Fitted.score(current)`` returns a :class:`driftscope.types.Score`.

Input kinds
-----------
``numeric``
    1-D float array; ``NaN`` means missing.
``categorical``
    1-D array of ``str`` (``None`` or ``NaN`` mean missing).
``univariate``
    either of the two above, decided from the reference's dtype at ``fit``.
``multivariate``
    2-D float array, rows are observations (no missing values).
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from driftscope.errors import ConfigError, DetectorInputError
from driftscope.events import is_missing
from driftscope.types import Score

from .significance import (
    Constant,
    Permutation,
    PValue,
    ReferenceQuantile,
    ThresholdPolicy,
    p_value_from_null,
    permutation_threshold,
)

INPUT_KINDS = ("numeric", "categorical", "univariate", "multivariate")

CONFIRM_BELOW = 0.01
"""A window whose p-value from the reference's bootstrap null is under this (or whose
statistic is over its threshold) is judged against the detector's own null of the window
instead, where it has one (:meth:`FittedBase._confirming_null`): the p-values a
model-level false-discovery control reads are those where a bootstrap's exponential tail,
fitted to 200 resamples, errs on skewed features. The bootstrap screens, the window's own
null decides."""


@runtime_checkable
class Fitted(Protocol):
    """A fitted detector: frozen, picklable, holds the reference state."""

    def score(self, current: Any) -> Score: ...


@runtime_checkable
class Detector(Protocol):
    """Configuration of a drift detector; ``__init__`` stores parameters only."""

    name: ClassVar[str]
    input_kind: ClassVar[str]

    def fit(self, reference: Any, *, rng: np.random.Generator) -> Fitted: ...


# ---------------------------------------------------------------- input checks


def is_categorical(x: Any) -> bool:
    """True for string/bytes arrays, and object arrays unless they hold only numbers
    (``Decimal`` too: what SQL drivers return for a NUMERIC column).

    An object array with a ``str`` is categorical; one with numbers (and missing values)
    but no ``str`` is numeric; an all-missing or empty object array is categorical.
    """
    arr = np.asarray(x)
    if arr.dtype.kind in "US":
        return True
    if arr.dtype.kind != "O":
        return False
    values = arr.ravel().tolist()
    if any(isinstance(v, str | bytes) for v in values):
        return True
    return not any(isinstance(v, int | float | Decimal) and not is_missing(v) for v in values)


def as_numeric(x: Any, what: str = "window") -> np.ndarray:
    """A 1-D float64 copy of ``x`` (``NaN`` = missing); ±inf count as missing too."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise DetectorInputError(f"{what}: expected a 1-D array, got shape {arr.shape}")
    if arr.dtype.kind == "O" and not is_categorical(arr):  # numbers with None / pd.NA
        arr = np.array([np.nan if is_missing(v) else v for v in arr.tolist()], dtype=float)
    if arr.dtype.kind in "OUS":
        raise DetectorInputError(
            f"{what}: expected numbers, got {arr.dtype} values; use a categorical detector"
        )
    out = arr.astype(np.float64, copy=True)
    out[~np.isfinite(out)] = np.nan
    return out


def missing_mask(arr: np.ndarray) -> np.ndarray:
    """Boolean mask of missing entries in a categorical array (``None``, NaN, pandas NA)."""
    if arr.dtype.kind in "US":
        return np.zeros(arr.shape, dtype=bool)
    return np.asarray([is_missing(v) for v in arr.tolist()], dtype=bool)


def count_categories(x: Any, what: str = "window") -> tuple[dict[str, int], int]:
    """Counts per category (as ``str``) and the number of missing entries.

    Hash-based (one pass of ``collections.Counter``): no sort and no per-element string
    conversion, so 10⁵ values take a few milliseconds.
    """
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise DetectorInputError(f"{what}: expected a 1-D array, got shape {arr.shape}")
    if arr.dtype.kind == "f" and arr.ndim == 1 and np.isnan(arr).all():
        return {}, int(arr.size)  # every value missing (a column read empty from a CSV)
    if arr.dtype.kind in "fiub" and arr.size:
        raise DetectorInputError(
            f"{what}: expected categories (str), got {arr.dtype}; use a numeric detector"
        )
    counts: dict[str, int] = {}
    n_missing = 0
    for value, k in Counter(arr.tolist()).items():
        if is_missing(value):
            n_missing += k
            continue
        key = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        counts[key] = counts.get(key, 0) + k
    return counts, n_missing


def as_matrix(x: Any, what: str = "window", d: int | None = None) -> np.ndarray:
    """A 2-D float64 copy of ``x`` with finite values; checks the column count."""
    arr = np.asarray(x)
    if arr.ndim == 1 and d == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DetectorInputError(f"{what}: expected a 2-D array (rows × features), got {arr.shape}")
    if arr.dtype.kind in "OUS":
        raise DetectorInputError(f"{what}: expected numbers, got {arr.dtype}")
    out = arr.astype(np.float64, copy=True)
    if d is not None and out.shape[1] != d:
        raise DetectorInputError(f"{what}: has {out.shape[1]} columns, the reference has {d}")
    if out.shape[0] == 0:
        raise DetectorInputError(f"{what}: is empty; need at least one row")
    if not np.all(np.isfinite(out)):
        raise DetectorInputError(f"{what}: contains NaN or inf; impute or drop those rows first")
    return out


IQR_PER_SD = 1.3489795003921634
"""A normal's interquartile range in standard deviations."""

FENCE = 4.0
"""How far (in scale units) beyond the reference's 1 % and 99 % quantiles a value is
still taken as it is; further out it counts as at that fence."""


@dataclass(frozen=True)
class Standardiser:
    """Per column centre and scale, and the fences (in scale units) values are held to."""

    center: np.ndarray
    scale: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``x`` standardised and held within the fences (NaN stays NaN)."""
        return np.clip((x - self.center) / self.scale, self.low, self.high)


def robust_standardiser(x: np.ndarray) -> Standardiser:
    """How to standardise the columns of ``x`` (rows × features; NaN ignored) so that one
    stray row cannot move it: centre at the median, scale by the IQR / 1.349 (a normal's
    standard deviation), or for a column without an IQR (mostly one value) the standard
    deviation of its values clipped at their 1 % and 99 % quantiles, then the plain
    standard deviation (a column over 98 % one value), then 1. Values further than
    :data:`FENCE` scale units beyond those quantiles (either side) count as at that
    fence. With the mean and standard deviation, one sentinel (999999999 in a
    column of ages) shrank every other row to a point and hid any drift; a distance that
    moves mass (sliced or optimal-transport EMD) was swamped by carrying it."""
    d = x.shape[1]
    if len(x) == 0:
        return Standardiser(np.zeros(d), np.ones(d), np.full(d, -np.inf), np.full(d, np.inf))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column: 0 and 1 below
        lo, q1, mid, q3, hi = np.nanquantile(x, [0.01, 0.25, 0.5, 0.75, 0.99], axis=0)
        scale = (q3 - q1) / IQR_PER_SD
        clipped = np.nanstd(np.clip(x, lo, hi), axis=0)
        plain = np.nanstd(x, axis=0)  # (a column 99 % one value: its rest, in its units)
    scale = np.where(scale > 0, scale, clipped)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, plain)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    center = np.where(np.isfinite(mid), mid, 0.0)
    low = np.where(np.isfinite(lo), (lo - center) / scale - FENCE, -np.inf)
    high = np.where(np.isfinite(hi), (hi - center) / scale + FENCE, np.inf)
    return Standardiser(center, scale, low, high)


# --------------------------------------------------------------- fitted base

SIZE_TOLERANCE = 0.10
"""A bootstrap null serves window sizes whose resample size is within 10 % of its own,
rescaled by the detector's :meth:`FittedBase._null_exponent` (right to first order: the
rescaled null's median and 90 % quantile are within a few % of a null drawn at the other
size — tests/detectors/test_null_sharing.py — far less than the Monte Carlo error of a
99 % quantile of 200 resamples). A segment of 500 events a window varies by ±4.5 %."""

SIGNATURE_TOLERANCE = 0.01
"""How far apart two references' :meth:`FittedBase.null_signature` may be (largest
element difference) for one's nulls to serve the other."""


@dataclass
class NullPool:
    """Sorted bootstrap nulls by resample size, of one reference or of the fits of a
    sliding reference that kept its shape (:meth:`FittedBase.join_nulls`)."""

    kind: type
    policy: ThresholdPolicy
    signature: np.ndarray | None
    nulls: dict[int, np.ndarray] = field(default_factory=dict)

    def nearest(
        self, size: int, serves: Callable[[int], bool] = lambda drawn: True
    ) -> tuple[int, np.ndarray] | None:
        """The null whose resample size is closest to ``size``, within
        :data:`SIZE_TOLERANCE`, among those drawn at a size that ``serves``."""
        sizes = [s for s in self.nulls if serves(s)]
        if not sizes:
            return None
        best = min(sizes, key=lambda s: abs(s - size))
        return (best, self.nulls[best]) if abs(best - size) <= SIZE_TOLERANCE * size else None


@dataclass(frozen=True)
class FittedBase(ABC):
    """Shared scoring logic: statistic against the reference, then the threshold policy.

    Subclasses provide ``_prepare`` (validate a window), ``_statistic`` (reference vs a
    prepared window), ``_resample`` (a bootstrap sample of the reference, prepared) and,
    for permutation tests, ``_pool``/``_split_statistic``.
    """

    policy: ThresholdPolicy
    seed: int
    _cache: dict[int, tuple[np.ndarray, float]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _pool: list[NullPool] = field(default_factory=list, compare=False, repr=False)

    # -- hooks
    @abstractmethod
    def _prepare(self, current: Any) -> Any: ...

    @abstractmethod
    def _size(self, prepared: Any) -> int: ...

    @abstractmethod
    def _reference_size(self) -> int: ...

    @abstractmethod
    def _statistic(self, prepared: Any) -> tuple[float, dict[str, Any]]: ...

    @abstractmethod
    def _resample(self, rng: np.random.Generator, m: int) -> Any: ...

    def _boot_statistics(self, rng: np.random.Generator, m: int, n_boot: int) -> np.ndarray:
        """``n_boot`` bootstrap statistics (detectors may vectorise this)."""
        return np.array([self._boot_statistic(rng, m) for _ in range(n_boot)])

    def _boot_statistic(self, rng: np.random.Generator, m: int) -> float:
        """The statistic between the reference and one bootstrap resample of size ``m``."""
        return self._statistic(self._resample(rng, m))[0]

    def _statistic_and_permutations(
        self, prepared: Any, rng: np.random.Generator, n: int
    ) -> tuple[float, dict[str, Any], np.ndarray]:
        """Observed statistic and ``n`` permutation statistics (one pass where possible)."""
        stat, details = self._statistic(prepared)
        return stat, details, self._permutation_statistics(prepared, rng, n)

    def _permutation_statistics(
        self, prepared: Any, rng: np.random.Generator, n: int
    ) -> np.ndarray:
        raise ConfigError(f"{type(self).__name__} has no permutation test; use another policy")

    def _p_value_and_critical(
        self, statistic: float, prepared: Any, alpha: float
    ) -> tuple[float, float]:
        raise ConfigError(
            f"{type(self).__name__} has no analytic null distribution; use Permutation"
        )

    # -- scoring
    def score(self, current: Any) -> Score:
        """Score a production window against the fitted reference."""
        prepared = self._prepare(current)
        pol = self.policy
        perm: np.ndarray | None = None
        if isinstance(pol, Permutation):
            rng = np.random.default_rng([self.seed, 1])
            stat, details, perm = self._statistic_and_permutations(prepared, rng, pol.n)
        else:
            stat, details = self._statistic(prepared)
        if not np.isfinite(stat):
            raise DetectorInputError(f"statistic is not finite ({stat}); check the inputs")
        stat = max(float(stat), 0.0)
        p_value: float | None = None
        if isinstance(pol, Constant):
            threshold = float(pol.value)
        elif isinstance(pol, ReferenceQuantile):
            null, threshold, shaped = self._null_for(pol, prepared)
            p_value = p_value_from_null(stat, null, shaped=shaped)
            if stat > threshold or p_value < CONFIRM_BELOW:
                own = self._confirming_null(pol, prepared)
                if own is not None:  # (the window's own null decides)
                    threshold = max(float(np.quantile(own, pol.q, method="higher")),
                                    float(pol.floor))
                    p_value = p_value_from_null(stat, own, shaped=self.shaped_tail)
                    details = {**details, "null": "permutation"}
        elif isinstance(pol, Permutation):
            assert perm is not None
            raw = float(details.get("raw_statistic", stat))
            b = int(np.sum(perm >= raw - 1e-12 * max(abs(raw), 1e-300)))
            p_value = (b + 1) / (pol.n + 1)
            if b == 0:  # beyond every permutation: the tail the reference-quantile policy
                # models (found in review: 1/(n + 1), 0.005 at n = 200, never passed the
                # model's Benjamini–Hochberg step across a few tests, and an MMD 20 times
                # its threshold on a correlation change was never flagged)
                p_value = min(p_value_from_null(raw, np.sort(perm), shaped=self.shaped_tail)
                              or p_value, p_value)
            threshold = permutation_threshold(perm, pol.alpha)
            if "raw_statistic" in details:  # compare on the raw (possibly negative) scale
                threshold = max(threshold, 0.0)
        elif isinstance(pol, PValue):
            p_value, threshold = self._p_value_and_critical(stat, prepared, pol.alpha)
        else:  # pragma: no cover - guarded at construction
            raise ConfigError(f"unknown threshold policy {pol!r}")
        if np.isnan(threshold) or (p_value is not None and np.isnan(p_value)):
            raise DetectorInputError(
                f"{pol.label} threshold is undefined for windows of {self._size(prepared)} "
                f"and {self._reference_size()} values; use a Constant threshold"
            )
        return Score(
            statistic=stat,
            threshold=float(threshold),
            policy=pol.label,
            p_value=p_value,
            details=details,
        )

    def _null_for(
        self, pol: ReferenceQuantile, prepared: Any
    ) -> tuple[np.ndarray, float, bool]:
        """The sorted null a window is judged against, its thresholded ``q``-quantile, and
        whether its p-values take a shaped tail: the detector's own (:meth:`_window_null`,
        a permutation null: :attr:`shaped_tail`) where it draws one, the reference's
        bootstrap null at the window's size otherwise (never shaped)."""
        null = self._window_null(pol, prepared)
        if null is None:
            return (*self._reference_null(pol, self._size(prepared)), False)
        return (null, max(float(np.quantile(null, pol.q, method="higher")), float(pol.floor)),
                self.shaped_tail)

    def _confirming_null(self, pol: ReferenceQuantile, prepared: Any) -> np.ndarray | None:
        """A sorted null drawn for this window alone that judges a window over the
        reference's null (or with a p-value under :data:`CONFIRM_BELOW`) in its place;
        None (the default): the reference's null decides alone."""
        return None

    def _window_null(self, pol: ReferenceQuantile, prepared: Any) -> np.ndarray | None:
        """A sorted null of ``pol.n_boot`` statistics drawn for this window alone; None
        (the default): the reference's bootstrap null at the window's size serves."""
        return None

    def _reference_null(self, pol: ReferenceQuantile, m: int) -> tuple[np.ndarray, float]:
        """The sorted bootstrap null at window size ``m`` and its thresholded q-quantile.

        The null is the statistic between the reference and ``n_boot`` of its own
        resamples of the effective size ``n·m/(n+m)``, so its sampling noise equals that
        of comparing ``n`` reference rows with ``m`` current rows. The threshold is its
        ``q``-quantile, never below ``floor``; the p-value comes from the whole null
        (:func:`~driftscope.detectors.significance.p_value_from_null`).
        Cached per ``m``; deterministic in (seed, m). Where the detector knows how its
        null scales with size (:meth:`_null_exponent`), a null drawn at a resample size
        within :data:`SIZE_TOLERANCE` serves, rescaled — its own or one of its pool's
        (:meth:`join_nulls`): windows whose sizes differ by a few events do not each
        draw 200 resamples.
        """
        if m in self._cache:
            return self._cache[m]
        size = self._null_size(m)
        exponent = self._null_exponent()
        near = (self.null_pool.nearest(size, lambda drawn: self._null_serves(drawn, size))
                if exponent is not None else None)
        if near is not None and exponent is not None:
            null = near[1] * (near[0] / size) ** exponent
        else:
            rng = np.random.default_rng([self.seed, 2, m])
            null = np.sort(np.maximum(self._boot_statistics(rng, size, pol.n_boot), 0.0))
            if exponent is not None:
                self.null_pool.nulls[size] = null
        value = max(float(np.quantile(null, pol.q, method="higher")), float(pol.floor))
        self._cache[m] = (null, value)
        return null, value

    def _null_exponent(self) -> float | None:
        """``e`` where the null statistic at resample size ``s`` scales as ``s**-e`` (0.5
        for distances between frequencies or distributions, 1 for divergences); None:
        no null serves another size."""
        return None

    def _null_serves(self, drawn: int, size: int) -> bool:
        """Whether a null drawn at resample size ``drawn`` may serve ``size`` rescaled
        (the statistic's law has no step between them)."""
        return True

    def null_signature(self) -> np.ndarray | None:
        """What the null depends on besides the size, on a scale where
        :data:`SIGNATURE_TOLERANCE` is a negligible difference; None: nothing else
        shares this reference's nulls."""
        return None

    @property
    def null_pool(self) -> NullPool:
        """The nulls this fit draws from and adds to."""
        if not self._pool:
            self._pool.append(NullPool(type(self), self.policy, self.null_signature()))
        return self._pool[0]

    def join_nulls(self, pool: NullPool) -> bool:
        """Share ``pool`` (another fit's: a sliding reference's previous one) when the
        same detector and policy fitted a reference of the same shape; whether it does."""
        mine = self.null_signature()
        theirs = pool.signature
        if (pool.kind is not type(self) or pool.policy != self.policy or mine is None
                or theirs is None or mine.shape != theirs.shape
                or float(np.max(np.abs(mine - theirs), initial=0.0)) > SIGNATURE_TOLERANCE):
            return False
        self._pool[:] = [pool]
        return True

    def _null_size(self, m: int) -> int:
        """The window size the null's resamples are drawn at: the effective ``n·m/(n+m)``
        (a resample against the fixed reference carries the noise of both sides)."""
        n = self._reference_size()
        return max(1, round(n * m / (n + m)))

    def null_at(self, current: Any, confirmed: bool = False) -> np.ndarray | None:
        """The sorted null a reference-quantile threshold used for ``current`` (None under
        other policies): the reference's, or with ``confirmed`` the window's own, which its
        score used instead where its details say ``"null": "permutation"``
        (:data:`CONFIRM_BELOW`)."""
        judging = self._judging_null(current, confirmed)
        return None if judging is None else judging[0]

    def null_p_value(self, statistic: float, current: Any, confirmed: bool = False
                     ) -> float | None:
        """The p-value of ``statistic`` against the null :meth:`null_at` gives, read with
        the tail :meth:`score` reads it with (None under other policies)."""
        judging = self._judging_null(current, confirmed)
        return None if judging is None else p_value_from_null(statistic, judging[0],
                                                              shaped=judging[1])

    def _judging_null(self, current: Any, confirmed: bool) -> tuple[np.ndarray, bool] | None:
        """:meth:`null_at`, and whether its p-values take a shaped tail."""
        if not isinstance(self.policy, ReferenceQuantile):
            return None
        prepared = self._prepare(current)
        own = self._confirming_null(self.policy, prepared) if confirmed else None
        if own is not None:
            return own, self.shaped_tail
        null, _, shaped = self._null_for(self.policy, prepared)
        return null, shaped

    @property
    def shaped_tail(self) -> bool:
        """Whether a null drawn for a window (:meth:`_window_null`) has its p-values read
        off a shaped tail (``p_value_from_null(..., shaped=True)``), as a confirming null
        (:meth:`_confirming_null`) is: for a feature whose nulls have heavy tails (EMD's
        :attr:`heavy_tailed`, the only features confirmed). Default False: the
        exponential tail."""
        return False

    def _reference_quantile(self, pol: ReferenceQuantile, m: int) -> float:
        """The threshold alone (see :meth:`_reference_null`)."""
        return self._reference_null(pol, m)[1]


def check_policy(
    policy: ThresholdPolicy, name: str = "", *, p_value: bool = False
) -> ThresholdPolicy:
    """Reject anything that is not one of the policy values, and a p-value policy for a
    detector without an analytic null (``p_value``: it has one) when it is made, not when
    its first window is scored."""
    if not isinstance(policy, Constant | ReferenceQuantile | Permutation | PValue):
        raise ConfigError(
            f"threshold policy must be Constant, ReferenceQuantile, Permutation or PValue, "
            f"got {policy!r}"
        )
    if isinstance(policy, PValue) and not p_value:
        raise ConfigError(
            f"{name or 'this detector'} has no analytic null distribution, so no p-value "
            "policy (ks, chi2 and mmd with estimator linear have one); use reference-quantile "
            "or permutation"
        )
    return policy


def draw_seed(rng: np.random.Generator) -> int:
    """One integer seed drawn from the caller's generator (the only randomness used)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator, e.g. np.random.default_rng(0)")
    return int(rng.integers(0, 2**63 - 1))


def params_repr(obj: object, params: Mapping[str, Any]) -> str:
    inner = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return f"{type(obj).__name__}({inner})"
