"""Zero-regret data-quality checks of one window against its reference.

Missing-value rate (above the reference's own rate by more than the limit), values out
of the reference's range, categories the reference never saw, a column whose kind differs
from the reference's, the event volume against its history (or none at all: a window that
passed in a silence, ``quality.silence``), and schema violations (dead letters of the model
received in the window).
Each check is a :class:`QualityResult` with its value and the limit it was held to.

Examples
--------
>>> import numpy as np
>>> ref = np.linspace(0.0, 1.0, 200)
>>> cur = np.r_[[np.nan] * 10, np.linspace(5, 6, 6), np.linspace(0.1, 0.9, 24)]
>>> [(r.metric, round(r.value, 2), r.bad) for r in column_checks("x", ref, cur, QualitySpec())]
[('missing_rate', 0.25, True), ('out_of_range', 0.2, True), ('stuck_value', 0.03, False)]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
from scipy.stats import beta, betabinom, norm

from driftscope.durations import as_utc
from driftscope.monitor.config import QualitySpec
from driftscope.monitor.frame import missing
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store


@dataclass(frozen=True)
class QualityResult:
    """One data-quality check: value, limit, verdict."""

    feature: str
    metric: str
    value: float
    limit: float
    bad: bool
    details: dict[str, Any] = field(default_factory=dict)


class Domain:
    """What a reference column holds that every window, and each of its segments, is held
    to: its present values, their range, distinct values and counts. Each is computed
    when first asked for, once per reference column and pass (each of a window's segments
    recomputed the whole reference's: a third of a live pass over 12 segments)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    @cached_property
    def missing(self) -> np.ndarray:
        return missing(self.values)

    @cached_property
    def present(self) -> np.ndarray:
        return self.values[~self.missing] if len(self.values) else self.values

    @cached_property
    def range(self) -> tuple[float, float]:
        return float(self.present.min()), float(self.present.max())

    @cached_property
    def distinct(self) -> tuple[np.ndarray, np.ndarray]:
        """The present values' distinct values, sorted, and their counts."""
        values, counts = np.unique(self.present, return_counts=True)
        return values, counts

    @cached_property
    def seen(self) -> tuple[Counter[Any], int]:
        """The present categories' counts, and how many were seen once."""
        seen = Counter(self.present.tolist())
        return seen, sum(1 for c in seen.values() if c == 1)


def _domain(values: np.ndarray | Domain) -> Domain:
    return values if isinstance(values, Domain) else Domain(values)


def column_checks(
    feature: str, ref: np.ndarray | Domain, cur: np.ndarray, spec: QualitySpec,
    domain: np.ndarray | Domain | None = None, noise: float = 0.0,
) -> list[QualityResult]:
    """Missing rate, out-of-range rate (numeric) or new-category rate (categorical).

    ``domain`` gives the reference range and categories (default ``ref``): a segment is
    held to the whole reference's domain and to its own reference missing rate. ``noise``
    standard errors of the current missing rate are added to its limit (segments use 3,
    so that a small segment does not cry wolf on sampling noise alone). Each rate's limit
    is never below what sampling alone reaches in a window of this size with nothing
    changed (:func:`_chance_rate`, details ``by_chance``): the flag means more than the
    allowance *and* not sampling noise, and ``value > limit`` is the flag.
    A segment the reference does not hold is held to the whole reference's missing rate; with no
    reference row at all (the windows an ``initial``, ``seasonal`` or ``previous``
    reference does not cover yet) nothing is checked: there is no normal to hold it to.
    """
    ref = _domain(ref)
    whole = ref if domain is None else _domain(domain)
    if len(ref.values) == 0:
        ref = whole
    if len(cur) == 0 or len(ref.values) == 0:
        return []
    out = []
    ref_miss_mask = ref.missing
    ref_miss = float(ref_miss_mask.mean())
    cur_miss_mask = missing(cur)
    cur_miss = float(cur_miss_mask.mean())
    var = max(ref_miss * (1 - ref_miss), 0.01)
    margin = noise * float(np.sqrt(var / len(cur)))
    # never within sampling noise: the largest rate that a window of this size reaches by
    # chance (exact tail, 3 sigma) with nothing changed, the reference's rate itself
    # uncertain (beta-binomial; 200 events at 30 % missing: one window in 13 was flagged on
    # the fixed allowance alone; 30 events at 1 %: 2 missing were over a normal 3-SE limit)
    n_miss = int(ref_miss_mask.sum())
    by_chance = _chance_rate(len(cur), n_miss + 0.5, len(ref.values) - n_miss + 0.5)
    limit = min(1.0, max(ref_miss + spec.missing_rate_max, by_chance) + margin)
    out.append(QualityResult(feature, "missing_rate", cur_miss, limit, cur_miss > limit,
                             {"reference_rate": ref_miss, "by_chance": round(by_chance, 6)}))
    present = cur[~cur_miss_mask]
    ref_present = whole.present
    if len(present) == 0 or len(ref_present) == 0:
        return out
    if cur.dtype.kind == "f":
        lo, hi = whole.range
        rate = float(np.mean((present < lo) | (present > hi)))
        # a new value lies beyond the range of m reference values with chance 2/(m + 1):
        # exactly, the mass beyond the range is Beta(2, m - 1) (continuous values)
        m = len(ref_present)
        expected = 2 / (m + 1)
        by_chance = _chance_rate(len(present), 2.0, max(m - 1.0, 0.5))
        limit = min(1.0, max(expected + spec.out_of_range_max, by_chance))
        out.append(QualityResult(feature, "out_of_range", rate, limit, rate > limit,
                                 {"min": lo, "max": hi, "by_chance": round(by_chance, 6)}))
        # (a segment to its own reference's share of the value, where it has one: held to
        # the whole reference's, a flat fee per country was "stuck" in every window)
        if (stuck := stuck_value(feature, ref, present, spec)) is not None:
            out.append(stuck)
    else:
        out.append(new_categories(feature, whole, present, spec))
    return out


STUCK_REFERENCE_SHARE = 0.05
"""A numeric column is checked for a stuck value only where no value holds more than this
share of the reference's present values (age, a price, a latency: not a count of
children or a 0/1 flag, whose shares are a distribution for the drift detectors)."""


def stuck_value(feature: str, ref: np.ndarray | Domain, present: np.ndarray,
                spec: QualitySpec) -> QualityResult | None:
    """The share of the window's present values equal to its most frequent value, when
    that is more than ``stuck_value_max`` above the value's share of the reference, and
    more than sampling reaches (a sensor or a default stuck at one number; before it was
    found as drift only, ``emd`` naming no value). None for a column with a value
    frequent in the reference itself (:data:`STUCK_REFERENCE_SHARE`).

    >>> ref = np.arange(1000.0)
    >>> r = stuck_value("age", ref, np.r_[np.full(30, 40.0), np.arange(70.0)], QualitySpec())
    >>> r.metric, r.value, r.bad, r.details["value"]
    ('stuck_value', 0.31, True, 40.0)
    """
    values, counts = _domain(ref).distinct
    m = int(counts.sum())
    if counts.max() > STUCK_REFERENCE_SHARE * m:
        return None
    now, now_counts = np.unique(present, return_counts=True)
    top = int(np.argmax(now_counts))
    value, share = float(now[top]), float(now_counts[top] / len(present))
    at = np.searchsorted(values, value)
    seen = int(counts[at]) if at < len(values) and values[at] == value else 0
    # the most frequent of len(now) values was picked: its tail shared among them all
    # (one of ~70 integer ages in 30 events reached 5 of them in 4 % of clean windows)
    by_chance = _chance_rate(len(present), seen + 0.5, m - seen + 0.5, _TAIL / len(now))
    limit = min(1.0, max(seen / m + spec.stuck_value_max, by_chance))
    return QualityResult(feature, "stuck_value", share, limit, share > limit,
                         {"value": value, "reference_share": round(seen / m, 6),
                          "by_chance": round(by_chance, 6)})


def new_categories(feature: str, ref: np.ndarray | Domain, present: np.ndarray,
                   spec: QualitySpec) -> QualityResult:
    """The share of ``present`` values the reference's never holds, the most frequent
    named first; its limit adds what the reference has not seen by chance, and is never
    below what a window of this size reaches by sampling alone."""
    ref = _domain(ref)
    seen, once = ref.seen
    new = Counter(v for v in present.tolist() if v not in seen)
    rate = new.total() / len(present)
    top = sorted(new, key=lambda v: (-new[v], str(v)))[:5]
    # Good-Turing: the mass of the categories a reference has not seen is about the
    # share of its values seen once (a user id: most; a country: none)
    m = len(ref.present)
    unseen = once / m
    # and never within sampling noise: that mass is uncertain (Beta, at least one value
    # in m + 1 — a reference of 2,000 misses a category of 0.2 % once in 55), so one
    # stray value in a 40-event window (0.025 > 0.02) is not a finding
    a = max(once, 1)
    by_chance = _chance_rate(len(present), float(a), float(m + 1 - a))
    limit = min(1.0, max(unseen + spec.new_categories_max, by_chance))
    return QualityResult(feature, "new_categories", rate, limit, rate > limit,
                         {"new": [str(v) for v in top], "expected": round(unseen, 6),
                          "by_chance": round(by_chance, 6)})


# one-sided 3 sigma: the chance a count beyond the limit has with nothing changed
_TAIL = 0.0013498980316301


def _chance_rate(n: int, a: float, b: float, tail: float = _TAIL) -> float:
    """The largest rate of ``n`` events that sampling alone reaches (upper tail at least
    ``tail``) when each event counts with a probability drawn from Beta(a, b): the exact
    beta-binomial tail, not a normal approximation, which is far too loose where the
    window expects less than a few events (1 % of 30: two were over its limit); where it
    expects over 500 either way, a Beta of the rate's mean and variance (within 2e-4).

    >>> _chance_rate(30, 20.5, 1980.5)  # 1 % missing in 2,000: three of 30 by chance
    0.1
    >>> round(_chance_rate(100_000, 600.5, 1400.5), 3)  # large: about 3 standard errors
    0.332
    """
    mean = n * a / (a + b)
    sd = math.sqrt(n * a * b * (a + b + n) / ((a + b) ** 2 * (a + b + 1)))
    if min(mean, n - mean) > 500:  # the exact tail of 10⁷ events took 0.7 s a check: a
        # Beta with the rate's mean and variance (the skew of a Beta(a, b) with a small
        # ``a`` does not shrink with the window as a normal law's would: 3-70× the tail)
        p = a / (a + b)
        var = p * (1 - p) * (a + b + n) / (n * (a + b + 1))
        c = p * (1 - p) / var - 1
        return min(n, math.floor(n * float(beta.isf(tail, p * c, (1 - p) * c)))) / n
    lo = int(mean)
    hi = min(n, math.ceil(mean + 20 * sd + 40))  # the mass beyond is negligible
    k = np.arange(lo, hi + 1)
    tail_mass = np.cumsum(betabinom.pmf(k, n, a, b)[::-1])[::-1]  # P(count >= k)
    beyond = np.flatnonzero(tail_mass < tail)
    top = hi if len(beyond) == 0 else max(lo + int(beyond[0]) - 1, 0)
    return top / n


def type_mismatch(feature: str, ref: np.ndarray, cur: np.ndarray) -> QualityResult:
    """A column whose values are numbers on one side and strings on the other (a dataset
    reference with integer codes, events sending them as strings): not comparable."""
    kinds = {"reference": _kind(ref), "window": _kind(cur)}
    return QualityResult(feature, "type_mismatch", 1.0, 0.0, True, kinds)


def _kind(values: np.ndarray) -> str:
    return "numeric" if values.dtype.kind == "f" else "categorical"


VOLUME_CV = 0.05
"""Day-to-day variation of a window's traffic a seasonal expectation allows beside Poisson
noise (one standard deviation, as a share of it): a pure Poisson z flagged a busy hour
6 % off yesterday's at 10,000 events, and 20 % off at 1,000 (a Saturday against a
Friday). Now a change past about 30 % of a large window's traffic is flagged at
``volume_z`` 6; an outage still is at once."""


def _phase_z(n: int, expected: float) -> float:
    """A count against a same-phase expectation: Poisson z widened by :data:`VOLUME_CV`."""
    return abs(n - expected) / max(float(np.sqrt(expected + (VOLUME_CV * expected) ** 2)), 1.0)


def volume_check(
    n_cur: int, history: Sequence[int], expected: float | None, spec: QualitySpec,
    min_history: int = 8, earlier: Mapping[str, int] | None = None,
) -> QualityResult | None:
    """Event count against a seasonal expectation (Poisson z, widened by
    :data:`VOLUME_CV` of it) or the history (robust z).

    ``earlier``: the counts of the same window one day and one week before (by period,
    ``1d``/``1w``; :meth:`driftscope.monitor.scheduler.Monitor._earlier`). Where there is
    one, the count is held to the one it is closest to, as to a seasonal expectation: a
    night like the night before, a weekend day like the one a week before, is the
    traffic's cycle; an outage is unlike both. Before, the history alone judged it:
    daily windows of 400 events on weekends against 1,000 on weekdays were flagged on
    every weekend day, for good (a fall is kept out of the history, so the weekends were
    never learnt), and hourly windows of 500 events by day and 100 by night made its
    spread so wide that a 30-hour outage of 5 events an hour was flagged in none of its
    windows, while each morning's rise was (41 healthy windows in a week)."""
    if expected is not None and expected > 0:
        z = _phase_z(n_cur, expected)
        return QualityResult("*", "volume", float(z), spec.volume_z, z > spec.volume_z,
                             {"n": n_cur, "expected": expected})
    if len(history) < min_history:  # (a model's first windows: nothing is normal yet)
        return None
    seen = {period: n for period, n in (earlier or {}).items() if n > 0}
    if seen:
        period = min(seen, key=lambda p: _phase_z(n_cur, seen[p]))
        z = _phase_z(n_cur, seen[period])
        return QualityResult("*", "volume", float(z), spec.volume_z, z > spec.volume_z,
                             {"n": n_cur, "expected": float(seen[period]), "period": period})
    med = float(np.median(history))
    mad = 1.4826 * float(np.median(np.abs(np.asarray(history, dtype=float) - med)))
    z = abs(n_cur - med) / max(mad, np.sqrt(max(med, 1.0)))  # never tighter than Poisson
    return QualityResult("*", "volume", float(z), spec.volume_z, z > spec.volume_z,
                         {"n": n_cur, "median": med})


def fell(rows: Sequence[Any]) -> bool:
    """Whether a window's rows (:class:`driftscope.monitor.evaluate.Row`) hold a model
    volume found bad because it **fell** below its history or expectation: such a window
    is left out of the volume history, so an outage's few events do not become the normal
    that ends its own alert (10 events a window for 24 windows made the median 10, and the
    alert "recovered" while the traffic was still down). A rise is kept: more traffic that
    lasts (a new customer) becomes the normal, as it should."""
    for r in rows:
        if r.metric == "volume" and r.feature == "*" and r.drifted:
            level = r.details.get("median", r.details.get("expected"))
            if level is not None and r.details.get("n", level) < level:
                return True
    return False


def judged_plain(rows: Sequence[Any]) -> bool:
    """Whether a window's volume was judged with no same-phase count (its history's, or a
    seasonal reference's): a fall then may be a cycle's low seen for the first time."""
    return not any(r.metric == "volume" and r.feature == "*" and "period" in r.details
                   for r in rows)


def fallen_windows(store: Store, model_id: str, monitor: str, since: datetime,
                   until: datetime) -> set[datetime]:
    """The windows from ``since`` to ``until`` whose stored volume row is bad for a fall
    (:func:`fell`), left out of the volume history read back at a pass's start."""
    return set(fallen_judged(store, model_id, monitor, since, until))


def fallen_judged(store: Store, model_id: str, monitor: str, since: datetime,
                  until: datetime) -> dict[datetime, bool]:
    """:func:`fallen_windows`, each with whether it was judged with no same-phase count
    (:func:`judged_plain`)."""
    D = S.DRIFT_RESULTS
    rows = store.query(
        f"SELECT {D.window_start}, min(NOT JSONHas({D.details}, 'period')) FROM {D} FINAL "
        f"WHERE {D.model_id} = {{m:String}} "
        f"AND {D.monitor} = {{n:String}} AND {D.metric} = 'volume' AND {D.feature} = '*' "
        f"AND {D.drifted} = 1 AND {D.window_start} >= {{a:DateTime64(3, 'UTC')}} "
        f"AND {D.window_start} < {{b:DateTime64(3, 'UTC')}} "
        f"AND JSONExtractFloat({D.details}, 'n') < if(JSONHas({D.details}, 'median'), "
        f"JSONExtractFloat({D.details}, 'median'), JSONExtractFloat({D.details}, 'expected')) "
        f"GROUP BY {D.window_start}", {"m": model_id, "n": monitor, "a": since, "b": until})
    return {as_utc(r[0]): bool(r[1]) for r in rows}


def silence(idle: float, last_event: str) -> QualityResult:
    """A window that passed with no event because the stream stopped (``quality.silence``):
    always bad. ``idle``: seconds since anything was ingested; ``last_event``: when the
    last event happened."""
    return QualityResult("*", "volume", 0.0, math.nan, True,
                         {"n": 0, "silent_seconds": round(idle, 3), "last_event": last_event})


def segment_volume(
    key: str, ref: np.ndarray, cur: np.ndarray, spec: QualitySpec, min_events: int,
    held: Mapping[str, float] | None = None,
) -> list[QualityResult]:
    """Segment values whose traffic fell: count against the reference share.

    Values the reference holds often enough to expect ``min_events`` in this window are
    checked, absent ones included, so a segment whose traffic stops (a broken client in
    one country) is found. Only falls count, and only big ones: fewer than half the
    expected events *and* a count as unlikely as a z below ``-volume_z`` (:func:`_fall_z`:
    the reference's own sampling counted), so ordinary swings of the mix on a busy model
    stay quiet and a healthy segment is not blamed for another's loss. A window sharing no
    value with the reference (a renamed or re-encoded key) is left to the new-category
    check.

    ``held``: the values whose traffic fell in the window before, each with the share it
    was held to there (:func:`held_shares`): each is held to it again where the reference
    gives it less, until its traffic comes back. A sliding reference (``previous``) learns
    a fall: a country whose traffic stopped "recovered" once the reference had slid past
    its last events, and its alert resolved with the traffic still gone.

    >>> ref = np.array(["DE"] * 200 + ["FR"] * 800, dtype=object)
    >>> [(r.feature, r.bad) for r in segment_volume("c", ref, ref[200:], QualitySpec(), 30)]
    [('segment:c=DE', True), ('segment:c=FR', False)]
    """
    n, m = len(cur), len(ref)
    if n == 0 or m == 0:
        return []
    reference = Counter(str(v) for v in ref if v is not None)
    observed = Counter(str(v) for v in cur if v is not None)
    kept = {v: s for v, s in (held or {}).items() if s * m > reference[v]}
    if observed and not set(observed) & (set(reference) | set(kept)):
        return []
    out = []
    for v in sorted(set(reference) | set(kept)):
        share = kept.get(v, reference[v] / m)
        expected = n * share
        if expected < min_events:
            continue
        z = _fall_z(observed[v], n, share, m)
        bad = observed[v] < 0.5 * expected and z < -spec.volume_z
        details = {"n": observed[v], "expected": round(float(expected), 1),
                   "share": round(float(share), 6)}
        out.append(QualityResult(f"segment:{key}={v}", "volume", float(-z), spec.volume_z,
                                 bad, details | ({"held": True} if v in kept else {})))
    return out


def _fall_z(count: int, n: int, share: float, m: int) -> float:
    """How far below its expectation ``count`` of ``n`` events lies, for a value with
    ``share`` of a reference of ``m``: a binomial z whose variance is widened by the
    reference's own sampling (``1 + n/m``); where the window expects at most
    :data:`EXACT_FALL_BELOW` events, the normal z of the exact beta-binomial lower tail
    (the share drawn from the reference's counts). The normal approximation is far too
    loose there: a value with 30 events a window whose traffic stopped read z = -5.3
    against a ``previous`` reference of 12 windows, and a stop went unflagged below 38.

    >>> round(_fall_z(0, 1000, 0.03, 12_000), 1)  # a stop at 30 events a window
    -7.3
    """
    expected = n * share
    if count < expected <= EXACT_FALL_BELOW:
        a = share * m + 0.5
        tail = float(betabinom.cdf(count, n, a, m + 1.0 - a))
        return -float(norm.isf(max(tail, 1e-300)))
    sd = max(float(np.sqrt(expected * (1 - share) * (1 + n / m))), 1.0)
    return (count - expected) / sd


EXACT_FALL_BELOW = 500
"""Expected counts up to which a segment value's fall is judged on the exact tail."""


def held_shares(rows: Sequence[Any], held: Mapping[str, float]) -> dict[str, float]:
    """``held`` (segment volume feature, ``segment:KEY=VALUE`` → share) after a window's
    rows (:class:`driftscope.monitor.evaluate.Row`): a value whose traffic fell is held to
    the share it was held to, one whose traffic came back is not any more
    (:func:`segment_volume`); values the window did not judge keep theirs."""
    out = dict(held)
    for r in rows:
        if r.metric == "volume" and r.feature.startswith("segment:") and r.segment == "*":
            if r.bad and "share" in r.details:
                out[r.feature] = float(r.details["share"])
            else:
                out.pop(r.feature, None)
    return out


HELD_FOR = timedelta(days=30)
"""How far back a pass's start reads the segment values held (:func:`held_segments`): a
whole history was read each pass (0.18 s a monitor on a year of hourly windows)."""


def held_segments(store: Store, model_id: str, monitor: str, before: datetime
                  ) -> dict[str, float]:
    """:func:`held_shares` as the stored rows leave it before ``before``: each segment
    value whose latest volume row there (within :data:`HELD_FOR`) is bad for a fall, with
    the share it was held to (rows stored before ``share`` was kept: their expected count
    over the window's)."""
    D = S.DRIFT_RESULTS
    rows = store.query(
        f"SELECT {D.feature}, argMax({D.drifted}, {D.window_start}), "
        f"argMax(if(JSONHas({D.details}, 'share'), JSONExtractFloat({D.details}, 'share'), "
        f"JSONExtractFloat({D.details}, 'expected') / greatest({D.n_cur}, 1)), "
        f"{D.window_start}) FROM {D} FINAL "
        f"WHERE {D.model_id} = {{m:String}} AND {D.monitor} = {{n:String}} "
        f"AND {D.metric} = 'volume' AND {D.segment} = '*' "
        f"AND startsWith({D.feature}, 'segment:') "
        f"AND {D.window_start} >= {{a:DateTime64(3, 'UTC')}} "
        f"AND {D.window_start} < {{b:DateTime64(3, 'UTC')}} GROUP BY {D.feature}",
        {"m": model_id, "n": monitor, "a": before - HELD_FOR, "b": before})
    return {str(f): float(share) for f, bad, share in rows if bad}


def schema_violations(
    store: Store, model_id: str, start: datetime, end: datetime, spec: QualitySpec
) -> QualityResult:
    """Dead letters of this model in the window: by their event time when the message had a
    readable one (as events are windowed), else by the time the collector received them.
    Beyond the limit, the three most frequent reasons with an error of each (``details``
    ``reasons``: ``[reason, error, count]``, the error naming the column: ``zip: was
    numeric, now categorical``), for the alert to say what broke."""
    D = S.DEAD_LETTERS
    when = f"ifNull({D.event_time}, {D.received_at})"
    where = (f"{D.model_id} = {{m:String}} AND {when} >= {{a:DateTime64(3, 'UTC')}} "
             f"AND {when} < {{b:DateTime64(3, 'UTC')}}")
    params = {"m": model_id, "a": start, "b": end}
    n = store.count(D, where, **params)
    limit = float(spec.schema_violations_max)
    details: dict[str, Any] = {}
    if n > limit:
        rows = store.query(
            f"SELECT {D.reason}, any({D.error}), count() AS c FROM {D} WHERE {where} "
            f"GROUP BY {D.reason} ORDER BY c DESC, {D.reason} LIMIT 3", params)
        details["reasons"] = [[str(r), str(e)[:200], int(c)] for r, e, c in rows]
    return QualityResult("*", "schema_violations", float(n), limit, n > limit, details)
