"""One monitor × one closed window → drift_results rows and a :class:`WindowVerdict`.

Drift per feature, output and projection (overall and per segment), model-level
false-discovery control, data quality, performance, fixed rules, predicted ranges and
anomalies on the metric history. Nothing here formats a message.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from driftscope.alerts.messages import note
from driftscope.alerts.model import VERSUS_REST, Finding, WindowVerdict
from driftscope.alerts.rules import check_of
from driftscope.monitor import judge, performance, persistence, quality
from driftscope.monitor.config import (
    VERSION_KEY,
    MonitorConfig,
    PerformanceSpec,
    ProjectionSpec,
    detector_kind,
)
from driftscope.monitor.detect import Fitter, Scored, fingerprint, project, score_one, usable
from driftscope.monitor.frame import OUTPUT, Frame, missing
from driftscope.monitor.profiled import OTHER
from driftscope.monitor.reference import digest, is_static
from driftscope.monitor.sketch_noise import SketchNoise
from driftscope.types import Window

# (segment, feature, metric, n) → the last n good values, with their standard errors
History = Callable[[str, str, str, int], Sequence[tuple[Any, ...]]]
"""A performance metric's past values by (segment, feature, metric) and how many good ones
the band or the anomaly check uses: :class:`~driftscope.monitor.judge.Past` tuples (or
``(value, standard_error)`` pairs), oldest first."""

log = logging.getLogger("driftscope.monitor")


@dataclass
class Row:
    """One drift_results row before it is written."""

    kind: str
    segment: str
    feature: str
    metric: str
    statistic: float
    threshold: float
    policy: str
    drifted: bool
    p_value: float | None = None
    n_ref: int = 0
    n_cur: int = 0
    fingerprint: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    bad: bool = False
    reason: str = ""


def monitored_names(cfg: MonitorConfig) -> list[str]:
    """Every column a monitor reads: features, outputs, projection inputs, performance."""
    names = list(cfg.features) + [OUTPUT + o for o in cfg.outputs]
    for p in cfg.projections:
        names += p.features
    if cfg.performance:
        names.append(OUTPUT + cfg.performance.prediction)
        if cfg.performance.task == "classification":
            names.append(_class_name(cfg.performance))
        if cfg.performance.score:
            names += [OUTPUT + cfg.performance.score, _score_name(cfg.performance)]
    return list(dict.fromkeys(names))


def align(cur: Frame, ref: Frame, cfg: MonitorConfig | None = None
          ) -> tuple[Frame, Frame, list[quality.QualityResult]]:
    """The window and its reference with each column of one kind on both sides.

    The columns ``cfg`` names categorical (:func:`categorical_columns`) are read as
    categories first. A side without any value of a column takes the other side's kind. A
    column with values of different kinds on the two sides (numbers in the reference,
    strings in the window) is left out of both and reported as one ``type_mismatch``
    quality result.
    """
    cc, rc = dict(cur.columns), dict(ref.columns)
    if cfg is not None:
        _codes_as_categories(cfg, cc, rc)
    found = []
    for name in cc.keys() & rc.keys():
        c, r = cc[name], rc[name]
        if (c.dtype.kind == "f") == (r.dtype.kind == "f"):
            continue
        if not usable(c):
            cc[name] = _missing_like(c, r)
        elif not usable(r):
            rc[name] = _missing_like(r, c)
        else:
            found.append(quality.type_mismatch(name, r, c))
            del cc[name], rc[name]
    if cur.sketched or ref.sketched:  # (a model read from profiles)
        for name in cc.keys() & rc.keys():
            cc[name], rc[name] = _common_categories(cc[name], rc[name])
    return replace(cur, columns=cc), replace(ref, columns=rc), sorted(
        found, key=lambda q: q.feature)


def categorical_columns(cfg: MonitorConfig) -> tuple[frozenset[str], str | None]:
    """The columns judged as categories whatever their values (``cfg.categorical``), and
    the one judged so when its reference holds three or more class numbers: a classifier's
    predicted class, when it is among ``outputs`` (as numbers, EMD read class 4 as farther
    from class 0 than class 1 is; two classes are one share either way)."""
    named = frozenset({n for n in cfg.categorical if n in cfg.features}
                      | {OUTPUT + n for n in cfg.categorical if n in cfg.outputs})
    perf = cfg.performance
    classes = (OUTPUT + perf.prediction if perf is not None and perf.task == "classification"
               and perf.prediction in cfg.outputs else None)
    return named, classes


def _codes_as_categories(cfg: MonitorConfig, cur: dict[str, np.ndarray],
                         ref: dict[str, np.ndarray]) -> None:
    """Numbers that are codes, as categories on both sides, in place: ``3.0`` is ``"3"``
    (:func:`driftscope.monitor.performance.key`: as labels are compared), a missing value
    ``None``. A code the events send as a string is the same category."""
    named, classes = categorical_columns(cfg)
    held = ref.get(classes) if classes is not None else None
    if classes is not None and held is not None and held.dtype.kind == "f":  # (the
        values = held[~np.isnan(held)]  # reference's classes decide: a window does not
        if len(np.unique(values)) > 2 and bool(np.all(values == np.round(values))):
            named |= {classes}  # flip how the column is judged)
    for side in (cur, ref):
        for name in named & side.keys():
            if side[name].dtype.kind == "f":
                side[name] = np.asarray([None if math.isnan(v) else performance.key(v)
                                         for v in side[name].tolist()], dtype=object)


LUMP_SHARE = 2 * 3.5 / 1024
"""Twice the error of whylogs' frequent-items sketch (1,024 slots: 0.34 % of a column's
count): a category at least this frequent is tracked by name whatever else the sketch
saw."""


def _common_categories(cur: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Categories read back from profiles, compared on the ground the sketch can see.

    A frequent-items sketch that could not track every item lumps the rest as
    :data:`~driftscope.monitor.profiled.OTHER`; which rare items it still tracks is chance.
    So (for every categorical column of a model read from profiles, whatever the window)
    both sides keep by name the categories with a share of at least twice the sketch's
    error (:data:`LUMP_SHARE`) on either side — a category new or grown in the window shows
    by name, and so does its reference share — and lump the rest. The reference side then
    depends on the window too: such a column is fitted afresh each window.

    Where neither side holds :data:`OTHER`, both sketches tracked every item (up to 768
    values a column), and both are compared as they are: lumped, 300 categories of
    0.33 % each shifting by a total variation of 0.25 read as no change at all, and 30
    new codes at 0.5 % each as one new value."""
    if cur.dtype.kind == "f" or ref.dtype.kind == "f":
        return cur, ref
    if OTHER not in set(cur.tolist()) and OTHER not in set(ref.tolist()):
        return cur, ref

    def frequent(side: np.ndarray) -> set[Any]:
        counts = Counter(v for v in side.tolist() if v is not None)
        total = sum(counts.values())
        return {c for c, k in counts.items() if c != OTHER and k >= LUMP_SHARE * total}

    kept = frequent(cur) | frequent(ref)

    def lump(side: np.ndarray) -> np.ndarray:
        return np.asarray([v if v is None or v in kept else OTHER for v in side.tolist()],
                          dtype=object)

    return lump(cur), lump(ref)


