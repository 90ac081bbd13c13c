"""L-inf, L1 and 1-D EMD from whylogs profiles, with an error bound from the sketches.

A model logged in profile mode keeps no raw rows; these functions compute drift from the
sketches alone. They take the sketch objects (duck-typed: a KLL ``kll_doubles_sketch``
with ``get_cdf``/``get_quantiles``/``get_n``/``get_min_value``/``get_max_value``/
``normalized_rank_error``, or a ``frequent_strings_sketch`` with ``get_frequent_items``/
``get_estimate``/``get_lower_bound``/``get_upper_bound``/``get_total_weight``) and the
missing counts from whylogs' ``counts`` metric; nothing here imports whylogs.

Every result is a :class:`ProfileEstimate` with ``value`` and ``error_bound``: the exact
value on the same data lies within ``value ± error_bound`` (KLL: with the 99 % confidence
DataSketches documents for CDF queries, ``normalized_rank_error(True)`` per query;
frequent items: a deterministic bound). The computation is a pure function of the
sketches, so the same profiles always give the same value.

Examples
--------
>>> est = ProfileEstimate(value=0.12, error_bound=0.01)
>>> est.score(threshold=0.1).drifted, est.surely_drifted(0.1)
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from driftscope.errors import DetectorInputError
from driftscope.types import Score

from .binning import edges_from_quantiles

GRID = 2048


@dataclass(frozen=True, slots=True)
class ProfileEstimate:
    """A drift statistic computed from sketches, and the bound on its error."""

    value: float
    error_bound: float
    details: Mapping[str, Any] = field(default_factory=dict)

    def score(self, threshold: float) -> Score:
        """A Score with a constant threshold; the bound travels in ``details``."""
        return Score(
            self.value,
            threshold,
            "constant",
            details={**self.details, "error_bound": self.error_bound},
        )

    def surely_drifted(self, threshold: float) -> bool:
        """Drifted even at the low end of the error bound."""
        return self.value - self.error_bound > threshold


def column_sketches(column_view: Any) -> dict[str, Any]:
    """Pull the sketches and missing count out of a whylogs ``ColumnProfileView``."""
    out: dict[str, Any] = {"kll": None, "frequent": None, "missing": 0}
    counts = column_view.get_metric("counts")
    n_total = int(counts.n.value) if counts is not None else 0
    n_null = int(counts.null.value) if counts is not None else 0
    dist = column_view.get_metric("distribution")
    if dist is not None and not dist.kll.value.is_empty():
        out["kll"] = dist.kll.value
        out["missing"] = n_total - int(dist.kll.value.get_n())
    else:
        out["missing"] = n_null
    freq = column_view.get_metric("frequent_items")
    if freq is not None:
        out["frequent"] = freq.frequent_strings.value
    return out


# ------------------------------------------------------------------ numeric (KLL)


def _check(kll: Any, what: str) -> None:
    if kll is None or kll.is_empty():
        raise DetectorInputError(f"{what} profile has no numeric values (empty KLL sketch)")


def _eps(kll: Any) -> float:
    return float(kll.normalized_rank_error(True))


def profile_edges(ref: Any, n_bins: int = 10) -> np.ndarray:
    """Quantile bin edges from the reference sketch (as :func:`binning.quantile_edges`)."""
    _check(ref, "reference")
    inner = ref.get_quantiles(list(np.arange(1, n_bins) / n_bins))
    lo, hi = float(ref.get_min_value()), float(ref.get_max_value())
    return edges_from_quantiles(lo, inner, hi)


def _bin_probs(kll: Any, missing: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin probabilities (under, inner…, over, missing) and a bound per bin."""
    n_obs = int(kll.get_n())
    total = n_obs + missing
    f = np.asarray(kll.get_cdf(list(edges), False)[:-1], dtype=float)  # F(e-), exclusive
    cdf = np.concatenate([[0.0], f, [1.0]])
    probs = np.diff(cdf) * n_obs / total
    eps = _eps(kll) * n_obs / total
    err = np.full(len(probs), 2 * eps)
    err[0] = err[-1] = eps
    if float(kll.get_min_value()) >= edges[0]:
        probs[0], err[0] = 0.0, 0.0  # nothing below the sketch's exact minimum
    if float(kll.get_max_value()) < edges[-1]:
        probs[-1], err[-1] = 0.0, 0.0  # nothing above its exact maximum
    return np.append(probs, missing / total), np.append(err, 0.0)


