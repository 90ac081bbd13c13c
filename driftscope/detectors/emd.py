"""Exact 1-D Earth Mover's (Wasserstein-1) distance, normalised by the reference's spread.

The reference is sorted once at ``fit``. Scoring sorts the current window and walks
the two quantile functions in O(n + m) integer arithmetic (no merge sort, no search),
which is what makes it several times faster than ``scipy.stats.wasserstein_distance``
while giving the same value to floating-point rounding.

A changed missing-value rate counts as drift: the statistic is
``W1(observed values) / scale + |missing rate(current) - missing rate(reference)|``.
By default each side's observed values are first winsorised at its own 1 % tails
(``trim``): a heavy-tailed feature's few largest values no longer decide the distance, nor
a null that 200 resamples cannot describe (docs/detectors.md). A reference of fewer than
:data:`PERMUTED_BELOW` values is judged against random splits of the reference pooled with
the window, not against its own bootstrap resamples.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from driftscope.errors import ConfigError, DetectorInputError

from .base import FittedBase, as_numeric, check_policy, draw_seed, params_repr
from .significance import ReferenceQuantile, ThresholdPolicy

_SCALES = ("iqr", "std", "none")
_TRANSFORMS = ("none", "ranks")
DEFAULT_TRIM = 0.01
DISCRETE_MAX = 20
"""A reference with at most this many distinct values is not winsorised: its extremes
are values the bootstrap resamples as often as they come (a rare 0/1 flag's ones, a small
count's top), and clipping them would hide a flag rate moving from 0.5 % to 1 %."""
SHARED_CLIPS = 20
"""From this many values clipped at each end, nulls are shared across clip counts."""
PERMUTED_BELOW = 2_000
"""A reference of fewer values (missing ones included) is judged, under a
reference-quantile policy, against a permutation null drawn for each window: the reference
pooled with the window and split at random ``n_boot`` times. A bootstrap of a few hundred
reference values cannot show how far a skewed feature's tail reaches (a 200-row reference
of lognormal features flagged a quarter of windows without drift); the pooled split sees
the window's own tail, and under no drift the observed split is one of them (exchangeable:
exactly so without missing values, docs/detectors.md). From this size on the bootstrap null,
drawn once per window size and shared across refits, is kept: nearer its level there (a
lognormal σ = 2 feature on 2,400 or 6,000 values: 1.4 % of windows over its 99 %
threshold) and far cheaper for the large references of a wide model."""
HEAVY_TAILS = 6.0
"""A reference whose 0.5 %-99.5 % range is over this many interquartile ranges (a normal's
is 3.8, an exponential's or a lognormal σ = 0.5's 4.8, a Student t with 5 degrees of
freedom's 5.7; a t with 3 degrees 7.7, a lognormal σ = 1's 8.7, a Pareto a = 2.2's 15, a
lognormal σ = 2's 48; a feature mostly one value, zeros with rare amounts: no
interquartile range at all, whatever the 0.5 %-99.5 % range) has a window
its bootstrap null flags judged against a permutation null instead
(:meth:`FittedEMD._confirming_null`): the bootstrap's fitted exponential tail is too thin
for such a feature, and right for the others, which are spared the permutation's cost."""
CONFIRMED_UP_TO = 10_000
"""… as long as the reference and the window hold at most this many values together: the
splits of such a pooled sample are kept (:data:`SPLIT_CACHE_BYTES`) and shared by every
feature of a segment. A wide model's whole population (60,000 reference values and more)
would draw 200 splits of it for each feature it flags: under a drift of all of 100
heavy-tailed features, a live pass took 41 s instead of 9 (BENCHMARKS.md, "Skewed features
on larger references")."""
SPARSE_BELOW = 8
"""A bootstrap resample of fewer than 1/this of the reference's observed values is scored
from its sorted draws (O(draws)), not from its counts over every reference value."""
DRAWS_BLOCK = 2**20
"""Resamples scored from their draws together hold at most about this many draws."""
_HUGE = 2.0**900  # values beyond it are computed scaled down (no overflow on the way)


def wasserstein_sorted(u: np.ndarray, v: np.ndarray, p: int = 1) -> float:
    """Exact ``W_p`` between the empirical distributions of two **sorted** 1-D samples.

    Integrates ``|F⁻¹(t) - G⁻¹(t)|^p`` over ``t ∈ (0, 1]``. The breakpoints ``i/n`` and
    ``j/m`` are merged arithmetically; each segment's length is an exact integer
    fraction, so no sort of the pooled sample is needed.

    Examples
    --------
    >>> wasserstein_sorted(np.array([0.0, 1.0]), np.array([5.0, 6.0]))
    5.0
    """
    n, m = len(u), len(v)
    if n == 0 or m == 0:
        raise DetectorInputError("Wasserstein distance needs at least one value on each side")
    big = max(abs(float(u[0])), abs(float(u[-1])), abs(float(v[0])), abs(float(v[-1])))
    if big > _HUGE:  # a distance times a weight (up to n·m) could overflow: scale by 2^-k,
        k = math.ldexp(1.0, -math.frexp(big)[1])  # which is exact, and W_p scales with it
        return wasserstein_sorted(u * k, v * k, p) / k
    if n == m:
        diff = np.abs(u - v)
        total = float(np.sum(diff if p == 1 else diff**p)) / n
        return total if p == 1 else total ** (1.0 / p)
    i = np.arange(1, n + 1, dtype=np.int64)
    c = (i * m - 1) // n  # index into v at the u-breakpoint i/n
    w_u = np.minimum(m, i * m - c * n)
    j = np.arange(1, m + 1, dtype=np.int64)
    d = (j * n) // m  # u-breakpoints at or before j/m
    w_v = np.minimum(n, j * n - d * m)
    a = np.minimum(d, n - 1)
    du = np.abs(u - v[c])
    dv = np.abs(v - u[a])
    if p != 1:
        du, dv = du**p, dv**p
    total = (float(np.dot(w_u, du)) + float(np.dot(w_v, dv))) / (float(n) * float(m))
    return total if p == 1 else total ** (1.0 / p)


def wasserstein_1d(x: np.ndarray, y: np.ndarray, p: int = 1) -> float:
    """Exact ``W_p`` between two unsorted 1-D samples (NaN not allowed)."""
    return wasserstein_sorted(np.sort(np.asarray(x, float)), np.sort(np.asarray(y, float)), p)


def sorted_quantiles(sorted_obs: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``np.quantile(sorted_obs, levels)`` (linear interpolation) of values already sorted,
    without the partition ``np.quantile`` does again (most of a refit's time)."""
    at = levels * (len(sorted_obs) - 1)
    lo = np.floor(at).astype(np.intp)
    hi = np.minimum(lo + 1, len(sorted_obs) - 1)
    t = at - lo
    a, b = sorted_obs[lo], sorted_obs[hi]
    diff = b - a  # (numpy's lerp, to the last bit: from the nearer end)
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def clip_counts(k: np.ndarray, trim: float) -> np.ndarray:
    """How many values winsorising at ``trim`` clips at each end of samples of sizes ``k``:
    ``ceil(k·trim) - 1`` (none while ``k·trim <= 1``), which is also the 0-based position
    of the low clip value."""
    return np.maximum(np.ceil(k * trim - 1e-9), 1) - 1


def winsor_ranks(k: int, trim: float) -> tuple[int, int]:
    """0-based positions of ``k`` sorted values where winsorising at ``trim`` clips: the
    ``trim`` quantile ``x[ceil(k·trim) - 1]`` and its mirror from the top (as many values
    clipped on each side, :func:`clip_counts`)."""
    lo = int(clip_counts(np.asarray(k), trim))
    return lo, k - 1 - lo


def winsorised_cdfs(
    held: np.ndarray, k: np.ndarray, trim: float, ends: tuple[bool, bool],
    whole: bool = False,
) -> np.ndarray:
    """Samples' CDFs on a common grid of gaps, each winsorised at its own ``trim``
    quantiles at ``ends``: ``held`` has a row per sample, its values at or below each gap
    (nondecreasing), ``k`` its size. Below its low clip value a CDF is 0, from its high
    one on 1 (a row's ends only: no pass over every row's whole grid, unless ``whole``:
    one pass over the grid, quicker for short grids)."""
    cdf = held / np.maximum(k, 1)[:, None]
    if trim > 0 and whole:
        lo = clip_counts(k, trim)[:, None]
        if ends[0]:
            cdf[held <= lo] = 0.0
        if ends[1]:
            cdf[held > k[:, None] - 1 - lo] = 1.0
    elif trim > 0:
        lo = clip_counts(k, trim)
        for r in range(len(k)):
            if ends[0]:
                cdf[r, : np.searchsorted(held[r], lo[r], "right")] = 0.0
            if ends[1]:
                cdf[r, np.searchsorted(held[r], k[r] - 1 - lo[r], "right"):] = 1.0
    return cdf


def winsorize_sorted(
    sorted_obs: np.ndarray, trim: float, ends: tuple[bool, bool] = (True, True)
) -> np.ndarray:
    """``sorted_obs`` clipped to its own ``trim`` quantile and that quantile's mirror from the
    top (:func:`winsor_ranks`), at the ``ends`` (low, high) asked: its quantile function
    becomes ``clip(Q(t), lo, hi)`` — a handful of extreme values weigh no more than the
    quantile they lie beyond."""
    if trim <= 0 or len(sorted_obs) == 0 or not any(ends):
        return sorted_obs
    lo, hi = winsor_ranks(len(sorted_obs), trim)
    low = ends[0] and sorted_obs[0] < sorted_obs[lo]
    high = ends[1] and sorted_obs[-1] > sorted_obs[hi]
    if not (low or high):  # nothing beyond the clip values (or winsorised already)
        return sorted_obs
    return np.clip(sorted_obs, sorted_obs[lo] if ends[0] else None,
                   sorted_obs[hi] if ends[1] else None)


def clipped_ends(sorted_obs: np.ndarray, trim: float) -> tuple[bool, bool]:
    """The ends (low, high) of a reference that winsorising at ``trim`` clips: not one
    whose clip value is an atom holding ``trim`` of the values or more (a zero-inflated
    amount's zeros: clipping its top at 0 would hide every rare non-zero value), and
    neither when the reference has at most :data:`DISCRETE_MAX` distinct values."""
    k = len(sorted_obs)
    if trim <= 0 or k == 0 or np.count_nonzero(np.diff(sorted_obs)) + 1 <= DISCRETE_MAX:
        return False, False

    def atom(v: float) -> bool:
        count = np.searchsorted(sorted_obs, v, "right") - np.searchsorted(sorted_obs, v, "left")
        return bool(count >= trim * k)

    lo, hi = winsor_ranks(k, trim)
    return not atom(sorted_obs[lo]), not atom(sorted_obs[hi])


SPREAD_CLIP = 0.01
"""Share clipped at each end before the standard deviation that stands in for a missing
interquartile range: one sentinel (999999999 among amounts mostly zero) would otherwise
make the spread, and every change measured in it, vanish."""


def reference_ranks(knots: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each value's mid-rank among the sorted reference values ``knots``, as a share in
    [0, 1] (``transform: ranks``): ``(#below + #at or below) / 2n``, so the reference's own
    values spread evenly over (0, 1) and a tie maps to the middle of its run. Monotone: a
    sorted ``x`` stays sorted. An empty reference ranks everything ½.

    >>> reference_ranks(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 2.0, 2.5, 9.0])).tolist()
    [0.0, 0.375, 0.5, 1.0]
    """
    if len(knots) == 0:
        return np.full(len(x), 0.5)
    below = np.searchsorted(knots, x, "left")
    upto = np.searchsorted(knots, x, "right")
    return (below + upto) / (2.0 * len(knots))


def spread(sorted_obs: np.ndarray, how: str) -> tuple[float, str]:
    """The reference spread used to normalise, with the rule actually used: the IQR; with
    none (a feature mostly one value), the standard deviation of the values clipped at
    their 1 % and 99 % quantiles (``clipped_std``); then the plain one; then 1."""
    if how == "none" or sorted_obs.size < 2:
        return 1.0, "none"
    if how == "iqr":
        q1, q3 = sorted_quantiles(sorted_obs, np.array([0.25, 0.75]))
        if q3 > q1:
            return float(q3 - q1), "iqr"
        lo, hi = sorted_quantiles(sorted_obs, np.array([SPREAD_CLIP, 1.0 - SPREAD_CLIP]))
        if hi > lo:
            return float(np.std(np.clip(sorted_obs, lo, hi))), "clipped_std"
    if sorted_obs[-1] > sorted_obs[0]:  # a constant's std is rounding (0.3: 1e-16), not 0
        return float(np.std(sorted_obs)), "std"
    return 1.0, "none"


_SHAPE_LEVELS = np.linspace(0.05, 0.95, 19)
_SHAPE_MIN = 50  # a smaller reference's shape is too noisy to compare (and its null cheap)


@dataclass(frozen=True, kw_only=True)
class FittedEMD(FittedBase):
    """Sorted observed reference values, their missing count and the spread."""

    ref_sorted: np.ndarray
    ref_missing: int
    scale: float
    scale_rule: str
    trim: float = 0.0
    """Each side is winsorised at its own ``trim`` quantile and its mirror first."""
    ends: tuple[bool, bool] = (True, True)
    """Which ends (low, high) are winsorised (:func:`clipped_ends` of the reference)."""
    knots: np.ndarray | None = None
    """With ``transform: ranks``, the reference's sorted values: every value is scored as
    its rank among them (:func:`reference_ranks`), ``ref_sorted`` holding the reference's
    own ranks."""

    def _prepare(self, current: Any) -> tuple[np.ndarray, int]:
        x = as_numeric(current, "current window")
        if x.size == 0:
            raise DetectorInputError("current window is empty; need at least one value")
        nan = np.isnan(x)
        obs = np.sort(x[~nan])
        return (obs if self.knots is None else reference_ranks(self.knots, obs)), int(nan.sum())

    def _size(self, prepared: tuple[np.ndarray, int]) -> int:
        return len(prepared[0]) + prepared[1]

    def _reference_size(self) -> int:
        return len(self.ref_sorted) + self.ref_missing

    def _between(
        self, a: np.ndarray, a_miss: int, b: np.ndarray, b_miss: int
    ) -> tuple[float, float, float]:
        rate_a = a_miss / (len(a) + a_miss)
        rate_b = b_miss / (len(b) + b_miss)
        a, b = winsorize_sorted(a, self.trim, self.ends), winsorize_sorted(b, self.trim, self.ends)
        w = wasserstein_sorted(a, b) if len(a) and len(b) else 0.0
        dm = abs(rate_a - rate_b)
        return w / self.scale + dm, w, dm

    def _statistic(self, prepared: tuple[np.ndarray, int]) -> tuple[float, dict[str, Any]]:
        cur, miss = prepared
        stat, w, dm = self._between(self._ref_winsorised, self.ref_missing, cur, miss)
        return stat, {
            "wasserstein": w,
            "scale": self.scale,
            "scale_rule": self.scale_rule,
            **({"transform": "ranks"} if self.knots is not None else {}),
            "missing_rate_change": dm,
            "n_reference": self._reference_size(),
            "n_current": len(cur) + miss,
        }

    def _null_exponent(self) -> float | None:
        return 0.5  # a distance: its null shrinks as 1/sqrt(size)

    def null_signature(self) -> np.ndarray | None:
        """The reference's shape: 19 quantiles from the median in tenths of its own
        spread (the tolerance: a tenth of the spread; the sampling noise of a reference of
        20,000 is a third of it), the missing rate's standard deviation, and — what the
        null's size is proportional to, tails included — ``∫√(F(1−F)) dx`` over the
        normalising scale, as a log in halves (2 %: a few outliers far out move it)."""
        obs = self.ref_sorted
        if len(obs) < _SHAPE_MIN:
            return None
        at = sorted_quantiles(obs, _SHAPE_LEVELS)  # (the median is the 10th)
        own = spread(obs, "iqr")[0]
        rate = self.ref_missing / self._reference_size()
        cdf = self._own_cdf()
        width = float(np.diff(obs) @ np.sqrt(cdf * (1.0 - cdf)))
        if not np.isfinite(width) or width <= 0:
            return None
        return np.concatenate([(at - at[9]) / (10.0 * own),
                               [np.sqrt(rate * (1.0 - rate)),
                                0.5 * np.log(width / self.scale),
                                100.0 * self.trim * self.ends[0],
                                100.0 * self.trim * self.ends[1]]])

    @cached_property
    def _ref_winsorised(self) -> np.ndarray:
        """The reference as every score compares it (winsorised once, not per window)."""
        return winsorize_sorted(self.ref_sorted, self.trim, self.ends)

    def _own_cdf(self) -> np.ndarray:
        """The reference's (winsorised) CDF on each gap between its sorted values."""
        n_obs = len(self.ref_sorted)
        own = np.arange(1, n_obs) / n_obs
        if self.trim > 0:
            lo, hi = winsor_ranks(n_obs, self.trim)
            if self.ends[0]:
                own[:lo] = 0.0
            if self.ends[1]:
                own[hi:] = 1.0
        return own

    def _null_serves(self, drawn: int, size: int) -> bool:
        """Winsorising clips ``ceil(k·trim) - 1`` values, a step in the size: a null
        drawn where one value fewer was clipped is no rescaling of this size's while few
        are (lognormal σ = 2, the 99 % quantile of the fewer-clipped null over the other's:
        2.25 at 0 against 1 clipped value, 1.31 at 1/2, 1.10 at 9/10, 1.05 at 14/15, 1.04 at
        19/20, within the Monte Carlo error of 200 resamples); from :data:`SHARED_CLIPS`
        clipped values on both, a null serves as untrimmed ones do."""
        if self.trim <= 0 or not any(self.ends):
            return True
        a, b = winsor_ranks(drawn, self.trim)[0], winsor_ranks(size, self.trim)[0]
        return a == b or min(a, b) >= SHARED_CLIPS

    def _resample(self, rng: np.random.Generator, m: int) -> tuple[np.ndarray, int]:
        n_obs = len(self.ref_sorted)
        miss = int(rng.binomial(m, self.ref_missing / self._reference_size()))
        k = m - miss
        if n_obs == 0 or k == 0:
            return np.empty(0), m if n_obs == 0 else miss
        # a sorted bootstrap sample without sorting: counts per reference position
        counts = np.bincount(rng.integers(0, n_obs, k), minlength=n_obs)
        return np.repeat(self.ref_sorted, counts), miss

    def _boot_statistic(self, rng: np.random.Generator, m: int) -> float:
        return float(self._boot_statistics(rng, m, 1)[0])

    def _boot_statistics(self, rng: np.random.Generator, m: int, n_boot: int) -> np.ndarray:
        """Fast path: a resample is counts over reference points, so ``∫|F_n - F*|`` is one
        pass over the reference gaps (O(n), no sort), for a batch of resamples at once; a
        resample much smaller than the reference is one pass over its own sorted draws
        instead (:meth:`_draws_statistics`, the same statistics of the same draws)."""
        n_obs, total = len(self.ref_sorted), self._reference_size()
        rate = self.ref_missing / total
        if n_obs < 2:
            miss = rng.binomial(m, rate, size=n_boot)
            return np.abs(rate - miss / m)
        gaps = np.diff(self.ref_sorted)
        own = self._own_cdf()
        batch = max(1, 2**17 // n_obs)  # small blocks stay in cache
        sparse = m * SPARSE_BELOW < n_obs
        out: list[np.ndarray] = []
        held: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        drawn = 0  # draws held, scored together once they reach DRAWS_BLOCK

        def score_held() -> None:
            draws, k, miss = (np.concatenate([h[j] for h in held]) for j in range(3))
            out.append(self._draws_statistics(draws, k, miss, m))
            held.clear()

        for start in range(0, n_boot, batch):
            b = min(batch, n_boot - start)
            miss = rng.binomial(m, rate, size=b)
            k = m - miss
            draws = rng.integers(0, n_obs, int(k.sum()))
            if sparse:  # (drawn in the same order as the counts' blocks: the same null)
                held.append((draws, k, miss))
                drawn += len(draws)
                if drawn >= DRAWS_BLOCK:
                    score_held()
                    drawn = 0
                continue
            idx = draws + np.repeat(np.arange(b) * n_obs, k)
            counts = np.bincount(idx, minlength=b * n_obs).reshape(b, n_obs)
            out.append(self._counts_statistics(counts, miss, m, own, gaps))
        if held:
            score_held()
        return np.concatenate(out)

    @cached_property
    def _own_sums(self) -> np.ndarray:
        """``H[i] = Σ_{t<i} own_t·gap_t``, ``own`` the reference's own (winsorised) CDF on
        each gap: 0 below the low clip rank, and above the high one built from the values
        themselves, so a value far out (1e15 among thousands) costs no precision in the
        runs that do not cross it (a run's width is read off the sorted values alike)."""
        x = self.ref_sorted
        H = np.concatenate([np.zeros(1), np.cumsum(self._own_cdf() * np.diff(x))])
        if self.trim > 0 and self.ends[1]:
            hi = winsor_ranks(len(x), self.trim)[1]
            H[hi + 1:] = H[hi] + (x[hi + 1:] - x[hi])
        return H

    def _draws_statistics(
        self, draws: np.ndarray, k: np.ndarray, miss: np.ndarray, m: int
    ) -> np.ndarray:
        """What :meth:`_counts_statistics` gives for resamples drawn as reference
        positions (``draws``: ``k[r]`` of them for resample ``r``, rows one after the
        other), in O(draws) rather than O(resamples × reference): between two consecutive
        sorted draws a resample's CDF is one value ``c``, the reference's own CDF rises
        and crosses it once, so ``∫|F - c|`` over those gaps is read off the sorted values
        and the prefix sums :attr:`_own_sums` at three points."""
        n_obs = len(self.ref_sorted)
        G, H = self.ref_sorted, self._own_sums
        b = len(k)
        ends = np.cumsum(k)
        starts = ends - k
        wide = b * n_obs >= 2**31  # (int32 sorts twice as fast)
        rows: np.ndarray = np.arange(b, dtype=np.int64 if wide else np.int32)
        off = np.repeat(rows, k) * n_obs
        at = (np.sort(draws.astype(off.dtype) + off) - off).astype(np.intp)  # sorted, per resample
        c = (np.arange(1, len(at) + 1) - np.repeat(starts, k)) / np.repeat(k, k)
        if self.trim > 0:  # each resample winsorised at its own clip values
            for s, e, lo in zip(starts.tolist(), ends.tolist(),
                                clip_counts(k, self.trim).astype(int).tolist(), strict=True):
                if self.ends[0]:
                    c[s:s + lo] = 0.0  # at or below its low clip value
                if self.ends[1]:
                    c[max(s, e - 1 - lo):e] = 1.0  # above its high one
        full = k > 0
        last = ends[full] - 1  # a resample's last draw: its segment runs to the last gap
        nxt = np.empty_like(at)
        nxt[:-1] = at[1:]
        nxt[last] = n_obs - 1
        first = at[starts[full]]  # below a resample's first draw its CDF is 0
        # where the reference's CDF (i+1)/n_obs on gap i, clipped as _own_cdf clips it,
        # reaches c (a gap where the two are equal adds 0 on either side)
        cross = np.ceil(c * n_obs) - 1
        if self.trim > 0:  # where both CDFs are clipped to 0, or both to 1, the gaps add
            # nothing: a run stops at the clip rank (no far-out gap is read at all)
            r_lo, r_hi = winsor_ranks(n_obs, self.trim)
            if self.ends[0]:
                np.maximum(cross, r_lo, out=cross)
                low = c == 0.0
                at[low], nxt[low] = np.maximum(at[low], r_lo), np.maximum(nxt[low], r_lo)
            if self.ends[1]:
                np.minimum(cross, r_hi, out=cross)
                high = c == 1.0
                at[high], nxt[high] = np.minimum(at[high], r_hi), np.minimum(nxt[high], r_hi)
        q = np.clip(cross.astype(np.intp), at, nxt)
        g_q, h_q = G[q], H[q]
        seg = c * ((g_q - G[at]) - (G[nxt] - g_q)) + (H[nxt] - h_q) - (h_q - H[at])
        w = np.bincount(np.repeat(np.arange(b), k), seg, minlength=b).astype(float)
        w[full] += H[first]
        rate = self.ref_missing / self._reference_size()
        return np.asarray(np.where(full, w / self.scale, 0.0) + np.abs(rate - miss / m))

    def _counts_statistics(
        self, counts: np.ndarray, miss: np.ndarray, m: int, own: np.ndarray, gaps: np.ndarray
    ) -> np.ndarray:
        """The statistic of each resample given as ``counts`` of draws per reference
        position (one row each; ``miss`` missing draws of ``m``), ``own``: the reference's
        CDF on its gaps (:meth:`_own_cdf`), ``gaps``: their widths."""
        k = counts.sum(axis=1)
        cum = winsorised_cdfs(np.cumsum(counts[:, :-1], axis=1), k, self.trim, self.ends)
        w = np.abs(own - cum) @ gaps
        rate = self.ref_missing / self._reference_size()
        return np.asarray(np.where(k > 0, w / self.scale, 0.0) + np.abs(rate - miss / m))

    def _window_null(self, pol: ReferenceQuantile, prepared: tuple[np.ndarray, int]
                     ) -> np.ndarray | None:
        """Below :data:`PERMUTED_BELOW` reference values: the statistics of ``n_boot``
        random splits of the reference pooled with the window."""
        if self._reference_size() >= PERMUTED_BELOW:
            return None
        return np.sort(np.maximum(self._split_statistics(prepared, pol.n_boot), 0.0))

    def _confirming_null(self, pol: ReferenceQuantile, prepared: tuple[np.ndarray, int]
                         ) -> np.ndarray | None:
        """From :data:`PERMUTED_BELOW` reference values up to :data:`CONFIRMED_UP_TO`
        pooled ones, a feature with heavy tails (:data:`HEAVY_TAILS`): the permutation
        null that judges a window the bootstrap flags (below that size, it judges every
        window)."""
        n_ref = self._reference_size()
        if n_ref < PERMUTED_BELOW or not self.heavy_tailed \
                or n_ref + self._size(prepared) > CONFIRMED_UP_TO:
            return None
        return np.sort(np.maximum(self._split_statistics(prepared, pol.n_boot), 0.0))

    @property
    def shaped_tail(self) -> bool:
        return self.heavy_tailed

    @cached_property
    def heavy_tailed(self) -> bool:
        """Whether the reference's 0.5 %-99.5 % range is over :data:`HEAVY_TAILS` times its
        interquartile range, or it has no interquartile range but more than one value (a
        feature mostly one value: zeros, and rare amounts)."""
        obs = self.ref_sorted
        if len(obs) == 0:
            return False
        q = sorted_quantiles(obs, np.array([0.005, 0.25, 0.75, 0.995]))
        iqr = q[2] - q[1]
        return bool(q[3] - q[0] > HEAVY_TAILS * iqr or (iqr == 0 and obs[-1] > obs[0]))

    def _permutation_statistics(
        self, prepared: tuple[np.ndarray, int], rng: np.random.Generator, n: int
    ) -> np.ndarray:
        return self._split_statistics(prepared, n)  # (the splits of a size are shared)

    def _split_statistics(self, prepared: tuple[np.ndarray, int], n: int) -> np.ndarray:
        """The statistics of ``n`` random splits of the reference pooled with the window
        into two sides sized like them (:func:`split_distances`), on a heavy-tailed
        feature with its extremes' sides drawn afresh for the window (:func:`fresh_ends`;
        elsewhere the kept splits' luck is not the extremes', and varies with the gaps).

        A reference without observed values has no values to compare a window's with:
        its window's statistic is the missing rate's change alone, and so are its splits'
        (their distances between the window's own values were noise in the values' units:
        values in thousands appearing where none had been were not drift)."""
        cur, miss = prepared
        pooled = np.sort(np.concatenate([self.ref_sorted, cur]))
        scale = self.scale if len(self.ref_sorted) else np.inf
        n_ref, total = self._reference_size(), len(pooled) + self.ref_missing + miss
        gaps = np.diff(pooled)
        n_obs, ends = len(pooled), self.ends if self.trim > 0 else (False, False)
        k = refreshed_count(n_obs) if self.heavy_tailed else 0
        inner = gaps.copy() if k else gaps
        inner[: max(k - 1, 0)] = 0.0
        inner[n_obs - k:] = 0.0
        mark = window_hash(cur, miss)
        rng = np.random.default_rng([SPLIT_SEED, n_ref, total, mark]) if k else None
        out = []
        for kept in split_distances(n_ref, total, n_obs, n, self.trim, ends,
                                    mark % SPLIT_DRAWS, k):
            stat = kept[0] @ inner
            if rng is not None:
                low, high = fresh_ends(kept, n_obs, self.trim, ends, rng)
                stat += low @ gaps[: k - 1] + high @ gaps[n_obs - k:]
            out.append(stat / scale + kept[1])
        return np.concatenate(out)


SPLIT_SEED = 3
SPLIT_DRAWS = 4
"""Draws of splits kept per size; a window takes one by a hash of its values, so windows
of one size do not all share one draw's luck (its 99 % quantile of 200 statistics)."""
REFRESHED_ENDS = 0.1
"""Share of the pooled observed values at each end whose sides are drawn afresh for every
window of a heavy-tailed feature (:func:`fresh_ends`): there the extremes' gaps make most
of a split's statistic, so kept splits shared their luck across every window of a size (a
Pareto feature's windows of one size fell under their splits' p = 0.01 1.5 times as often
as they should at 6,000 / 500, and 0.7 times at 2,400 / 200)."""
SPLIT_BLOCK = 2**20
"""Splits are drawn in blocks of at most this many matrix elements (8 MB)."""
SPLIT_CACHE_BYTES = 64 * 2**20
"""The split matrices kept, most recently used first: a live pass scores many features
and segments, and a window size comes back (:func:`split_distances`)."""
_Splits = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_split_cache: OrderedDict[tuple[Any, ...], _Splits] = OrderedDict()
_split_lock = threading.Lock()
_split_held = 0  # bytes in _split_cache


def window_hash(values: np.ndarray, missing: int) -> int:
    """A hash (CRC-32) of a window's values' bytes and its missing count (whole numbers and
    flags spread too): which draw of splits it takes (:func:`split_draw`), and the seed of
    its refreshed ends (:func:`fresh_ends`)."""
    data = np.ascontiguousarray(values, dtype=np.float64).tobytes()
    return zlib.crc32(data, missing & 0xFFFFFFFF)


def split_draw(values: np.ndarray, missing: int) -> int:
    """Which of the :data:`SPLIT_DRAWS` draws a window takes (:func:`window_hash`)."""
    return window_hash(values, missing) % SPLIT_DRAWS


def refreshed_count(n_obs: int) -> int:
    """How many of the lowest and of the highest of ``n_obs`` pooled observed values have
    their sides drawn afresh for each window (:data:`REFRESHED_ENDS`); 0: none."""
    k = int(n_obs * REFRESHED_ENDS)
    return k if k >= 2 else 0


def fresh_ends(
    kept: _Splits, n_obs: int, trim: float, ends: tuple[bool, bool],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The kept splits with the sides of their ``k`` lowest and ``k`` highest observed
    values (:func:`refreshed_count`) turned round afresh: each split's sides over each end
    shifted cyclically by a random offset, so it keeps how many of them went to each side
    and stays a uniformly random split, but no longer shares its extremes' sides with every
    window of its size. Gives ``|F_a - F_b|`` on the ``k - 1`` gaps within each end, as
    :func:`split_distances` gives them on the rest."""
    _, _, ka, low_cum, high_cum = kept
    k = low_cum.shape[1] // 2
    kb = n_obs - ka
    rows = np.arange(len(ka))
    out = []
    for cum, before, held in ((low_cum, 0, np.arange(1, k)),
                              (high_cum, ka - high_cum[:, k], np.arange(n_obs - k + 1, n_obs))):
        shift = rng.integers(0, k, size=len(ka))
        # the end's values up to each gap, counted from the offset (running on round the end)
        held_a = sliding_window_view(cum[:, 1:], k - 1, axis=1)[rows, shift]
        held_a = held_a - (cum[rows, shift] - np.asarray(before))[:, None]
        d = np.abs(winsorised_cdfs(held_a, ka, trim, ends, whole=True)
                   - winsorised_cdfs(held - held_a, kb, trim, ends, whole=True))
        d[(ka == 0) | (kb == 0)] = 0.0
        out.append(d)
    return out[0], out[1]


def split_distances(
    n_ref: int, total: int, n_obs: int, n: int, trim: float, ends: tuple[bool, bool],
    draw: int = 0, ends_kept: int = 0,
) -> Iterator[_Splits]:
    """``n`` random splits of ``total`` pooled values into ``n_ref`` and the rest, as what
    each split's statistic is made of, in blocks: ``|F_a - F_b|`` of the two sides' CDFs
    (each winsorised at its own ``trim`` quantiles at ``ends``) on each gap between the
    ``n_obs`` observed pooled values in sorted order (a row per split; a split leaving a
    side no observed value is a row of zeros), and the two sides' missing-rate difference.
    The statistic of a split is ``row @ gaps / scale + missing``. Each block also holds,
    per split, its reference side's observed count and running counts of that side over
    the ``ends_kept`` lowest and highest observed values, which :func:`fresh_ends` turns
    round (none by default).

    The splits depend on the sizes only, never on the values: :data:`SPLIT_DRAWS` draws
    per ``(n_ref, total)``, seeded by them and ``draw``, each shared by every feature and
    window that takes it (:func:`split_draw`); their matrices are kept within
    :data:`SPLIT_CACHE_BYTES` (least recently used dropped first) unless one would take a
    quarter of it, and are yielded one block at a time.
    """
    block = max(1, SPLIT_BLOCK // max(total, 1))
    keep = 8 * n * max(n_obs - 1, 0) <= SPLIT_CACHE_BYTES // 4
    for start in range(0, n, block):  # (one block at a time: memory stays a block's)
        yield _split_block(n_ref, total, n_obs, draw, start, min(start + block, n), trim,
                           ends, keep, ends_kept)


def _split_block(
    n_ref: int, total: int, n_obs: int, draw: int, start: int, stop: int, trim: float,
    ends: tuple[bool, bool], keep: bool, k: int = 0,
) -> _Splits:
    """Splits ``start`` to ``stop`` of :func:`split_distances`, from the cache or drawn."""
    key = (n_ref, total, n_obs, draw, start, stop, trim, ends, k)
    with _split_lock:
        if key in _split_cache:
            _split_cache.move_to_end(key)
            return _split_cache[key]
    rng = np.random.default_rng([SPLIT_SEED, n_ref, total, draw, start])
    base = np.arange(total) < n_ref  # True: to the reference side
    labels = rng.permuted(np.tile(base, (stop - start, 1)), axis=1)
    obs = labels[:, :n_obs]
    held_a = np.cumsum(obs[:, :-1], axis=1, dtype=np.int32)
    held_b = np.arange(1, n_obs, dtype=np.int32) - held_a
    ka = obs.sum(axis=1)
    kb = n_obs - ka
    dist = np.abs(winsorised_cdfs(held_a, ka, trim, ends) - winsorised_cdfs(held_b, kb, trim, ends))
    dist[(ka == 0) | (kb == 0)] = 0.0
    miss_a = n_ref - ka
    miss_b = (total - n_obs) - miss_a
    missing = np.abs(miss_a / n_ref - miss_b / (total - n_ref))
    made = (dist, missing, ka.astype(np.int32), _running_twice(obs[:, :k]),
            _running_twice(obs[:, n_obs - k:]))
    for a in made:
        a.flags.writeable = False
    if keep:
        global _split_held
        with _split_lock:
            if key not in _split_cache:  # (another thread may have drawn it meanwhile)
                _split_cache[key] = made
                _split_held += _held_bytes(made)
            while _split_held > SPLIT_CACHE_BYTES and len(_split_cache) > 1:
                _split_held -= _held_bytes(_split_cache.popitem(last=False)[1])
    return made


def _running_twice(labels: np.ndarray) -> np.ndarray:
    """Running counts of ``labels`` (a row per split) from a leading 0, on round them a
    second time: column ``j`` counts the first ``j`` of the row repeated twice, so the
    ``k - 1`` counts from any offset below ``k`` are one contiguous slice."""
    twice = np.concatenate([labels, labels[:, :-1]], axis=1) if labels.shape[1] else labels
    zero = np.zeros((len(labels), 1), dtype=np.int32)
    return np.concatenate([zero, np.cumsum(twice, axis=1, dtype=np.int32)], axis=1)


def clear_split_cache() -> None:
    """Drop every kept split matrix."""
    global _split_held
    with _split_lock:
        _split_cache.clear()
        _split_held = 0


def _held_bytes(entry: _Splits) -> int:
    """What a cached block holds (its arrays and their headers)."""
    return sum(a.nbytes for a in entry) + 128 * len(entry)


class EMD:
    """Exact 1-D Wasserstein-1 distance ÷ reference spread (+ missing-rate change).

    Parameters
    ----------
    policy : ThresholdPolicy, optional
        Default ``ReferenceQuantile(q=0.99)``.
    normalise : {"iqr", "std", "none"}
        Spread used to make one threshold work across features; ``iqr`` falls back
        to ``std``, then to 1, when the reference has no spread.
    trim : float
        Share of each side's values winsorised at each end before the distance (0 to
        0.1; default 0.01; 0: the plain ``W1``). A reference of at most
        :data:`DISCRETE_MAX` distinct values is not winsorised.
    transform : {"none", "ranks"}
        ``ranks``: both sides' values are replaced by their ranks among the reference's
        (:func:`reference_ranks`) before the distance, which then measures how far values
        moved in the reference's quantiles, whatever its tails (ranks are bounded: not
        winsorised). It sees a shift of a heavy-tailed feature's bulk — a lognormal
        (σ = 2) median ×1.65 — that its tails' noise hides from the plain distance, and
        misses a change of its top few percent that the plain distance weighs by size
        (BENCHMARKS.md, "Heavy-tailed features: values or ranks").

    Examples
    --------
    >>> import numpy as np
    >>> from driftscope.detectors.significance import Constant
    >>> ref = np.arange(10.0)
    >>> fitted = EMD(Constant(0.1), normalise="none").fit(ref, rng=np.random.default_rng(0))
    >>> fitted.score(ref + 2.0).statistic
    2.0
    """

    name: ClassVar[str] = "emd"
    input_kind: ClassVar[str] = "numeric"

    def __init__(
        self, policy: ThresholdPolicy | None = None, *, normalise: str = "iqr",
        trim: float = DEFAULT_TRIM, transform: str = "none",
    ) -> None:
        self.policy = check_policy(policy or ReferenceQuantile(), self.name)
        if normalise not in _SCALES:
            raise ConfigError(f"normalise must be one of {_SCALES}, got {normalise!r}")
        if isinstance(trim, bool) or not isinstance(trim, int | float) or not 0 <= trim <= 0.1:
            raise ConfigError(f"trim must be a number in [0, 0.1], got {trim!r}")
        if transform not in _TRANSFORMS:
            raise ConfigError(f"transform must be one of {_TRANSFORMS}, got {transform!r}")
        self.normalise = normalise
        self.trim = float(trim)
        self.transform = transform

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedEMD:
        """Sort the reference once and fix its spread."""
        seed = draw_seed(rng)
        x = as_numeric(reference, "reference")
        if x.size == 0:
            raise DetectorInputError("reference is empty; need at least one value")
        nan = np.isnan(x)
        obs = knots = np.sort(x[~nan])
        trim = self.trim
        if self.transform == "ranks":
            obs, trim = reference_ranks(knots, knots), 0.0
        scale, rule = spread(obs, self.normalise)
        ends = clipped_ends(obs, trim)
        return FittedEMD(
            self.policy,
            seed,
            ref_sorted=obs,
            ref_missing=int(nan.sum()),
            scale=scale,
            scale_rule=rule,
            trim=trim if any(ends) else 0.0,
            ends=ends,
            knots=knots if self.transform == "ranks" else None,
        )

    def __repr__(self) -> str:
        return params_repr(self, {"policy": self.policy, "normalise": self.normalise,
                                  "trim": self.trim, "transform": self.transform})