def _missing_like(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    if like.dtype.kind == "f":
        return np.full(len(values), np.nan)
    return np.full(len(values), None, dtype=object)


def _segments(cfg: MonitorConfig, cur: Frame, ref: Frame, referenced: bool = True,
              keys: Sequence[str] | None = None) -> list[tuple[str, Frame, Frame]]:
    """All events (``*``) and each segment value with ``min_events`` events in the window
    and, when ``referenced``, in the reference too (the quality checks take a segment the
    reference holds too few of, a new value: it is held to the whole reference);
    ``keys``: those keys' values only (default: every key's)."""
    out = [("*", cur, ref)]
    for key in cfg.segments if keys is None else keys:
        values = cur.segments.get(key)
        if values is None:
            continue
        now, then = _rows_of(values), _rows_of(ref.segments.get(key))
        _warn_if_id(cfg, key, now, cur.n)
        none = np.zeros(0, dtype=np.int64)
        for v in sorted(now):
            rows, held = now[v], then.get(v, none)
            if len(rows) >= cfg.min_events and (len(held) >= cfg.min_events or not referenced):
                out.append((f"{key}={v}", cur.take(rows), ref.take(held)))
    return out


def _comparisons(cfg: MonitorConfig, cur: Frame, ref: Frame
                 ) -> list[tuple[str, Frame, Frame, bool]]:
    """What the drift checks compare: each segment of :func:`_segments` with its
    reference, except those of a ``versus_rest`` key — each of its values with
    ``min_events`` events but the window's largest, with the rest of the window (the
    last item: True). In a rollout split at random, the rest is the old version's events
    of the same minutes: any difference is the new version's own (its feature pipeline,
    its outputs), seen in its first window, against no reference of its own, which a
    release broken from its first event would have learnt as normal."""
    out = [(seg, c, r, False) for seg, c, r in _segments(
        cfg, cur, ref, keys=[k for k in cfg.segments if k not in cfg.versus_rest])]
    for key in cfg.versus_rest:
        rows = _rows_of(cur.segments.get(key))
        if not rows:
            continue
        largest = max(rows, key=lambda v: (len(rows[v]), str(v)))
        if len(rows[largest]) <= cur.n - sum(map(len, rows.values())):
            largest = None  # (as many events name no value: all values are compared)
        for v in sorted(rows):
            if v != largest and len(rows[v]) >= cfg.min_events:
                out.append((f"{key}={v}", cur.take(rows[v]), _others(cur, key, v), True))
    return out


def judged_segments(cfg: MonitorConfig, frame: Frame, start: datetime,
                    size: timedelta) -> set[str]:
    """The segments (``key=value``) with ``min_events`` events in one of the windows of
    ``size`` from ``start`` that ``frame`` holds: those :func:`_segments` judges."""
    if not frame.n:
        return set()
    at = ((frame.timestamps - np.datetime64(start.astimezone(UTC).replace(tzinfo=None), "ms"))
          // np.timedelta64(size)).tolist()
    out = set()
    for key in cfg.segments:
        values = frame.segments.get(key)
        if values is not None:
            counts = Counter(zip(values.tolist(), at, strict=True))
            out |= {f"{key}={v}" for (v, _), n in counts.items()
                    if v is not None and n >= cfg.min_events}
    return out


ID_LIKE = (100, 0.9)
"""A segment key with over 100 values in a window, 90 % of them with fewer than
``min_events`` events, is an id (a user, a session): warned of once per process."""
_ID_TOLD: set[tuple[str, str]] = set()


def _warn_if_id(cfg: MonitorConfig, key: str, rows: dict[Any, np.ndarray], n: int) -> None:
    """One WARNING for a segment key that is really an id: each window's values are new
    (one quality alert that never resolves and hides what comes after it), and none holds
    enough events to judge (a reviewer's session-id key: 2,101 values, 29 of 29 windows
    flagged, one alert open for good)."""
    many, share = ID_LIKE
    small = sum(len(r) < cfg.min_events for r in rows.values())
    if len(rows) <= many or small < share * len(rows) or (cfg.name, key) in _ID_TOLD:
        return
    _ID_TOLD.add((cfg.name, key))
    log.warning("monitor %s: segment key %r has %d values in a window of %d events, %d of "
                "them with fewer than min_events=%d: it looks like an id; each window "
                "brings new values (a quality alert that never resolves) and few can be "
                "judged: drop it from segments", cfg.name, key, len(rows), n, small,
                cfg.min_events)


def _rows_of(values: np.ndarray | None) -> dict[Any, np.ndarray]:
    """Each value's row indices, in order, in one pass (a frame masked once per value was
    O(events × values): 24 s a window of 10,000 events whose key was a user id)."""
    if values is None or not len(values):
        return {}
    series = pd.Series(values, dtype=object)
    return {k: np.asarray(ix, dtype=np.int64)
            for k, ix in series.groupby(series, dropna=True, sort=False).indices.items()}


MULTIVARIATE_MISSING_MAX = 0.5
"""A numeric feature missing from more than this share of either side's events is left out
of the multivariate matrix (and named in its row's ``left_out``)."""


def multivariate(ref: Frame, cur: Frame, names: Sequence[str]
                 ) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """The reference's and the window's matrices of the numeric features ``names`` for a
    multivariate detector, and the features left out; None when none is left.

    A value missing (or not finite) is the reference's median of its feature. Before, only
    rows complete in every feature were kept: one feature absent from a window, or 2 %
    of values missing at random among 256, left no row, and the check was skipped without
    a word. A feature missing from over :data:`MULTIVARIATE_MISSING_MAX` of either side's
    events is left out instead (a missing rate the column checks judge)."""
    def share(frame: Frame, name: str) -> float:
        values = frame.columns[name]
        return 1.0 - int(np.isfinite(values).sum()) / max(len(values), 1)

    kept = [n for n in names if n in cur.columns and share(ref, n) <= MULTIVARIATE_MISSING_MAX
            and share(cur, n) <= MULTIVARIATE_MISSING_MAX]
    if not kept:
        return None
    rm, cm = _matrix(ref, kept).astype(float), _matrix(cur, kept).astype(float)
    fill = np.nanmedian(np.where(np.isfinite(rm), rm, np.nan), axis=0)
    rm = np.where(np.isfinite(rm), rm, fill)
    cm = np.where(np.isfinite(cm), cm, fill)
    return rm, cm, [n for n in names if n not in kept]


def _matrix(frame: Frame, names: Sequence[str]) -> np.ndarray:
    cols = [frame.columns[n] for n in names if n in frame.columns]
    return np.column_stack(cols) if cols else np.empty((frame.n, 0))


_TEXT_TOLD: set[tuple[str, str, str]] = set()


def _numeric(monitor: str, p: ProjectionSpec, *frames: Frame) -> bool:
    """Whether ``p``'s features are numbers on both sides. A projection of a feature
    that holds text (configured on a categorical feature, or an app sending numbers as
    strings) is skipped, with a WARNING once per process, not a traceback in every
    window (each retried for ever) and not a stop of the pass: the quality checks
    report the type mismatch."""
    for f in p.features:
        if any(fr.columns[f].dtype.kind != "f" for fr in frames):
            if (monitor, p.name, f) not in _TEXT_TOLD:
                _TEXT_TOLD.add((monitor, p.name, f))
                log.warning("monitor %s: projection %r skipped: feature %r holds text; a "
                            "projection takes numeric features only", monitor, p.name, f)
            return False
    return True


def drift_rows(cfg: MonitorConfig, fitter: Fitter, cur: Frame, ref: Frame,
               noise: SketchNoise | None = None) -> list[Row]:
    """Score every column × segment × detector and apply model-level FDR control
    (``noise``: for columns read back from profiles, the sketch's own error is allowed
    for). A ``versus_rest`` key's segments are scored against the rest of the window
    (:func:`_comparisons`): their rows say so (``details.versus``, reason
    :data:`~driftscope.alerts.model.VERSUS_REST`) and have a fingerprint of their own."""
    static = is_static(cfg.reference)
    scored: list[Scored] = []
    columns = list(cfg.features) + [OUTPUT + o for o in cfg.outputs]
    numeric = _numeric_features(cfg, ref, cur)
    lumped = cur.sketched or ref.sketched
    versus: set[str] = set()  # (the fingerprints of the rows against the rest: a row's
    # segment may read as another key's, when a key holds "=")
    logged = _logged_windows(cfg, ref, columns)
    for seg, c, r, rest in _comparisons(cfg, cur, ref):
        if c.n < cfg.min_events or r.n < cfg.min_events:
            continue
        span = None if rest else ref.bounds  # (the rest: a reference of its own each window)
        pairs = []
        for n in columns:
            if not (n in r.columns and n in c.columns and usable(r.columns[n])):
                continue  # none to compare with: no row
            rv = r.columns[n]
            if n in logged and not rest:  # (its reference's windows from before it was
                # logged say nothing of it: left out; too few left, not scored yet)
                rv = rv[np.isin(window_numbers(r.timestamps, logged[n][0]), logged[n][1])]
                if len(rv) < cfg.min_events:
                    continue
            pairs.append((n, rv, c.columns[n]))
        for p in cfg.projections:
            if all(f in r.columns and f in c.columns and usable(r.columns[f])
                   and usable(c.columns[f]) for f in p.features):  # else nothing to project
                if _numeric(cfg.name, p, r, c):
                    pairs += project(p, _matrix(r, p.features), _matrix(c, p.features))
        matrices: tuple[Any, ...] | None = None  # (the segment's, once: multivariate)
        for det in cfg.detectors:
            fp = fingerprint(det, cfg.reference)
            if rest:  # (a series of their own, and their findings' reason)
                fp = digest(fp, VERSUS_REST)
                versus.add(fp)
            for name, rv, cv in pairs:
                slack = noise.allowance(det, fp, name, rv, cv, c.sketch_k.get(name),
                                        r.sketch_k.get(name)) if noise else 0.0
                # (categories read from profiles: the reference's lump follows the window)
                fixed = static and not rest and not (lumped and rv.dtype.kind != "f")
                s = score_one(fitter, det, fp, seg, name, rv, cv, fixed, slack, span)
                if s is not None:
                    scored.append(s)
            if detector_kind(det.name) != "multivariate":  # (the matrix, built for every
                continue  # detector, was a tenth of a pass of default detectors)
            if matrices is None:  # (the rest: its own, whatever the reference holds)
                names = _numeric_features(cfg, r, c) if rest else numeric
                matrices = (multivariate(r, c, names) if names else None) or ()
            if matrices and min(len(matrices[0]), len(matrices[1])) >= cfg.min_events:
                rm, cm, out = matrices
                s = score_one(fitter, det, fp, seg, "multivariate", rm, cm, static and not rest,
                              span=span, key="multivariate" + "".join(f"-{n}" for n in out))
                if s is not None:
                    if out:  # (the quality checks say why: their missing rates)
                        s = replace(s, score=replace(s.score, details={
                            **s.score.details, "left_out": out}))
                    scored.append(s)
    decided = judge.fdr_control(scored, cfg.fdr.method, cfg.fdr.alpha)
    return [
        Row("drift", s.segment, s.feature, s.detector, s.score.statistic, s.score.threshold,
            s.score.policy, s.score.drifted, s.score.p_value, s.n_ref, s.n_cur, s.fingerprint,
            {**_plain(dict(s.score.details)), "model_level": ok, "min_effect": s.min_effect,
             "fdr": cfg.fdr.method, **({"versus": "rest"} if s.fingerprint in versus else {})},
            ok, VERSUS_REST if s.fingerprint in versus else "fdr")
        for s, ok in zip(scored, decided, strict=True)
    ]


def window_numbers(timestamps: np.ndarray, size: timedelta) -> np.ndarray:
    """Which window of ``size`` each time falls in (windows start on multiples of their
    size since the epoch, as :func:`~driftscope.store.samples.floor_window`)."""
    return timestamps.astype("datetime64[ms]").astype(np.int64) // (size // timedelta(
        milliseconds=1))


