"""Bins fixed on the reference, shared by every distance between frequency vectors.

Numeric data get quantile bins cut on the reference, plus an underflow bin (below the
reference minimum), an overflow bin (above its maximum) and a missing bin (NaN).
Categorical data get one bin per reference category (the ``max_categories`` most
frequent), an ``unseen`` bin for anything else and a missing bin (``None``/NaN).
A change of the missing rate therefore moves mass between bins like any other change.

The permutation null is drawn exactly and cheaply: permuting pooled rows and counting
per bin is a multivariate hypergeometric draw of the current counts from the pooled counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from driftscope.errors import ConfigError, DetectorInputError

from .base import (
    FittedBase,
    as_numeric,
    check_policy,
    count_categories,
    draw_seed,
    is_categorical,
    params_repr,
)
from .significance import ReferenceQuantile, ThresholdPolicy

Distance = Callable[[np.ndarray, np.ndarray], float]
UNSEEN = "<unseen>"
MISSING = "<missing>"


def quantile_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Edges ``[min, interior quantiles…, next float above max]`` of observed ``values``.

    A feature with at most ``n_bins`` distinct values (a flag, a small count) gets one bin
    per value; a value that several quantiles fall on gets a bin of its own
    (:func:`edges_from_quantiles`).

    >>> quantile_edges(np.array([0.0] * 95 + [1.0] * 5), 10).tolist()
    [0.0, 1.0, 1.0000000000000002]
    """
    return numeric_edges(values, n_bins)[0]


def numeric_edges(values: np.ndarray, n_bins: int) -> tuple[np.ndarray, bool]:
    """:func:`quantile_edges` and whether they are one bin per distinct value.

    Distinct values are counted only when the quantiles tie (more than ``n_bins`` distinct
    quantiles prove more than ``n_bins`` values), and then by hashing a sample first: a
    sort of a million values cost more than the quantiles.
    """
    obs = values[~np.isnan(values)]
    if obs.size == 0:
        return np.empty(0), False
    inner = np.quantile(obs, np.arange(1, n_bins) / n_bins)
    lo, hi = float(obs.min()), float(obs.max())
    if np.unique(np.concatenate([[lo], inner, [hi]])).size <= n_bins:  # the quantiles tie
        if pd.unique(obs[:10_000]).size <= n_bins:
            distinct = np.sort(pd.unique(obs))
            if distinct.size <= n_bins:
                return np.append(distinct, np.nextafter(distinct[-1], np.inf)), True
    return edges_from_quantiles(lo, inner, hi), False


def edges_from_quantiles(lo: float, inner: np.ndarray | list[float], hi: float) -> np.ndarray:
    """Edges ``[lo, inner…, next float above hi]``, a mass point isolated.

    A value that several of the quantiles ``lo, inner…`` share holds a mass (a zero-inflated
    feature's 0): it gets the bin ``[v, next float above v)`` of its own, so that a change
    of its share is seen (before, the deciles of a 0/1 flag at 5 % were all 0 and the flag
    fell into one bin with the ones: a flag going to 90 % was no drift).

    >>> edges_from_quantiles(0.0, [0.0] * 8 + [2.0], 5.0).tolist()[:3]
    [0.0, 5e-324, 2.0]
    """
    qs = np.concatenate([[lo], np.asarray(inner, dtype=float)])
    values, times = np.unique(qs, return_counts=True)
    points = np.nextafter(values[times > 1], np.inf)
    return np.unique(np.concatenate([qs, points, [np.nextafter(hi, np.inf)]]))


