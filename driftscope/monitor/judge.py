"""Is it bad? Pure decisions on numbers: fixed rules, predicted ranges, anomalies, FDR.

Nothing here decides on a p-value alone: a drifted feature needs its statistic above the
detector's threshold *and* above a minimum effect, and — where p-values exist — to
survive the model-level false-discovery control across features × segments.

Examples
--------
>>> rule_breached("<", 0.85, 0.9)
True
>>> lo, hi = predicted_range([0.90, 0.91, 0.89, 0.90, 0.92, 0.90, 0.91, 0.89], k=4)
>>> lo < 0.90 < hi
True
>>> robust_z(10.0, [1, 1.1, 0.9, 1.0, 1.05, 0.95]) > 6
True
>>> from driftscope.types import Score
>>> s = [Score(0.3, 0.1, "reference-quantile", 0.001), Score(0.2, 0.1, "reference-quantile", 0.4)]
>>> model_level(s, [0.0, 0.0], "bh", 0.01)
[True, False]
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import numpy as np

from driftscope.detectors.significance import benjamini_hochberg, bonferroni
from driftscope.types import Score

if TYPE_CHECKING:  # the pure decisions import no store code (the harness uses them)
    from driftscope.monitor.detect import Scored

T = TypeVar("T")

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
LOWER_IS_WORSE = {"accuracy", "f1", "roc_auc"}


def rule_breached(op: str, value: float, bound: float) -> bool:
    """Whether ``value op bound`` holds, i.e. the fixed rule fires."""
    return bool(np.isfinite(value)) and bool(_OPS[op](value, bound))


def spread_floor(centre: float, bounded: bool = True) -> float:
    """The least spread a band or an anomaly check holds a metric to: a thousandth of its
    level, and of 1 for a metric bounded in [0, 1] (accuracy, F1, ROC AUC). A 1e-3
    floor for an error measured in thousandths (an MAE of 0.0004) left a tenfold rise
    inside the band; the error's own scale now sets it.

    >>> spread_floor(0.9), round(spread_floor(0.0004, bounded=False), 12)
    (0.001, 4e-07)
    """
    return 1e-3 * max(abs(centre), 1.0) if bounded else max(1e-3 * abs(centre), 1e-12)


def predicted_range(history: Sequence[float], k: float, se: float = 0.0,
                    past_se: Sequence[float] | None = None, bounded: bool = True,
                    ) -> tuple[float, float]:
    """A band ``mean ± k·sd`` forecast from the metric's history (sd floored).

    ``se``: the standard error of the value judged; ``past_se``: those of the history's
    values (NaN where unknown). With them the history's spread is split into the metric's
    own variation and the sampling noise of the windows it came from, and the band is
    the first plus the judged value's noise: a window of 25 labels after windows of
    1,000 is not held to their narrow band, and windows of few labels in the history do
    not widen the band of one of 1,000. Without them the band is at least ``k·se``.

    >>> [round(x, 3) for x in predicted_range([0.9, 0.88, 0.92, 0.9], 4, se=0.06)]
    [0.66, 1.14]
    """
    h = np.asarray([x for x in history if np.isfinite(x)], dtype=float)
    if h.size == 0:
        return -np.inf, np.inf
    mu = float(h.mean())
    var = float(h.var(ddof=1)) if h.size > 1 else 0.0
    noise = _sampling_variance(history, past_se)
    sd = max(math.sqrt(var), se) if noise is None else _split(var, noise, se, h.size)
    sd = max(sd, spread_floor(mu, bounded))
    return mu - k * sd, mu + k * sd


def _sampling_variance(history: Sequence[float], past_se: Sequence[float] | None
                       ) -> float | None:
    """The mean squared standard error of the history's finite values (an unknown one
    counted as the median of the known), or None when none is known."""
    if past_se is None:
        return None
    ses = np.asarray([e for x, e in zip(history, past_se, strict=True) if np.isfinite(x)],
                     dtype=float)
    known = ses[np.isfinite(ses)]
    if known.size == 0:
        return None
    ses = np.where(np.isfinite(ses), ses, float(np.median(known)))
    return float(np.mean(ses**2))


def robust_scale(history: Sequence[float], bounded: bool = True) -> tuple[float, float]:
    """The history's median and robust spread: 1.4826·MAD; where over half the values are
    one (MAD 0: accuracy 1.0 in most windows of few labels) 1.2533·the mean absolute
    deviation (Iglewicz and Hoaglin's fallback: a scale of 1e-3 alone made a 0.99 after
    fourteen 1.0s and ten 0.97s an anomaly, z 10); floored at 1e-3·max(|median|, 1).
    ``(nan, nan)`` for an empty history.

    >>> [round(x, 4) for x in robust_scale([1.0] * 14 + [0.97] * 10)]
    [1.0, 0.0157]
    """
    h = np.asarray([x for x in history if np.isfinite(x)], dtype=float)
    if h.size == 0:
        return math.nan, math.nan
    med = float(np.median(h))
    dev = np.abs(h - med)
    scale = 1.4826 * float(np.median(dev)) or 1.2533 * float(dev.mean())
    return med, max(scale, spread_floor(med, bounded))


def robust_z(value: float, history: Sequence[float], se: float = 0.0,
             past_se: Sequence[float] | None = None, bounded: bool = True) -> float:
    """|value - median| / the robust spread (:func:`robust_scale`; with ``se`` and
    ``past_se``, split as :func:`predicted_range` splits it), an outlier score that
    ignores past outliers."""
    med, scale = robust_spread(history, se, past_se, bounded)
    if not np.isfinite(med) or not np.isfinite(value):
        return 0.0
    return abs(value - med) / scale


def robust_spread(history: Sequence[float], se: float = 0.0,
                  past_se: Sequence[float] | None = None, bounded: bool = True,
                  ) -> tuple[float, float]:
    """:func:`robust_scale`'s median and spread, the spread at least ``se`` or, knowing
    ``past_se``, its own variation plus ``se``'s (as :func:`predicted_range`)."""
    med, scale = robust_scale(history, bounded)
    if not np.isfinite(med):
        return med, scale
    noise = _sampling_variance(history, past_se)
    if noise is None:
        return med, max(scale, se)
    # (a median's variance is π/2 times a mean's: the centre is known from fewer values)
    n = int(np.sum(np.isfinite(np.asarray(history, dtype=float))))
    return med, max(_split(scale**2, noise, se, round(n * 2 / math.pi)),
                    spread_floor(med, bounded))