def logged_windows(timestamps: np.ndarray, values: np.ndarray, size: timedelta
                   ) -> np.ndarray | None:
    """The windows (:func:`window_numbers`) of ``size`` where ``values`` (at
    ``timestamps``, in time order) has a value at all; None when every window that holds a
    row does, or none does (nothing to leave out)."""
    return _logged_in(_runs(window_numbers(timestamps, size)), values)


def _runs(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct window numbers of rows in time order, and the row each one starts at
    (one pass: a sort of a 12-window reference of 120,000 rows per column was 60 ms)."""
    starts = np.flatnonzero(np.r_[True, windows[1:] != windows[:-1]]) if len(windows) \
        else np.zeros(0, dtype=np.int64)
    return windows[starts], starts


def _logged_in(runs: tuple[np.ndarray, np.ndarray], values: np.ndarray) -> np.ndarray | None:
    """:func:`logged_windows` of the runs of windows of :func:`_runs`."""
    windows, starts = runs
    if not len(starts):
        return None
    total = np.r_[0, np.cumsum(~missing(values), dtype=np.int64)]  # (values so far)
    has = total[np.r_[starts[1:], len(values)]] > total[starts]
    return np.unique(windows[has]) if 0 < int(has.sum()) < len(has) else None


def _logged_windows(cfg: MonitorConfig, ref: Frame, columns: Sequence[str]
                    ) -> dict[str, tuple[timedelta, np.ndarray]]:
    """The columns that a sliding reference (``previous``, ``seasonal``) holds no value
    of in some of its windows, each with the window size and the windows (their
    :func:`window_numbers`) where it has values: the drift checks compare such a column
    with those windows only.

    A column in none of a window's events was not being logged yet (a feature added
    after the others): that window says nothing of its missing rate or its values.
    Before, a feature added to the logs, read against 11 windows from before it and 1
    with it, was flagged for drift (its missing rate fell from 11/12 to 0, an EMD of
    0.92) for 19 windows, one alert, with nothing wrong — and each flagged window was
    left out of the next references. A column all missing in the window judged is
    still held to the windows where it had values (a broken pipeline is flagged)."""
    size = cfg.window
    if cfg.reference.kind not in ("previous", "seasonal") or size is None or ref.sketched \
            or not ref.n:
        return {}
    runs = _runs(window_numbers(ref.timestamps, size))  # (a reference is in time order)
    out = {}
    for name in columns:
        values = ref.columns.get(name)
        held = None if values is None else _logged_in(runs, values)
        if held is not None:
            out[name] = (size, held)
    return out


def _numeric_features(cfg: MonitorConfig, ref: Frame, cur: Frame) -> list[str]:
    """The features numeric on both sides and not all missing in ``ref``: a multivariate
    detector's columns."""
    return [n for n in cfg.features if n in ref.columns and n in cur.columns
            and ref.columns[n].dtype.kind == cur.columns[n].dtype.kind == "f"
            and usable(ref.columns[n])]