def numeric_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin: ``len(edges) + 1`` value bins (under/overflow included), then missing."""
    nan = np.isnan(values)
    idx = np.searchsorted(edges, values[~nan], side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1)
    return np.append(counts, nan.sum()).astype(np.int64)


def reference_categories(counts: dict[str, int], max_categories: int) -> np.ndarray:
    """Sorted reference categories, keeping the most frequent when there are too many."""
    keys = sorted(counts)
    if len(keys) > max_categories:
        keys = sorted(sorted(keys, key=lambda c: -counts[c])[:max_categories])
    return np.asarray(keys, dtype=str)


SPARSE = 0.01
"""A reference of :data:`SPLIT_MIN` values or more whose values seen once are more than
this share of it is sparse."""
SPLIT_MIN = 500  # below it half a reference is too little to count on


def reference_bins(
    counts: dict[str, int], n_missing: int, max_categories: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The categories tracked, the reference counts over them (then unseen, missing) and,
    for a sparse reference, the bin probabilities its null draws from.

    A sparse reference (more categories than ``max_categories``, or more than
    :data:`SPARSE` of its values seen once: an id, a zip code; :data:`SPLIT_MIN` values at
    least) is split in two at random:
    one half chooses the categories, the other counts them. Chosen and counted on the same
    values, the most frequent categories were those lucky in the reference and the
    ``unseen`` bin held nothing of what it had not seen: every window like it drifted (10,000
    equally likely values: L-inf 0.21 against a threshold of 0.04). The counting half
    measures both without bias, at the cost of half the values. Its many small counts are
    as noisy as a window's, so the null draws a reference too
    (:meth:`FittedBinned._boot_statistic`) at the window's own size, from probabilities
    that put the counting half's mass on the tracked categories as both halves share it
    (the counting half alone has no value of most rare categories, which windows do have).
    """
    n = sum(counts.values())
    once = sum(1 for c in counts.values() if c == 1)
    if n < SPLIT_MIN or (len(counts) <= max_categories and once <= SPARSE * n):
        cats = reference_categories(counts, max_categories)
        return cats, counts_over(counts, n_missing, cats), None
    keys = sorted(counts)
    full = np.array([counts[k] for k in keys] + [n_missing], dtype=np.int64)
    rng = np.random.default_rng([seed, 3])  # (1: the permutation policy's)
    half = rng.multivariate_hypergeometric(full, int(full.sum()) // 2, method="marginals")
    other = full - half
    cats = reference_categories(
        {k: int(c) for k, c in zip(keys, other[:-1].tolist(), strict=True) if c}, max_categories)
    counted = {k: int(c) for k, c in zip(keys, half[:-1].tolist(), strict=True) if c}
    ref_counts = counts_over(counted, int(half[-1]), cats)
    shape = counts_over(counts, n_missing, cats)[:-2]  # both halves: no tracked one at 0
    probs = ref_counts / ref_counts.sum()
    probs[:-2] = probs[:-2].sum() * shape / shape.sum()
    return cats, ref_counts, probs


def counts_over(counts: dict[str, int], n_missing: int, cats: np.ndarray) -> np.ndarray:
    """Counts per reference category, then ``unseen``, then missing."""
    seen = [counts.get(c, 0) for c in cats.tolist()]
    unseen = sum(counts.values()) - sum(seen)
    return np.asarray([*seen, unseen, n_missing], dtype=np.int64)


def categorical_counts(values: np.ndarray, n_missing: int, cats: np.ndarray) -> np.ndarray:
    """Counts per reference category, then ``unseen``, then missing."""
    k = len(cats)
    if k == 0 or values.size == 0:
        seen = np.zeros(k, dtype=np.int64)
        return np.concatenate([seen, [values.size, n_missing]]).astype(np.int64)
    pos = np.searchsorted(cats, values)
    pos_c = np.minimum(pos, k - 1)
    hit = cats[pos_c] == values
    counts = np.bincount(pos_c[hit], minlength=k)
    return np.concatenate([counts, [int((~hit).sum()), n_missing]]).astype(np.int64)


def bin_labels(edges: np.ndarray | None, cats: np.ndarray | None) -> list[str]:
    if cats is not None:
        return [*map(str, cats.tolist()), UNSEEN, MISSING]
    assert edges is not None
    if len(edges) == 0:
        return ["observed", MISSING]
    e = edges.tolist()
    inner = []
    for i in range(len(e) - 1):
        top = float(np.nextafter(e[i + 1], -np.inf))  # the largest value in the bin
        if top == e[i]:
            inner.append(f"{e[i]:.6g}")  # one value's bin
        elif i == len(e) - 2:
            inner.append(f"[{e[i]:.6g}, {top:.6g}]")  # the last bin ends at the maximum
        else:
            inner.append(f"[{e[i]:.6g}, {e[i + 1]:.6g})")
    return [f"< {e[0]:.6g}", *inner, f"> {float(np.nextafter(e[-1], -np.inf)):.6g}", MISSING]


@dataclass(frozen=True, kw_only=True)
class FittedBinned(FittedBase):
    """Reference counts over bins fixed at fit, and the distance between frequencies."""

    distance: Distance
    kind: str
    ref_counts: np.ndarray
    edges: np.ndarray | None = None
    categories: np.ndarray | None = None
    null_probs: np.ndarray | None = None  # a sparse reference's (reference_bins)
    # numeric: values beyond the reference's range count in its outermost bins (:meth:`_folded`)
    fold: bool = False
    # bins the reference is empty in by construction (beyond the range of one bin per
    # value; unseen), each with the Beta(a, b) its mass is drawn from in the null
    # (:meth:`_null_frequencies`)
    beyond: tuple[tuple[int, float, float], ...] = ()
    discrete: bool = False  # numeric bins one per distinct value (numeric_edges)
    exponent: float | None = None  # BinnedDetector.null_exponent
    shares: bool = False  # BinnedDetector.shares_nulls
    by_rows: bool = False  # BinnedDetector.distance_by_rows

    def _prepare(self, current: Any) -> np.ndarray:
        if self.kind == "categorical":
            found, n_missing = count_categories(current, "current window")
            assert self.categories is not None
            counts = counts_over(found, n_missing, self.categories)
        else:
            values_f = as_numeric(current, "current window")
            assert self.edges is not None
            counts = numeric_counts(values_f, self.edges)
        if counts.sum() == 0:
            raise DetectorInputError("current window is empty; need at least one value")
        return counts

    def _size(self, prepared: np.ndarray) -> int:
        return int(prepared.sum())

    def _reference_size(self) -> int:
        return int(self.ref_counts.sum())

    def _between(self, ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
        ref_counts, cur_counts = self._folded(ref_counts), self._folded(cur_counts)
        p = ref_counts / ref_counts.sum()
        q = cur_counts / cur_counts.sum()
        return float(self.distance(p, q))

    def _folded(self, counts: np.ndarray) -> np.ndarray:
        """With :attr:`fold`, numeric counts ``[under, inner…, over, missing]`` with the
        under- and overflow added to the first and last inner bins (the classical open
        outermost bins of PSI); else ``counts`` as they are. The reference is empty beyond
        its own range, so a bin there held only the window's values: ``psi``, ``kl`` and
        ``hellinger`` charged a value there as if it could never happen, and 6–37 % of
        windows like the reference drifted."""
        if not self.fold:
            return counts
        out = counts[1:-2].copy()
        out[0] += counts[0]
        out[-1] += counts[-2]
        return np.append(out, counts[-1])

    def _statistic(self, prepared: np.ndarray) -> tuple[float, dict[str, Any]]:
        stat = self._between(self.ref_counts, prepared)
        return stat, self._details(prepared)

    def _details(self, cur: np.ndarray) -> dict[str, Any]:
        p = self.ref_counts / self.ref_counts.sum()
        q = cur / cur.sum()
        labels = bin_labels(self.edges, self.categories if self.kind == "categorical" else None)
        top = np.argsort(-np.abs(p - q), kind="stable")[:5]
        return {
            "n_reference": int(self.ref_counts.sum()),
            "n_current": int(cur.sum()),
            "missing_rate_reference": float(p[-1]),
            "missing_rate_current": float(q[-1]),
            "top_bins": [(labels[i], float(p[i]), float(q[i])) for i in top if p[i] != q[i]],
        }

    def _resample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        p = self.ref_counts / self.ref_counts.sum()
        return rng.multinomial(m, p)

    def _null_exponent(self) -> float | None:
        return self.exponent

    def null_signature(self) -> np.ndarray | None:
        """The null draws from the reference's frequencies: their square roots (the scale
        of a count's noise), sorted — the distances do not care which bin is which — and
        ``log Σ√(p(1−p))`` in quarters (4 %: many rare bins changing together move it). Only
        ``linf`` and ``l1`` share (:attr:`BinnedDetector.shares_nulls`: the other
        distances weigh rare bins more than this sees); a sparse reference's null (which
        draws a reference too) is its own."""
        if self.null_probs is not None or not self.shares or self.beyond:
            return None
        p = self.ref_counts / self.ref_counts.sum()
        noise = float(np.sum(np.sqrt(p * (1 - p))))  # 0: one bin (a constant)
        return np.append(np.sort(np.sqrt(p)), 0.25 * np.log(noise) if noise > 0 else -10.0)

    def _null_size(self, m: int) -> int:
        # a sparse reference's null draws a reference too: its window is the real one
        return m if self.null_probs is not None else super()._null_size(m)

    def _null_frequencies(self, rng: np.random.Generator) -> np.ndarray:
        """The reference's frequencies, with a mass drawn for each bin it is empty in by
        construction (:attr:`beyond`): a window like the reference has categories it never
        saw (and, with one bin per value, values beyond its range), which a resample of
        the reference never has. ``psi``, ``kl`` and ``hellinger`` weigh such a bin
        heavily: on 40 categories with rare ones, 16 % (psi) and 74 % (kl) of like windows
        drifted at q = 0.99."""
        p = self.ref_counts / self.ref_counts.sum()
        if not self.beyond:
            return p
        extra = np.zeros_like(p)
        for i, a, b in self.beyond:
            extra[i] = rng.beta(a, b)
        if any(a < 5 for _, a, _ in self.beyond):  # (a reference of 1 or 2 values; not
            # a long tail's, where 70 % of a window can be values it never saw)
            extra *= min(1.0, 0.5 / max(extra.sum(), 1e-300))
        return p * (1.0 - extra.sum()) + extra

    def _boot_statistics(self, rng: np.random.Generator, m: int, n_boot: int) -> np.ndarray:
        """The plain null (the reference's frequencies, nothing drawn beyond them) in one
        draw of ``n_boot`` windows and one distance over their rows: the same draws, in
        the same order, as one window at a time (a tenth of a wide model's pass was this
        loop, benchmarks/binned_null.py)."""
        if not self.by_rows or self.null_probs is not None or self.beyond or self.fold:
            return super()._boot_statistics(rng, m, n_boot)
        p = self.ref_counts / self.ref_counts.sum()
        draws = rng.multinomial(m, p, size=n_boot)
        return np.asarray(self.distance(p, draws / draws.sum(axis=1, keepdims=True)),
                          dtype=float)

    def _boot_statistic(self, rng: np.random.Generator, m: int) -> float:
        p = self.null_probs
        if p is None:  # (the statistic alone: its details cost 40 % of a fit's null)
            if self.beyond:
                return self._between(self.ref_counts,
                                     rng.multinomial(m, self._null_frequencies(rng)))
            return self._between(self.ref_counts, self._resample(rng, m))
        # the reference's many small counts are as noisy as the window's: draw both
        return self._between(rng.multinomial(int(self.ref_counts.sum()), p), rng.multinomial(m, p))

    def _permutation_statistics(
        self, prepared: np.ndarray, rng: np.random.Generator, n: int
    ) -> np.ndarray:
        pooled = self.ref_counts + prepared
        m = int(prepared.sum())
        cur = rng.multivariate_hypergeometric(pooled, m, size=n, method="marginals")
        ref = pooled[None, :] - cur
        return np.array([self._between(ref[i], cur[i]) for i in range(n)])


class BinnedDetector:
    """Base of detectors comparing frequency vectors over reference-fixed bins.

    Parameters
    ----------
    policy : ThresholdPolicy, optional
        How the threshold is set (see :mod:`driftscope.detectors.significance`); by
        default :meth:`default_policy`.
    n_bins : int
        Quantile bins for numeric data (plus under/overflow and missing bins).
    max_categories : int
        Most frequent reference categories tracked; the rest count as unseen.
    """

    name: ClassVar[str]
    input_kind: ClassVar[str] = "univariate"
    fitted_class: ClassVar[type[FittedBinned]] = FittedBinned
    null_exponent: ClassVar[float | None] = None
    """How the distance's null shrinks with size (``size**-e``: 0.5 for distances, 1 for
    divergences); None: each window size draws its own null."""
    analytic_null: ClassVar[bool] = False
    """Whether its p-value comes from a distribution (``PValue`` policy allowed)."""
    shares_nulls: ClassVar[bool] = False
    """Whether a refitted reference of the same frequencies may share the null
    (:meth:`FittedBinned.null_signature`)."""
    distance_by_rows: ClassVar[bool] = False
    """Whether :meth:`distance` takes windows' frequencies as the rows of a matrix and
    returns their distances (:meth:`FittedBinned._boot_statistics` draws its null so)."""

    def __init__(
        self,
        policy: ThresholdPolicy | None = None,
        *,
        n_bins: int = 10,
        max_categories: int = 1000,
    ) -> None:
        self.policy = check_policy(policy or self.default_policy(), self.name,
                                   p_value=self.analytic_null)
        self.n_bins = n_bins
        self.max_categories = max_categories
        if n_bins < 1 or max_categories < 1:
            raise ConfigError("n_bins and max_categories must be >= 1")

    @staticmethod
    def default_policy() -> ThresholdPolicy:
        """The threshold policy when none is given: calibrated on the reference."""
        return ReferenceQuantile()

    @staticmethod
    def distance(p: np.ndarray, q: np.ndarray) -> float:
        raise NotImplementedError

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedBinned:
        """Fix the bins on ``reference`` and store its counts."""
        seed = draw_seed(rng)
        dist = type(self).distance
        if is_categorical(reference):
            found, n_missing = count_categories(reference, "reference")
            cats, counts, null = reference_bins(found, n_missing, self.max_categories, seed)
            present = int(counts[:-1].sum())
            once = sum(1 for c in found.values() if c == 1)
            # categories it never saw: a mass about its share of values seen once (Good-
            # Turing), at least one value in n + 1; for the distances that share nulls
            # (linf, l1) where that share is more than SPARSE: a reference too small to
            # split (under SPLIT_MIN values) of a long tail — 200 events of 20,000 ids —
            # held none, and every window like it drifted (L-inf 0.51 against 0.105)
            beyond: tuple[tuple[int, float, float], ...] = (
                (len(cats), float(max(once, 1)), float(present + 1 - max(once, 1))),) \
                if null is None and counts[-2] == 0 and present \
                and (not self.shares_nulls or once > SPARSE * present) else ()
            fitted = self.fitted_class(
                self.policy,
                seed,
                distance=dist,
                kind="categorical",
                categories=cats,
                ref_counts=counts,
                null_probs=null,
                exponent=self.null_exponent,
                shares=self.shares_nulls,
                beyond=beyond,
                by_rows=self.distance_by_rows,
            )
        else:
            values_f = as_numeric(reference, "reference")
            edges, discrete = numeric_edges(values_f, self.n_bins)
            counts = numeric_counts(values_f, edges)
            present = int(counts[:-1].sum())
            # values beyond the range: in the outermost bins; with one bin per value (a
            # new value is no neighbour's) apart, a mass Beta(1, n) each side in the null
            own = not self.shares_nulls and present > 0
            fold = own and not discrete and len(counts) >= 5
            beyond = tuple((i, 1.0, float(present)) for i in (0, len(edges))) \
                if own and not fold else ()
            fitted = self.fitted_class(
                self.policy, seed, distance=dist, kind="numeric", edges=edges, ref_counts=counts,
                discrete=discrete, exponent=self.null_exponent, shares=self.shares_nulls,
                fold=fold, beyond=beyond, by_rows=self.distance_by_rows,
            )
        if counts.sum() == 0:
            raise DetectorInputError("reference is empty; need at least one value")
        return fitted

    def __repr__(self) -> str:
        return params_repr(
            self,
            {"policy": self.policy, "n_bins": self.n_bins, "max_categories": self.max_categories},
        )