def _split(var: float, noise: float, se: float, h: int) -> float:
    """The spread of a value of standard error ``se`` about the mean of ``h`` past values
    of variance ``var``, whose windows' sampling variance was ``noise``: the metric's own
    variation (``var - noise``, at least 0), the value's noise, and the uncertainty of
    the mean itself (each past value's variance over ``h``). Windows of like size give
    back about ``var``; a history of few-label windows that happened to agree (all 1.0)
    no longer leaves a spread of nothing around a mean it cannot know that well."""
    own = max(var - noise, 0.0)
    return math.sqrt(own + se**2 + (own + noise) / max(h, 1))


class Past(NamedTuple):
    """A past value of a performance metric: its standard error (NaN where unknown), its
    window's start (None where unknown) and whether it was judged bad."""

    value: float
    se: float = math.nan
    start: datetime | None = None
    bad: bool = False


QUARANTINE = 2
"""Judged windows after a bad one that stay out of the history however they measure: a
lasting fall whose first windows landed just inside the band joined it, widened it and
lowered it (an accuracy of 0.90 that fell to 0.78 and stayed there was "recovered" 22
windows later and never flagged again)."""

HOLD = 0.5
"""While an incident lasts — the last two judged windows bad — the band's ``k`` and the
anomaly's ``z`` are this share of theirs: it ends when the metric is back near its
normal, not at the first window that slips inside the band's edge. A single bad window
(a chance one) narrows nothing: with ``k`` 2.5 and ``z`` 3 narrowing after any bad window
turned chance flags into runs, 8 alerts in 5,000 steady windows where there were none."""