def _same_phase(cfg: MonitorConfig, cur: Frame, ref: Frame) -> float:
    """A seasonal reference's expected event count: the same window one period earlier
    (:attr:`Frame.phase_n`). The mean of its ``windows`` windows mixed the quiet hour
    before business hours with the busy one after it: on six days of traffic from 09:00 to
    17:00, 08:00 and 17:00 were flagged every day (60 events, 373 expected)."""
    if ref.phase_n is not None:
        return float(ref.phase_n)
    return ref.n / max(cfg.reference.width, 1)


def quality_rows(
    cfg: MonitorConfig, cur: Frame, ref: Frame, counts: Sequence[int], extra: list[Any],
    silent: quality.QualityResult | None = None, count: int | None = None,
    earlier: Mapping[str, int] | None = None, held: Mapping[str, float] | None = None,
) -> list[Row]:
    """Data-quality rows: column checks overall and per segment; volume and schema overall
    (``silent``: the volume of a window that passed in a silence, instead of its z-score;
    ``count``: the window's event count when ``cur`` holds only a sample of them;
    ``earlier``: the counts of the same window a day and a week before,
    :func:`driftscope.monitor.quality.volume_check`; ``held``: the segment values whose
    traffic fell before, :func:`driftscope.monitor.quality.segment_volume`)."""
    if not cfg.quality.enabled:
        return []
    results: list[tuple[str, quality.QualityResult]] = [("*", q) for q in extra]
    sizes = {}
    domains: dict[str, quality.Domain] = {}  # the whole reference's, once for all segments
    for seg, c, r in _segments(cfg, cur, ref, referenced=False):
        whole = seg == "*"
        sizes[seg] = (r.n, c.n)
        if c.n < cfg.min_events:  # too few events for rates: volume and schema only
            continue
        if not whole and r.n < cfg.min_events:  # a segment new, or too rare for its own
            r = r.take(slice(0, 0))  # rates: held to the whole reference (column_checks)
        # the scalar outputs too: a score missing from half the events, a class "unknown"
        for name in [*cfg.features, *(OUTPUT + o for o in cfg.outputs)]:
            if name in c.columns and name in r.columns:
                if name not in domains:
                    domains[name] = quality.Domain(ref.columns[name])
                domain = domains[name]
                results += [(seg, q) for q in quality.column_checks(
                    name, domain if whole else r.columns[name], c.columns[name], cfg.quality,
                    domain=domain, noise=0.0 if whole else 3.0)]
    expected = None
    if cfg.reference.kind == "seasonal" and ref.bounds and count is None:  # (a sample's
        # reference holds k per window, not the window's count: the history judges it)
        expected = _same_phase(cfg, cur, ref)
    n = cur.n if count is None else count
    # (the history holds anomaly.history counts at most: a shorter one than 8 judged none)
    vol = quality.volume_check(n, counts, expected, cfg.quality,
                               min(8, cfg.anomaly.history), earlier)
    if silent is not None:  # bad as a silence, drawn at its volume z (a dashboard showed
        # 0 on a limit of 0: a stopped stream looked like every normal window)
        vol = silent = replace(silent, value=vol.value if vol else 0.0,
                               limit=cfg.quality.volume_z)
    if vol is not None:
        results.append(("*", vol))
    for key in cfg.segments:  # each segment's traffic against its reference share
        # (not the model version's: a rollout's new version, and the old one's traffic
        # that stops, are what a deploy does, not a fault of the data)
        if key in ref.segments and key != VERSION_KEY:  # a key no event of the window
            # carries: all of it stopped
            now = cur.segments.get(key, np.full(cur.n, None, dtype=object))
            prefix = f"segment:{key}="
            fell = {f[len(prefix):]: s for f, s in (held or {}).items() if f.startswith(prefix)}
            results += [("*", q) for q in quality.segment_volume(
                key, ref.segments[key], now, cfg.quality, cfg.min_events, fell)]
            # values the reference never had (a new country, a renamed one): their share
            # (not one whose traffic fell and comes back: known, twice — not a value seen
            # once, which the unseen mass counts —, the window's share of the others whole)
            old = ref.segments[key][ref.segments[key] != None]  # noqa: E711 (elementwise)
            if fell:
                old = np.concatenate([old, np.array(sorted(fell) * 2, dtype=object)])
            present = now[now != None]  # noqa: E711
            if len(present) >= cfg.min_events and len(old):
                results.append(("*", quality.new_categories(f"segment:{key}", old, present,
                                                            cfg.quality)))
    return [
        Row("quality", seg, q.feature, q.metric, q.value, q.limit, "limit", q.bad,
            n_ref=sizes[seg][0], n_cur=sizes[seg][1], fingerprint="quality", details=q.details,
            bad=q.bad, reason="silence" if q is silent else "limit")
        for seg, q in results
    ]


