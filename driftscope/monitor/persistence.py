"""Did the window before move the same way? Persistence evidence for gradual drift.

A drift alert waits for two bad windows in a row, so that a one-window spike does not
page. A slow drift is weak in its first windows: the window before the first flagged one
often carries the same drift, too weakly to be flagged on its own among every test of
the window. Knowing *which way* the flagged window moved makes that evidence strong: the
window before is tested in one direction only, the flagged window's.

Each watched column gets a vector of signed, standardised shifts against its reference:
the mean's shift for a numeric column (in standard errors of the difference, each side
with its own variance: Welch, so a window whose spread changed is on the usual scale of
noise), each category's share's shift
for a categorical one (pooled-proportion standard errors). For the columns flagged in
window *k*, with direction ``u = z_k / ‖z_k‖``, the statistic is::

    t = u · (z_prev − mean_b z_b) / (s · √(1 + 1/B))

Two corrections keep it calibrated on real data:

- *baseline* ``mean_b z_b``: every window's shifts share one error, the reference's own
  sampling error (with 10,000 reference rows and windows of 1,000 it is about 0.3
  standard errors per column, the same in every window), which would tilt the check
  whenever it points along a drift. The window before is therefore measured from the
  mean shift of ``B`` earlier windows (each against its own reference; the monitor
  leaves out the one just before the previous window, which a slow drift may already
  have reached), which carry the same error.
- *spread* ``s``: columns are correlated (a drift that moves two correlated columns
  together is exactly the direction in which their chance shifts add up), so the
  projection's standard deviation is ``√(uᵀ R u)`` for the columns' correlation ``R``;
  :func:`spread` computes it from the reference's rows as the standard deviation of the
  same combination of the standardised row values.

The same statistic says whether a bad window *follows* the bad window before it: when
window *k* drifted clearly one way (:func:`directional`) and the window before did not
move that way at all (``t`` below the one-sided ``z(follow_alpha)``), the two are not
one incident — typically a spike beside a chance finding — and the alert rules count
the pair as one and a half bad windows (:func:`driftscope.alerts.rules.next_streak`).
Nor does it when the window before moved its way far *more* strongly (:func:`fading`):
a spike, then a window flagged by chance on one of its columns; nor when it moved its
way by less than a quarter of window *k*'s move (a chance finding, then a spike: the
drift grew more than fourfold in one window, so it starts in window *k*; see
:func:`check`).
The baseline's level is bounded by what a reference's own error can be
(:func:`reference_error`), so that deep in a lasting drift, whose baseline windows have
drifted too, a window is not measured from the drifted level.

With no drift before window *k*, ``t`` is then about N(0, 1) (a little narrower, since a
fixed reference's error cancels), independent of window *k*'s noise. A spike's clean
neighbour passes ``t > z(alpha)`` with probability about ``alpha``; a ramp's previous
window, drifting the same way, passes far more often. When window *k* drifted clearly
one way the level is the looser ``directed_alpha``: its neighbour must then also have
moved at least ``jump_ratio`` of window *k*'s move, which a clean neighbour of a strong
spike seldom does. This only ever adds the window
before to a flagged window's streak; it never flags a window on its own. With no
baseline window (``B = 0``) the window before is measured from the reference.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> ref = rng.normal(size=10_000)
>>> z = shifts(ref, rng.normal(0.3, 1, 1000)); round(z["mean"])
8
>>> carried({("*", "x"): z}, {("*", "x"): shifts(ref, rng.normal(0.15, 1, 1000))}, 0.002)[0]
True
>>> carried({("*", "x"): z}, {("*", "x"): shifts(ref, rng.normal(0.0, 1, 1000))}, 0.002)[0]
False
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy.stats import chi2, norm

from driftscope.monitor.frame import missing

Shift = dict[str, float]
K = TypeVar("K", bound=Hashable)


def shifts(ref: np.ndarray, cur: np.ndarray) -> Shift:
    """Signed standardised shifts of ``cur`` against ``ref`` (missing values ignored)."""
    ref, cur = np.asarray(ref), np.asarray(cur)
    if (ref.dtype.kind == "f") != (cur.dtype.kind == "f"):
        return {}  # the column changed type between the two (a schema change): no shift
    if ref.dtype.kind == "f":
        return _numeric(ref[np.isfinite(ref)], cur[np.isfinite(cur)])
    return _categorical(ref, cur)


def _numeric(ref: np.ndarray, cur: np.ndarray) -> Shift:
    if len(ref) < 2 or len(cur) < 1:
        return {}
    # Welch: each side's own variance, so that a window whose spread changed (a unit
    # change, added noise) has shifts on the same scale of noise as any other window
    var_r, var_c = float(ref.var()), float(cur.var()) if len(cur) > 1 else float(ref.var())
    if not var_r > 0 and not var_c > 0:
        var_r = var_c = float(np.concatenate([ref, cur]).var())
    se2 = var_c / len(cur) + var_r / len(ref)
    if not se2 > 0 or not math.isfinite(se2):
        return {"mean": 0.0}
    return {"mean": (float(cur.mean()) - float(ref.mean())) / math.sqrt(se2)}


def _categorical(ref: np.ndarray, cur: np.ndarray) -> Shift:
    ref = ref[~missing(ref)] if ref.size else ref
    cur = cur[~missing(cur)] if cur.size else cur
    if not len(ref) or not len(cur):
        return {}
    r, c = _counts(ref), _counts(cur)
    nr, nc = len(ref), len(cur)
    out: Shift = {}
    for k in sorted(set(r) | set(c)):
        pooled = (r.get(k, 0) + c.get(k, 0)) / (nr + nc)
        se = math.sqrt(pooled * (1 - pooled) * (1 / nr + 1 / nc))
        if se > 0:
            out[f"={k}"] = (c.get(k, 0) / nc - r.get(k, 0) / nr) / se
    return out


def _counts(values: np.ndarray) -> dict[str, int]:
    keys, counts = np.unique(values.astype(str), return_counts=True)
    return dict(zip(keys.tolist(), counts.tolist(), strict=True))


def spread(reference: Mapping[K, np.ndarray], direction: Mapping[K, Shift],
           joint: bool = True) -> float:
    """Standard deviation of the shifts' projection on ``direction`` under no drift.

    ``reference``: each column's reference values, row-aligned (one row per event);
    ``direction``: the shifts whose direction is projected on. Each component becomes a
    standardised row value (a numeric column's value, a category's indicator; missing
    values count as the mean), and the projection's spread is the standard deviation of
    their ``direction``-weighted sum over the reference rows: ``√(uᵀ R u)``. A component
    the reference cannot give (a category it lacks) counts as independent of the rest.

    ``joint=False``: the columns' rows are not aligned (a model logged only as profiles:
    each column is read back on its own), so their correlation is unknown; each column's
    part of the projection is measured alone and the parts' standard deviations are added
    (the largest the sum's can be, whatever the correlation: Cauchy–Schwarz).
    """
    norm2 = sum(v * v for z in direction.values() for v in z.values())
    if not norm2 > 0:
        return 1.0
    combo: np.ndarray | float = 0.0
    alone = 0.0
    parts = 0.0  # (joint=False) the columns' standard deviations, added
    for key, z in direction.items():
        mine, left = _projection(np.asarray(reference[key]), z, math.sqrt(norm2))
        alone += left
        combo = combo + mine
        parts += math.sqrt(float(np.var(mine)))
    var = (float(np.var(combo)) if joint else parts * parts) + alone / norm2
    return math.sqrt(var) if var > 0 else 1.0


def _projection(values: np.ndarray, z: Shift, norm: float) -> tuple[np.ndarray | float, float]:
    """One column's part of the projection: ``Σ (z_c / norm) · row_c`` over its components
    ``c`` as standardised per-row values (missing rows count as the mean, as the shifts
    ignore them), and ``Σ z_c²`` of the components the reference cannot give (no spread:
    a category it lacks).

    A category's row value is its indicator minus the reference share, over its standard
    deviation; a row holds one category, so the weighted sum is a lookup of the row's
    category, in time linear in rows plus categories (a column of thousands of ids)."""
    if values.dtype.kind == "f":
        if "mean" not in z:
            return 0.0, 0.0
        x = values.astype(float)
        ok = np.isfinite(x)
        row = np.where(ok, x - (float(x[ok].mean()) if ok.any() else 0.0), 0.0)
        sd = float(row.std())
        if not (sd > 0 and math.isfinite(sd)):
            return 0.0, z["mean"] ** 2
        return (z["mean"] / norm) * row / sd, 0.0
    n = len(values)
    present = ~missing(values)
    text = values.astype(str)
    names, codes = np.unique(text[present], return_inverse=True)
    counts = np.bincount(codes, minlength=len(names))
    index = {name: i for i, name in enumerate(names.tolist())}
    n_present = int(present.sum())
    weight = np.zeros(len(names))  # per category: z_c / norm / sd_c
    offset, left = 0.0, 0.0  # Σ weight_c · p_c; Σ z_c² of the components left out
    for comp, value in z.items():
        i = index.get(comp[1:])
        p = counts[i] / n_present if i is not None else 0.0
        sd = math.sqrt(n_present * p * (1 - p) / n) if n else 0.0  # of (hit − p)·present
        if not sd > 0:
            left += value * value
            continue
        assert i is not None
        weight[i] = value / norm / sd
        offset += weight[i] * p
    mine = np.zeros(n)
    mine[present] = weight[codes] - offset
    return mine, left


def along(
    flagged: Mapping[K, Shift], window: Mapping[K, Shift],
    baseline: Sequence[Mapping[K, Shift]] = (), cap: float = math.inf,
) -> float:
    """``window``'s shifts, measured from the baseline's mean level, projected on the
    flagged shifts' direction (unscaled; a component missing anywhere counts as no shift,
    a baseline window counts for the columns it saw). Each component's level is held
    within ``±cap``: the baseline stands for the reference's own error, and a level
    beyond what that error can be is a drift the baseline windows share (a lasting one),
    not to be measured from. 0.0 when there is no direction."""
    dot, norm2 = 0.0, 0.0
    for key, z in flagged.items():
        here = window.get(key, {})
        base = [w[key] for w in baseline if w.get(key)]  # windows that saw the column
        for comp, value in z.items():
            level = sum(w.get(comp, 0.0) for w in base) / len(base) if base else 0.0
            level = max(-cap, min(cap, level))
            norm2 += value * value
            dot += value * (here.get(comp, 0.0) - level)
    if not norm2 > 0 or not math.isfinite(norm2):
        return 0.0
    out = dot / math.sqrt(norm2)
    return out if math.isfinite(out) else 0.0


def carried(
    flagged: Mapping[K, Shift],
    previous: Mapping[K, Shift],
    alpha: float,
    baseline: Sequence[Mapping[K, Shift]] = (),
    scale: float = 1.0,
    cap: float = math.inf,
) -> tuple[bool, float]:
    """Whether the previous window moved along the flagged window's direction.

    ``flagged``: the shifts of the columns flagged in this window; ``previous``: the same
    columns' shifts in the window before; ``baseline``: the same for each of the earlier
    windows (a column or component missing anywhere counts as no shift); ``scale``: the
    projection's spread under no drift (:func:`spread`); ``cap``: the most a baseline
    level may be (:func:`along`). Returns ``(t > z(alpha), t)``.
    """
    baseline = [w for w in baseline if _present(w)]
    if not _present(previous):
        return False, 0.0
    b = len(baseline)
    t = along(flagged, previous, baseline, cap) / scale / math.sqrt(1 + 1 / b if b else 1)
    if not math.isfinite(t):
        return False, 0.0
    return bool(t > norm.isf(alpha)), float(t)


def _present(window: Mapping[K, Shift]) -> bool:
    """Whether a window has any shift at all (a column all missing there has none)."""
    return any(bool(z) for z in window.values())


def directional(flagged: Mapping[K, Shift], alpha: float = 0.001) -> bool:
    """Whether the flagged shifts point clearly one way: ``‖z‖²`` beyond the chi-square
    quantile of its component count at ``alpha`` (a drift of the spread or shape alone
    leaves its mean shifts at chance level and is not)."""
    values = [v for z in flagged.values() for v in z.values()]
    # a column's category shares sum to one: k categories move in k - 1 directions
    df = sum(len(z) if "mean" in z else max(len(z) - 1, 1) for z in flagged.values() if z)
    return bool(values) and sum(v * v for v in values) > float(chi2.isf(alpha, df))


def fading(
    flagged: Mapping[K, Shift], previous: Mapping[K, Shift], scale: float = 1.0,
    ratio: float = 1.0,
) -> float:
    """How far this window fell short of the window before along its own direction.

    ``d = u · (z_now − r·z_prev) / (s √(1 + r²))`` with ``u`` the flagged shifts'
    direction, ``s`` their :func:`spread` and ``r`` the windows' :func:`size_ratio`
    (``ratio``; 1 for windows of one size): about N(0, 1) or above when both windows come from one
    drift (steady or growing; the reference's own error cancels in the difference), far
    below zero when the window before was much stronger that way — a spike followed by a
    window flagged by chance on one of its columns. A missing component counts as no
    shift; 0.0 when the window before has nothing to compare.
    """
    if not _present(previous):
        return 0.0
    return _fall(flagged, flagged, previous, scale, ratio)


def _fall(
    direction: Mapping[K, Shift], now: Mapping[K, Shift], before: Mapping[K, Shift],
    scale: float, ratio: float,
) -> float:
    """``now``'s move minus ``before``'s (in this window's unit) along ``direction``, in
    standard deviations of that difference under one steady drift."""
    d = ((along(direction, now) - ratio * along(direction, before))
         / scale / math.sqrt(1 + ratio * ratio))
    return float(d) if math.isfinite(d) else 0.0


KEPT = 0.5  # a window keeping less than this share of the move before it has "ended"

STOP_TAILS = (0.75, 0.5, 0.25, 0.125)
"""The last shares of a window in which :func:`stopped` looks for a drift that ended."""
MIN_TAIL = 20  # events a window's head and tail each need for :func:`stopped`
STILL_ALPHA = 0.01
"""A flagged column whose tail still moved its way beyond ``z(STILL_ALPHA / k)`` standard
errors (one-sided, ``k`` flagged columns: 2.33 for one, 2.71 for three, 3.59 for 60)
still drifts there: the window's drift did not stop."""


def stopped(
    direction: Mapping[K, Shift], window: Mapping[K, np.ndarray],
    reference: Mapping[K, np.ndarray],
) -> float:
    """How clearly this window's drift stopped before the window ended: a burst that
    straddles two windows.

    ``window``: the flagged columns' values in this window, row-aligned and in time
    order. Each event gets its value along ``direction`` (the flagged shifts), each
    column centred and scaled by its reference; events missing a flagged column are
    left out (a column that goes missing is not a drift that ended). For each tail of
    :data:`STOP_TAILS` (the window's last three quarters, half, quarter, eighth; head
    and tail each ``MIN_TAIL`` events or more), the tail's mean is compared with the
    head's, in standard errors of the difference from the events' pooled spread (under
    a lasting drift the window's events are alike wherever they fall). A tail counts
    only when it keeps less than ``KEPT`` (half) of the head's move from the reference,
    and no flagged column is still moved its way there beyond ``z(STILL_ALPHA / k)``
    standard errors over ``k`` columns (a lasting drift on one column beside a burst on
    another, a drift that eased but goes on). Returns the largest fall over the tails
    that count; ``-inf`` when none does.

    A drift that lasts through the window (a step, a ramp) has tails as strong as its
    head or stronger. A burst that ended in the window leaves a tail at the reference:
    the value grows with the burst's size. Within-window rhythms that the reference
    does not share (a drift of business hours only, in a window of a day) look like a
    drift that stopped, which is why the monitor checks windows shorter than a day only.

    >>> rng = np.random.default_rng(0)
    >>> ref, x = {"x": rng.normal(size=5000)}, rng.normal(size=1000)
    >>> z = {"x": {"mean": 9.0}}
    >>> x[:400] += 0.7  # a burst over the first 40 % of the window
    >>> round(stopped(z, {"x": x}, ref))
    7
    >>> x[400:] += 0.7  # the whole window: the drift lasts
    >>> stopped(z, {"x": x}, ref) < 2
    True
    """
    # two passes over the columns, one at a time (a wide window's never all in memory):
    # the events with every column, then their values along the direction
    ok: np.ndarray | None = None
    columns = 0
    for part in _parts_along(direction, window, reference):
        ok = np.isfinite(part) if ok is None else ok & np.isfinite(part)
        columns += 1
    if ok is None or int(ok.sum()) < 2 * MIN_TAIL:
        return -math.inf
    n = int(ok.sum())
    z_still = float(norm.isf(STILL_ALPHA / columns))
    tails = [t for t in (round(n * share) for share in STOP_TAILS) if min(t, n - t) >= MIN_TAIL]
    rows = np.zeros(n)
    still = np.zeros(len(tails), dtype=bool)  # per tail: a column still moved its way
    for part in _parts_along(direction, window, reference):
        kept = part[ok]
        rows += kept
        spread = float(kept.std(ddof=1))
        still |= np.array([float(kept[n - t:].mean()) * math.sqrt(t) > z_still * spread
                           for t in tails], dtype=bool)
    sd, best = float(rows.std(ddof=1)), -math.inf
    for t, held in zip(tails, still, strict=True):
        h, tau = float(rows[: n - t].mean()), float(rows[n - t:].mean())
        se = sd * math.sqrt(1 / (n - t) + 1 / t)
        if h > 0 and tau < KEPT * h and not held and se > 0 and math.isfinite(se):
            best = max(best, (h - tau) / se)
    return best


def _parts_along(
    direction: Mapping[K, Shift], window: Mapping[K, np.ndarray],
    reference: Mapping[K, np.ndarray],
) -> Iterator[np.ndarray]:
    """Each column's part of each event's value along ``direction``: ``Σ z_c · row_c``
    over the column's components, a numeric value less the reference's mean over its
    standard deviation, a category's indicator less its reference share over that
    share's standard deviation (a category the reference lacks: its share over both);
    NaN where the event has no value. Columns the check cannot read are left out; one
    column at a time, so that a wide window's columns are never all in memory at once."""
    for key, z in direction.items():
        if key not in window or key not in reference or not z:
            continue
        ref, cur = np.asarray(reference[key]), np.asarray(window[key])
        part = _numeric_rows(ref, cur, z) if ref.dtype.kind == "f" else _category_rows(
            ref, cur, z)
        if part is not None:
            yield part


def _numeric_rows(ref: np.ndarray, cur: np.ndarray, z: Shift) -> np.ndarray | None:
    if "mean" not in z or cur.dtype.kind != "f":
        return None
    ok = ref[np.isfinite(ref)]
    sd = float(ok.std()) if len(ok) > 1 else 0.0
    if not (sd > 0 and math.isfinite(sd)):
        return None
    x = cur.astype(float)
    with np.errstate(over="ignore", invalid="ignore"):
        out = z["mean"] * (x - float(ok.mean())) / sd
    return np.where(np.isfinite(x) & np.isfinite(out), out, np.nan)


def _category_rows(ref: np.ndarray, cur: np.ndarray, z: Shift) -> np.ndarray | None:
    if cur.dtype.kind == "f":
        return None
    r = _counts(ref[~missing(ref)]) if ref.size else {}
    present = ~missing(cur)
    text = cur.astype(str)
    names, codes = np.unique(text[present], return_inverse=True)
    c = dict(zip(names.tolist(), np.bincount(codes, minlength=len(names)).tolist(),
                 strict=True))
    nr, nc = sum(r.values()), int(present.sum())
    weight = np.zeros(len(names))
    offset = 0.0
    for comp, value in z.items():
        key = comp[1:]
        p = r.get(key, 0) / nr if nr else 0.0
        if not 0 < p < 1:  # a category the reference lacks (or holds alone)
            p = (r.get(key, 0) + c.get(key, 0)) / (nr + nc) if nr + nc else 0.0
        if not 0 < p < 1:
            continue
        w = value / math.sqrt(p * (1 - p))
        offset += w * p
        i = int(np.searchsorted(names, key)) if len(names) else 0
        if i < len(names) and names[i] == key:
            weight[i] = w
    out = np.full(len(cur), np.nan)
    out[present] = weight[codes] - offset
    return out


def reference_error(n: int, n_reference: int) -> float:
    """The standard deviation of a reference's own sampling error in shift units (a
    window of ``n`` events against ``n_reference`` rows): ``√(n / (n + n_reference))``.

    >>> round(reference_error(1000, 10_000), 2)
    0.3
    """
    return math.sqrt(n / (n + n_reference)) if n > 0 and n_reference > 0 else math.inf


def size_ratio(n_previous: int, n: int, n_reference: int) -> float:
    """The previous window's shift standard error over this window's, in units of the
    column's spread: a steady drift's shift in the previous window, times this, is its
    shift at this window's size.

    >>> round(size_ratio(4000, 1000, 10_000), 2)
    0.56
    """
    if min(n_previous, n, n_reference) <= 0:
        return 1.0
    return math.sqrt((1 / n_previous + 1 / n_reference) / (1 / n + 1 / n_reference))


@dataclass(frozen=True)
class Evidence:
    """What the persistence check measured of a flagged window and the window before it;
    :func:`verdict` turns it into ``(carried, follows)`` for any setting, so a setting
    can be replayed on recorded windows (``benchmarks/persistence_frontier.py``).

    ``t``: the window before's move along this window's direction (:func:`carried`);
    ``present``: the window before has shifts to compare; ``clear``: this window drifted
    clearly one way (:func:`directional`); ``fade``: :func:`fading`; ``short``: this
    window keeps less than ``KEPT`` of the window before's move; ``rise`` and ``moved``:
    this window's and the window before's moves along this window's direction, from the
    baseline level, in one unit (the jump test compares them); ``fade_before`` and
    ``short_before``: ``fade`` and ``short`` along the direction the window before was
    itself flagged on, when it was (a spike on some columns, then a chance finding on a
    column the spike had moved too); ``stop``: how clearly this window's own drift
    stopped before the window ended (:func:`stopped`; ``-inf``: not measured, or no
    tail of it qualified).
    """

    t: float
    present: bool
    clear: bool = False
    fade: float = 0.0
    short: bool = False
    rise: float = 0.0
    moved: float = 0.0
    fade_before: float = 0.0
    short_before: bool = False
    stop: float = -math.inf


def measure(
    flagged: Mapping[K, Shift],
    previous: Mapping[K, Shift],
    baseline: Sequence[Mapping[K, Shift]],
    reference: Mapping[K, np.ndarray],
    reference_error: float = math.inf,
    size_ratio: float = 1.0,
    before_flagged: Mapping[K, Shift] | None = None,
    now_on_before: Mapping[K, Shift] | None = None,
    before_reference: Mapping[K, np.ndarray] | None = None,
    joint: bool = True,
    window: Mapping[K, np.ndarray] | None = None,
) -> Evidence:
    """The :class:`Evidence` of a flagged window (arguments as in :func:`check`).

    ``before_flagged``: when the window before was flagged itself, its shifts on the
    columns it was flagged on (its direction); ``now_on_before``: this window's shifts on
    those columns; ``before_reference``: their reference values; ``window``: the flagged
    columns' values in this window, in time order (:func:`stopped`; None: events not
    kept, as for a model logged only as profiles)."""
    stop = stopped(flagged, window, reference) if window else -math.inf
    base = [w for w in baseline if _present(w)]
    err2 = min(reference_error ** 2, 1.0)
    cap = 3 * math.sqrt(err2 + (1 - err2) / len(base)) if base else math.inf
    scale, f = spread(reference, flagged, joint), size_ratio
    _, t = carried(flagged, previous, 0.5, baseline, scale, cap)  # (only t is kept)
    if not _present(previous):
        return Evidence(t, False, stop=stop)
    fade, short = _ended(flagged, flagged, previous, scale, f)
    fade_b, short_b = 0.0, False
    if before_flagged and _present(before_flagged):
        fade_b, short_b = _ended(before_flagged, now_on_before or {}, before_flagged,
                                 spread(before_reference or {}, before_flagged, joint), f)
    return Evidence(t, True, directional(flagged), fade, short,
                    along(flagged, flagged, base, cap), f * along(flagged, previous, base, cap),
                    fade_b, short_b, stop)


def _ended(
    direction: Mapping[K, Shift], now: Mapping[K, Shift], before: Mapping[K, Shift],
    scale: float, ratio: float,
) -> tuple[float, bool]:
    """Along ``direction``: how far ``now`` fell short of ``before`` (:func:`_fall`), and
    whether it keeps less than ``KEPT`` of ``before``'s move."""
    return (_fall(direction, now, before, scale, ratio),
            along(direction, now) < KEPT * ratio * along(direction, before))


def verdict(
    e: Evidence,
    alpha: float,
    follow_alpha: float,
    fade_alpha: float = 0.001,
    jump_ratio: float = 0.25,
    directed_alpha: float | None = 0.01,
    stop_alpha: float | None = 0.001,
) -> tuple[bool, bool]:
    """``(carried, follows)`` from the :class:`Evidence` (the rules: :func:`check`)."""
    halted = stop_alpha is not None and e.stop > float(norm.isf(stop_alpha / len(STOP_TAILS)))
    if halted:  # the drift ended within this window: it starts no incident of its own
        return False, False
    if not e.present:
        return False, True
    level = directed_alpha if e.clear and directed_alpha is not None else alpha
    ok = bool(e.t > norm.isf(level))
    z_fade = float(norm.isf(fade_alpha))
    other_way = e.t < -z_fade or (e.clear and e.t <= float(norm.isf(follow_alpha)))
    ended = (e.fade < -z_fade and e.short) or (e.fade_before < -z_fade and e.short_before)
    jumped = e.clear and e.rise > 0 and e.moved < jump_ratio * e.rise
    apart = other_way or ended or jumped
    return ok and not apart, not apart


def check(
    flagged: Mapping[K, Shift],
    previous: Mapping[K, Shift],
    baseline: Sequence[Mapping[K, Shift]],
    reference: Mapping[K, np.ndarray],
    alpha: float,
    follow_alpha: float,
    fade_alpha: float = 0.001,
    jump_ratio: float = 0.25,
    reference_error: float = math.inf,
    size_ratio: float = 1.0,
    directed_alpha: float | None = 0.01,
    before_flagged: Mapping[K, Shift] | None = None,
    now_on_before: Mapping[K, Shift] | None = None,
    before_reference: Mapping[K, np.ndarray] | None = None,
    joint: bool = True,
    window: Mapping[K, np.ndarray] | None = None,
    stop_alpha: float | None = 0.001,
) -> tuple[bool, bool, float]:
    """``(carried, follows, t)`` of a flagged window (the monitor and the harness).

    ``reference``: the flagged columns' reference values, row-aligned (their
    :func:`spread` scales ``t``; ``joint=False``: not row-aligned, see :func:`spread`);
    ``reference_error``: the standard deviation of the reference's own error in shift units
    (:func:`reference_error`), whose three times bound the baseline's level (with the
    baseline mean's own noise); ``size_ratio``:
    the previous window's standard error over this window's (:func:`size_ratio`), which
    puts the two windows' shifts in one unit where their sizes are compared (a steady
    drift's shifts grow with the window's size). ``carried``: ``t > z(alpha)``
    (:func:`carried`), or ``t > z(directed_alpha)`` (``None``: ``alpha`` throughout) when
    this window drifted clearly one way (:func:`directional`): the window before must
    then also have moved at least ``jump_ratio`` of its move (below), which a spike's
    clean neighbour seldom does, so the looser level buys a slow drift power without
    paging spikes.
    ``follows`` is False, and ``carried`` too, when the window before has shifts to
    compare and is not this drift's start or continuation:

    - it moved the other way: ``t < −z(fade_alpha)``, or, when this window drifted
      clearly one way (:func:`directional`), ``t <= z(follow_alpha)``;
    - the drift before has ended: this window is weaker than it along its own direction
      beyond ``z(fade_alpha)`` (:func:`fading`) and keeps less than ``KEPT`` (half) of
      its move (a spike, then a chance finding; the share keeps a very large steady
      shift, whose standardised size wavers by a few per cent — its variance is
      estimated too — from counting as ended); the same along the direction the window
      before was flagged on itself (``before_flagged``: its shifts there;
      ``now_on_before``: this window's on the same columns; ``before_reference``: their
      reference values), when it was — a spike on some columns, then a chance finding
      on a column the spike had moved too;
    - this window drifted clearly one way and is a jump: the window before moved its
      way by less than ``jump_ratio`` of this window's own move, both from the baseline
      level (a drift that grows more than fourfold in one window starts in this window;
      a chance finding, then a spike);
    - this window's own drift stopped before the window ended (``window``: the flagged
      columns' values in this window, in time order): a tail of it fell back below half
      the head's move beyond ``z(stop_alpha / 4)`` (:func:`stopped`; ``None``: not
      checked) — a burst that straddles two windows, which would otherwise make two bad
      windows in a row.
    """
    e = measure(flagged, previous, baseline, reference, reference_error, size_ratio,
                before_flagged, now_on_before, before_reference, joint, window)
    ok, follows = verdict(e, alpha, follow_alpha, fade_alpha, jump_ratio, directed_alpha,
                          stop_alpha)
    return ok, follows, e.t