def numeric_bins(
    ref: Any, cur: Any, ref_missing: int = 0, cur_missing: int = 0, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges, both bin-probability vectors and their per-bin error bounds."""
    _check(cur, "current")
    edges = profile_edges(ref, n_bins)
    p, ep = _bin_probs(ref, ref_missing, edges)
    q, eq = _bin_probs(cur, cur_missing, edges)
    return edges, p, q, ep, eq


def linf_numeric(
    ref: Any, cur: Any, ref_missing: int = 0, cur_missing: int = 0, n_bins: int = 10
) -> ProfileEstimate:
    """L-inf between reference-quantile histograms read from two KLL sketches."""
    edges, p, q, ep, eq = numeric_bins(ref, cur, ref_missing, cur_missing, n_bins)
    return ProfileEstimate(
        float(np.max(np.abs(p - q))), float(np.max(ep + eq)), {"edges": edges.tolist()}
    )


def l1_numeric(
    ref: Any, cur: Any, ref_missing: int = 0, cur_missing: int = 0, n_bins: int = 10
) -> ProfileEstimate:
    """L1 between reference-quantile histograms read from two KLL sketches."""
    edges, p, q, ep, eq = numeric_bins(ref, cur, ref_missing, cur_missing, n_bins)
    return ProfileEstimate(
        float(np.sum(np.abs(p - q))), float(np.sum(ep + eq)), {"edges": edges.tolist()}
    )


def _profile_scale(ref: Any) -> tuple[float, str]:
    q1, q3 = ref.get_quantiles([0.25, 0.75])
    if q3 > q1:
        return float(q3 - q1), "iqr"
    span = float(ref.get_max_value() - ref.get_min_value())
    return (span, "range") if span > 0 else (1.0, "none")


def emd_numeric(
    ref: Any,
    cur: Any,
    ref_missing: int = 0,
    cur_missing: int = 0,
    *,
    normalise: bool = True,
    grid: int = GRID,
) -> ProfileEstimate:
    """1-D EMD from two KLL sketches, ÷ the reference IQR, + the missing-rate change
    (the plain distance: not winsorised like the ``emd`` detector's default).

    ``∫|F - G|`` is integrated on the union of both sketches' quantiles at ``grid``
    ranks. The bound adds the rank error over the value range and the largest change of
    either CDF inside each grid cell (both computed from the sketches).
    """
    _check(ref, "reference")
    _check(cur, "current")
    ranks = list(np.linspace(0.0, 1.0, grid + 1))
    pts = np.unique(np.concatenate([ref.get_quantiles(ranks), cur.get_quantiles(ranks)]))
    f = np.asarray(ref.get_cdf(list(pts), True)[:-1], dtype=float)  # F(t), inclusive
    g = np.asarray(cur.get_cdf(list(pts), True)[:-1], dtype=float)
    dt = np.diff(pts)
    w = float(np.sum(dt * np.abs(f - g)[:-1]))
    cell = float(np.sum(dt * (np.diff(f) + np.diff(g))))
    span = float(pts[-1] - pts[0]) if len(pts) > 1 else 0.0
    bound = cell + (_eps(ref) + _eps(cur)) * span
    scale, rule = _profile_scale(ref) if normalise else (1.0, "none")
    n_r, n_c = int(ref.get_n()) + ref_missing, int(cur.get_n()) + cur_missing
    dm = abs(ref_missing / n_r - cur_missing / n_c)
    return ProfileEstimate(
        w / scale + dm,
        bound / scale,
        {
            "wasserstein": w,
            "scale": scale,
            "scale_rule": rule,
            "missing_rate_change": dm,
        },
    )


# ---------------------------------------------------------- categorical (frequent items)


def _freq_vector(fs: Any, cats: list[str], missing: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (categories…, unseen, missing) and deterministic bounds per bin."""
    total_obs = int(fs.get_total_weight())
    total = total_obs + missing
    if total == 0:
        raise DetectorInputError("profile has no values")
    est = np.array([fs.get_estimate(c) for c in cats], dtype=float)
    lo = np.array([fs.get_lower_bound(c) for c in cats], dtype=float)
    hi = np.array([fs.get_upper_bound(c) for c in cats], dtype=float)
    err = np.maximum(est - lo, hi - est)
    other = max(total_obs - float(est.sum()), 0.0)
    probs = np.concatenate([est, [other, missing]]) / total
    errs = np.concatenate([err, [float(err.sum()), 0.0]]) / total
    return probs, errs


def categorical_bins(
    ref: Any, cur: Any, ref_missing: int = 0, cur_missing: int = 0
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reference frequent items as categories; both vectors and their bounds."""
    from_ref = ref.get_frequent_items(no_false_negatives(ref))
    cats = sorted(str(item[0]) for item in from_ref)
    p, ep = _freq_vector(ref, cats, ref_missing)
    q, eq = _freq_vector(cur, cats, cur_missing)
    return cats, p, q, ep, eq


def no_false_negatives(fs: Any) -> Any:
    import importlib

    module = importlib.import_module(type(fs).__module__)
    return module.frequent_items_error_type.NO_FALSE_NEGATIVES


def linf_categorical(
    ref: Any, cur: Any, ref_missing: int = 0, cur_missing: int = 0
) -> ProfileEstimate:
    """L-inf between category frequencies read from two frequent-items sketches."""
    cats, p, q, ep, eq = categorical_bins(ref, cur, ref_missing, cur_missing)
    return ProfileEstimate(
        float(np.max(np.abs(p - q))), float(np.max(ep + eq)), {"categories": cats}
    )


def l1_categorical(
    ref: Any, cur: Any, ref_missing: int = 0, cur_missing: int = 0
) -> ProfileEstimate:
    """L1 between category frequencies read from two frequent-items sketches."""
    cats, p, q, ep, eq = categorical_bins(ref, cur, ref_missing, cur_missing)
    return ProfileEstimate(
        float(np.sum(np.abs(p - q))), float(np.sum(ep + eq)), {"categories": cats}
    )