def performance_rows(cfg: MonitorConfig, cur: Frame, history: History,
                     window: Window | None = None) -> list[Row]:
    """Performance per segment once enough labels arrived, judged by band and anomaly."""
    spec = cfg.performance
    if spec is None or cur.labels is None:
        return []
    rows = []
    period = period_windows(cfg)
    versus = [r for r in cfg.rules if r.versus]  # (each segment they judge: its rest too)
    for seg, c, _ in _segments(cfg, cur, cur):
        measured = _measure(spec, c)
        if measured is None:
            continue
        if seg == "*" and "f1" in measured and not math.isfinite(measured["f1"].value) \
                and c.labels is not None:
            _positive_seen(cfg.name, spec.positive, c.labels)  # (F1 exists where it is)
        compared = {r.metric for r in versus if _in_segment(r.segment, seg, cfg.segments)}
        rest = _measure(spec, _rest(cfg, cur, seg)) if seg != "*" and compared else None
        for metric in spec.chosen():
            m = measured.get(metric)
            # roc_auc without a score, f1 without the class, a metric on fewer rows than
            # min_labels (30 labels but 3 predictions, 2 scores, 27 labels "n/a") …
            if not _enough(m, spec.min_labels):
                continue
            assert m is not None
            row = Row("performance", seg, "*", metric, m.value, math.nan, "none", False,
                      n_cur=c.n, fingerprint="performance",
                      details={"labels": m.n, "standard_error": m.se})
            if m.effective is not None:  # (weighted: a stratified sample's rows)
                row.details["effective_labels"] = round(m.effective, 3)
            r = rest.get(metric) if rest is not None and metric in compared else None
            if r is not None and _enough(r, spec.min_labels):
                row.details["rest"] = {"value": r.value, "labels": r.n, "standard_error": r.se}
                if r.effective is not None:
                    row.details["rest"]["effective_labels"] = round(r.effective, 3)
            # as many past values as the band or the anomaly check uses, whichever more
            # (the anomaly's alone left a band longer than it short of min_history: none)
            past = history(seg, "*", metric, max(cfg.anomaly.history, cfg.band.history) * period)
            _judge_history(cfg, row, past, period, m.se, window)
            rows.append(row)
    return rows