def usable(past: Sequence[Past]) -> list[Past]:
    """The values a band may learn from (oldest first): good, and not within
    :data:`QUARANTINE` judged windows after a bad one."""
    return [p for i, p in enumerate(past)
            if not p.bad and not any(q.bad for q in past[max(0, i - QUARANTINE):i])]


def held(past: Sequence[Past]) -> bool:
    """Whether an incident lasts: the last two judged windows were bad (:data:`HOLD`)."""
    return len(past) >= 2 and past[-1].bad and past[-2].bad


def same_phase(past: Sequence[Past], start: datetime | None, period: timedelta | None,
               period_windows: int) -> list[Past]:
    """The values of the same phase as the window at ``start`` (newest first): those whose
    window began a whole number of ``period`` before it, where every start is known (a
    window without labels or left out no longer shifts every value before it out of
    phase: one hour a day with too few labels put the day's band on the night's values);
    else every ``period_windows``-th counting back (:func:`seasonal_history`).

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 2, tzinfo=UTC)
    >>> ps = [Past(v, start=t - timedelta(hours=h)) for v, h in ((1.0, 48), (2.0, 25), (3.0, 24))]
    >>> [p.value for p in same_phase(ps, t, timedelta(days=1), 24)]
    [3.0, 1.0]
    """
    if period_windows <= 1:
        return list(past)[::-1]
    if start is None or period is None or any(p.start is None for p in past):
        return seasonal_history(past, period_windows)
    return [p for p in reversed(past)
            if p.start is not None and p.start < start and (start - p.start) % period
            == timedelta(0)]


def seasonal_history(history: Sequence[T], period_windows: int) -> list[T]:
    """Every ``period_windows``-th value counting back from the newest (same phase), newest
    first (``history`` is oldest first); every value when there is no period.

    >>> seasonal_history([1, 2, 3, 4, 5, 6], 2), seasonal_history([1, 2, 3], 1)
    ([5, 3, 1], [3, 2, 1])
    """
    return list(history)[::-1][period_windows - 1 :: max(period_windows, 1)]


def model_level(
    scores: Sequence[Score], min_effects: Sequence[float], method: str, alpha: float
) -> list[bool]:
    """The model-level decision per test of one window (pure; the harness measures it).

    A test counts when ``statistic > threshold`` and its effect (``details["effect"]``
    where the detector gives one — L-inf: :func:`driftscope.detectors.linf.effects` —
    else the statistic) is at least ``min_effect``, and — when it has a p-value — it is
    rejected by Benjamini–Hochberg or Bonferroni across every test of the window that has
    one (``method="none"``: no correction).
    """
    with_p = [i for i, s in enumerate(scores) if s.p_value is not None]
    rejected = np.ones(len(scores), dtype=bool)
    if with_p and method != "none":
        p = np.asarray([scores[i].p_value for i in with_p], dtype=float)
        rej = benjamini_hochberg(p, alpha) if method == "bh" else bonferroni(p, alpha)
        for i, r in zip(with_p, rej, strict=True):
            rejected[i] = bool(r)
    return [
        bool(rejected[i]) and s.drifted and float(s.details.get("effect", s.statistic)) >= floor
        for i, (s, floor) in enumerate(zip(scores, min_effects, strict=True))
    ]


def fdr_control(scored: Sequence[Scored], method: str, alpha: float) -> list[bool]:
    """Model-level decision per scored test of a window (:func:`model_level`)."""
    return model_level([s.score for s in scored], [s.min_effect for s in scored], method, alpha)


def performance_bad(metric: str, value: float, lo: float, hi: float) -> bool:
    """Outside the predicted range on the side that means worse."""
    if not np.isfinite(value):
        return False
    return value < lo if metric in LOWER_IS_WORSE else value > hi