def _measure(spec: PerformanceSpec, c: Frame) -> dict[str, performance.Measured] | None:
    """Each metric of ``c``'s labelled events (None: fewer than ``min_labels`` labels, or
    no prediction column)."""
    if c.labels is None or performance.labelled(c.labels) < spec.min_labels:
        return None
    preds = _predictions(spec, c)
    if preds is None:
        return None
    scores = None
    if spec.score:  # the positive class's probability when the score is a probs list
        scores = c.columns.get(_score_name(spec))
        if scores is None or not usable(scores):
            scores = c.columns.get(OUTPUT + spec.score)
    return performance.measure(spec.task, c.labels, preds, scores, spec.positive, c.weights)


def noise_labels(details: dict[str, Any]) -> float | None:
    """The labels a performance row's sampling noise is that of: its ``effective_labels``
    where its rows were weighted (a stratified sample: fewer than it holds), else its
    ``labels``; None when it records none."""
    n = details.get("effective_labels", details.get("labels"))
    return float(n) if isinstance(n, int | float | np.number) and math.isfinite(n) else None


def _enough(m: performance.Measured | None, min_labels: int) -> bool:
    """A metric that exists, measured on at least ``min_labels`` rows."""
    return m is not None and math.isfinite(m.value) and m.n >= min_labels


def _rest(cfg: MonitorConfig, cur: Frame, seg: str) -> Frame:
    """The window's events outside segment ``seg`` (``key=value``): in a rollout, the
    other versions' (and those naming none)."""
    return _others(cur, *_key_value(cfg.segments, seg))


def _others(cur: Frame, key: str, value: Any) -> Frame:
    """The window's events whose ``key`` is not ``value`` (those naming none too)."""
    return cur.take(np.flatnonzero(cur.segments[key] != value))  # (None != value)


def _key_value(keys: Sequence[str], seg: str) -> tuple[str, str]:
    """A segment row's key and value (``key=value``; a key may hold ``=`` itself: the
    longest configured key it begins with)."""
    key = max((k for k in keys if seg.startswith(k + "=")), key=len, default="")
    return key, seg[len(key) + 1:]


_POSITIVE_TOLD: set[str] = set()


def _positive_seen(monitor: str, positive: str, labels: np.ndarray) -> None:
    """A WARNING, once per monitor and process, when two or more classes are labelled and
    none is ``performance.positive`` (labels ``yes``/``no`` and the default ``"1"``): F1
    and ROC AUC are then never written, and nothing said why."""
    if monitor in _POSITIVE_TOLD:
        return
    seen = {performance.key(v) for v in labels.tolist() if v is not None}
    if len(seen) >= 2 and performance.key(positive) not in seen:
        _POSITIVE_TOLD.add(monitor)
        shown = ", ".join(sorted(seen)[:5]) + (" …" if len(seen) > 5 else "")
        log.warning("monitor %s: performance.positive %r is none of the labels (%s): F1 "
                    "and ROC AUC are not computed; set performance.positive to the positive "
                    "class", monitor, positive, shown)


def _predictions(spec: PerformanceSpec, c: Frame) -> np.ndarray | None:
    """The predicted class or value: of class probabilities (a list), the class number
    with the highest one (read as its largest probability it scored accuracy 0)."""
    if spec.task == "classification":
        top = c.columns.get(_class_name(spec))
        if top is not None and usable(top):
            return top
    return c.columns.get(OUTPUT + spec.prediction)


def _class_name(spec: PerformanceSpec) -> str:
    return f"{OUTPUT}{spec.prediction}[class]"


def _score_name(spec: PerformanceSpec) -> str:
    """The column of the positive class's probability in a ``pred_probs`` score: index
    ``positive`` when it is a class number, else 1 (binary ``[P(no), P(yes)]``)."""
    key = performance.key(spec.positive)
    return f"{OUTPUT}{spec.score}[{int(key) if key.isdigit() else 1}]"


def period_windows(cfg: MonitorConfig) -> int:
    """Windows per seasonal period (1 unless the reference is seasonal)."""
    if cfg.reference.kind != "seasonal" or cfg.window is None:
        return 1
    return max(1, round(cfg.reference.period / cfg.window))


def _judge_history(cfg: MonitorConfig, row: Row, hist: Sequence[tuple[Any, ...]],
                   period: int, se: float = 0.0, window: Window | None = None) -> None:
    """Band and anomaly of a performance value against ``hist``, its past values
    (:class:`~driftscope.monitor.judge.Past`, oldest first; ``window``: the one judged).

    They learn from good values only, and not from the :data:`~judge.QUARANTINE` windows
    after a bad one (:func:`judge.usable`), so a lasting fall is not learnt as the new
    normal; after a bad window the bounds are narrower (:data:`judge.HOLD`), so its alert
    ends when the metric is back near its normal. With a seasonal reference both take
    the values of the same phase (:func:`judge.same_phase`): the anomaly check took the
    last 48 windows whatever their hour, and an accuracy lower every night paged every
    night.

    ``se``: the value's own standard error. The history's spread less its windows'
    sampling noise, plus this value's noise, is what it is held to: a window of 25
    labels after windows of 1,000 is not (23.7 % of them were flagged at a steady
    accuracy), and windows of 25 labels in the history do not blind the band to a real
    fall measured on 1,000. An accuracy's noise is taken at the history's level (the
    binomial standard error of what is expected, not of the fall being judged)."""
    past = [judge.Past(*p) for p in hist]
    hold = judge.HOLD if judge.held(past) else 1.0
    if hold < 1:
        row.details["held"] = True
    good = judge.same_phase(judge.usable(past), window.start if window else None,
                            window.size * period if window else None, period)
    bounded = row.metric in judge.LOWER_IS_WORSE
    band = good[: cfg.band.history]  # (the newest)
    band_hist, band_se = [p.value for p in band], [p.se for p in band]
    labels = noise_labels(row.details)
    if row.metric == "accuracy" and band_hist and labels:
        se = performance.binomial_se(float(np.mean(band_hist)), labels)
    if cfg.band.enabled and len(band_hist) >= cfg.band.min_history:
        lo, hi = judge.predicted_range(band_hist, cfg.band.k * hold, se, band_se, bounded)
        row.threshold = lo if row.metric in judge.LOWER_IS_WORSE else hi
        row.policy = "band"
        row.details["band"] = [lo, hi]
        if judge.performance_bad(row.metric, row.statistic, lo, hi):
            row.bad, row.drifted, row.reason = True, True, "band"
    recent = good[: cfg.anomaly.history]
    an_hist, an_se = [p.value for p in recent], [p.se for p in recent]
    if cfg.anomaly.enabled and len(an_hist) >= cfg.anomaly.min_history:
        z = judge.robust_z(row.statistic, an_hist, se, an_se, bounded)
        row.details["robust_z"] = z
        med, scale = judge.robust_spread(an_hist, se, an_se, bounded)
        limit = cfg.anomaly.z * hold
        lo, hi = med - limit * scale, med + limit * scale
        row.details["anomaly"] = [lo, hi]
        if z > limit and judge.performance_bad(row.metric, row.statistic, med, med) \
                and not row.bad:  # the bound it crossed is the finding's (not the band's)
            row.bad, row.drifted, row.reason, row.policy = True, True, "anomaly", "anomaly"
            row.threshold = lo if row.metric in judge.LOWER_IS_WORSE else hi


def apply_rules(cfg: MonitorConfig, rows: list[Row]) -> None:
    """Fixed rules on any metric (``accuracy < 0.9``, ``missing_rate > 0.05`` …).

    A performance value fires when it is beyond the bound by more than ``beyond_noise`` of
    its standard errors (:func:`_rule_noise`; ``accuracy < 0.85`` at a steady 0.90 on 25
    labels a window flagged 232 of 1,000 windows at the bound itself). One that crosses the
    bound within that is not bad; its details say so (``rule_within_noise``)."""
    fired: set[int] = set()  # (the rows a rule fired on: id)
    for rule in cfg.rules:
        for row in rows:
            if row.metric != rule.metric or rule.feature not in ("*", row.feature) \
                    or not _in_segment(rule.segment, row.segment, cfg.segments):
                continue
            rest = row.details.get("rest") if rule.versus else None
            if rule.versus and rest is None:  # (all events', or a rest of too few labels)
                continue
            if row.kind == "performance" and not rule.versus:  # the bound it is held to,
                # every window: the panel draws it, not the band's limit in the windows
                # the rule let be (a limit that jumped between the two, and none at all
                # where the value crossed the bound within its noise)
                row.details.setdefault("rule_bound", rule.value)
            value = row.statistic - rest["value"] if rest else row.statistic
            if not judge.rule_breached(rule.op, value, rule.value):
                continue
            noise = _difference_noise(row, rest, rule.value) if rest else \
                _rule_noise(row, rule.value)
            margin = rule.beyond_noise * noise
            moved = value + (margin if rule.op in ("<", "<=") else -margin)
            said: dict[str, Any] = {"op": rule.op, "bound": rule.value, "noise": noise,
                                    "beyond_noise": rule.beyond_noise}
            if rest:
                said |= {"versus": "rest", "difference": value}
            if margin and not judge.rule_breached(rule.op, moved, rule.value):
                if id(row) not in fired:
                    row.details["rule_within_noise"] = said
                continue
            fired.add(id(row))
            row.bad, row.drifted = True, True
            if row.reason != VERSUS_REST:  # (a segment against the rest of its window
                row.reason = "rule"  # stays one: no drift of the model's data)
            # (versus the rest: the bound on the segment's own value, beside it on a panel)
            row.threshold = rule.value + (rest["value"] if rest else 0.0)
            row.policy = (f"rule {rule.op} rest {rule.value:+g}" if rest else
                          f"rule {rule.op} {rule.value:g}")
            row.details.pop("rule_within_noise", None)
            if margin or rest:
                row.details["rule"] = said


def _in_segment(wanted: str | None, segment: str, keys: Sequence[str]) -> bool:
    """Whether a row of ``segment`` is one a rule's ``segment`` judges: unset, every row;
    ``*`` all events'; a key (one of ``keys``) each of its values'; ``key=value`` that
    one."""
    return wanted is None or segment == wanted or (
        wanted in keys and segment != "*" and _key_value(keys, segment)[0] == wanted)


def _difference_noise(row: Row, rest: dict[str, Any], bound: float) -> float:
    """The sampling error of a segment's value less its window's rest's, for a rule at
    difference ``bound``: for accuracy, both sides' binomial errors at the rates the
    bound would make them, keeping the window's rate (``p2 = pooled - n1 * bound /
    (n1 + n2)``, ``p1 = p2 + bound``; at a bound of 0 the pooled two-proportion error),
    as a plain rule's is the bound's: not at their measured rates (a canary right on all
    its labels by luck has an error of 0 there). Simulated, a 10 % canary at the bound
    (0.85 against 0.90, about 100 labels of 1,000; ``benchmarks/canary.py --calibration
    200000``): fired in 15.9 % of windows at one error, as one-sided 1 sigma should; the
    pooled rate's 19.0 %, the measured rates' 14.1 %. Else both rows' errors in
    quadrature."""
    n1, n2 = noise_labels(row.details), noise_labels(rest)  # (effective, if weighted)
    if row.metric == "accuracy" and n1 and n1 > 0 and n2 and n2 > 0:
        pooled = (row.statistic * n1 + rest["value"] * n2) / (n1 + n2)
        p2 = min(max(pooled - n1 * bound / (n1 + n2), 0.0), 1.0)
        p1 = min(max(p2 + bound, 0.0), 1.0)
        return float(math.hypot(performance.binomial_se(p1, n1),
                                performance.binomial_se(p2, n2)))
    se1, se2 = row.details.get("standard_error"), rest.get("standard_error")
    parts = [float(x) for x in (se1, se2)
             if isinstance(x, int | float | np.number) and math.isfinite(x)]
    return float(math.sqrt(sum(x * x for x in parts)))


def _rule_noise(row: Row, bound: float) -> float:
    """A performance value's sampling error for a rule at ``bound`` (0: none known, a
    quality or drift row): :func:`performance.rule_noise` of the row's labels (effective,
    where weighted: :func:`noise_labels`) and standard error."""
    se = row.details.get("standard_error")
    if row.kind != "performance" or not isinstance(se, int | float | np.number):
        return 0.0
    return performance.rule_noise(row.metric, bound, noise_labels(row.details), float(se))


def persistence_check(
    cfg: MonitorConfig, rows: Sequence[Row], now: tuple[Frame, Frame],
    before: Callable[[int], tuple[Frame, Frame]],
    before_drifted: Callable[[], Sequence[str]] = tuple,
    joint: bool = True,
    ordered: bool = True,
) -> tuple[bool, bool, float | None]:
    """Whether the window before moved this window's way on its drifted columns.

    The columns drifted over all events (segment ``*``) are checked; ``now``: this
    window and its reference; ``before(j)``: the ``j``-th window before this one and its
    reference (called only when a column drifted; ``j = 1`` is the previous window,
    ``3 … baseline + 2`` the baseline: the window between is left out, a slow drift may
    already be in it). Returns :func:`persistence.check`'s ``(carried, follows, t)``;
    ``(False, True, None)`` when nothing is to check
    (:mod:`driftscope.monitor.persistence`). ``before_drifted()``: the columns the window
    before drifted on, when known (the drift before has ended when this window keeps
    less than half of its move along them); called only when a column drifted.
    ``ordered``: whether to look inside the window for a drift that stopped partway
    (:func:`persistence.stopped`; the window's events are also needed: not for windows
    read back from profiles).
    """
    spec = cfg.persistence
    cur, ref = now
    names = sorted({r.feature for r in rows if r.kind == "drift" and r.bad and r.segment == "*"
                    and r.feature in cur.columns and r.feature in ref.columns})
    if not spec.enabled or not names:
        return False, True, None
    here = {n: persistence.shifts(ref.columns[n], cur.columns[n]) for n in names}
    base = [_shifts(cfg, names, *before(j)) for j in range(3, spec.baseline + 3)]
    base = [s for s in base if s]  # windows with too few events do not count
    prev = before(1)
    was = [n for n in before_drifted() if n in cur.columns and n in ref.columns]
    return persistence.check(here, _shifts(cfg, names, *prev), base,
                             {n: ref.columns[n] for n in names}, spec.alpha, spec.follow_alpha,
                             spec.fade_alpha, spec.jump_ratio,
                             persistence.reference_error(cur.n, ref.n),
                             persistence.size_ratio(prev[0].n, cur.n, ref.n),
                             directed_alpha=spec.directed_alpha,
                             before_flagged=_shifts(cfg, was, *prev),
                             now_on_before={n: persistence.shifts(ref.columns[n], cur.columns[n])
                                            for n in was},
                             before_reference={n: ref.columns[n] for n in was},
                             joint=joint,
                             window={n: cur.columns[n] for n in names}
                             if ordered and spec.stop_alpha is not None and not cur.sketched
                             else None,
                             stop_alpha=spec.stop_alpha)


def _shifts(
    cfg: MonitorConfig, names: Sequence[str], cur: Frame, ref: Frame
) -> dict[str, persistence.Shift]:
    """Shifts of columns in one window with enough events (else none)."""
    if min(cur.n, ref.n) < cfg.min_events:
        return {}
    return {n: persistence.shifts(ref.columns[n], cur.columns[n]) for n in names
            if n in cur.columns and n in ref.columns}


def verdict(
    cfg: MonitorConfig, window: Window, n: int, rows: list[Row], ref: str,
    carried: bool = False, persistence_z: float | None = None, follows: bool = True,
    labels_start: datetime | None = None, unjudged: frozenset[str] = frozenset(),
) -> WindowVerdict:
    """The window's judgement: the bad rows as findings, the overall metrics
    (``labels_start``: the window the performance rows measure, when not this one;
    ``unjudged``: kinds of check it could not make). Each finding's note says what is
    wrong from its row's details (the new values, the reference range …)."""

    findings = tuple(
        Finding(r.kind, r.segment, r.feature, r.metric, r.statistic, r.threshold, r.policy,
                r.reason, note(r.kind, r.metric, r.details))
        for r in rows if r.bad
    )
    overall = [r for r in rows
               if r.kind == "performance" and r.segment == "*" and math.isfinite(r.statistic)]
    metrics = {r.metric: r.statistic for r in overall}
    # (each metric's labels and standard error: a performance_below retraining policy
    # holds it to its bound beyond that noise, as a rule is held)
    noise = {r.metric: (noise_labels(r.details), float(se)) for r in overall
             if isinstance(se := r.details.get("standard_error"), int | float | np.number)}
    return WindowVerdict(cfg.model, cfg.name, window.start, window.end, n, findings, metrics,
                         ref, sum(r.kind == "drift" for r in rows), carried and bool(findings),
                         persistence_z, follows, labels_start, unjudged, judged(cfg, rows),
                         noise=noise)


def judged(cfg: MonitorConfig, rows: list[Row]) -> frozenset[str] | None:
    """With segments configured, the checks the window made in each segment
    (``drift:country=FR``; :func:`driftscope.alerts.rules.waits`): an alert about a segment
    missing here (too few events in the window or the reference) waits. None without."""
    if not cfg.segments:
        return None
    return frozenset(f"{c}:{r.segment}" for r in rows if r.segment != "*"
                     and (c := check_of(r.kind, r.metric, r.reason)) is not None)


def _plain(obj: Any) -> Any:
    """Details made JSON-safe (numpy scalars and arrays, tuples, non-finite floats)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist()) if obj.size <= 64 else f"array{obj.shape}"
    if isinstance(obj, np.generic):
        return _plain(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj if isinstance(obj, str | int | float | bool | type(None)) else str(obj)


def details_json(row: Row) -> str:
    return json.dumps(_plain(row.details), sort_keys=True)
