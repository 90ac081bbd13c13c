"""Events of a time range as columns: the monitor's view of the store.

Reading SQL lives here (against the ``windows``, ``events``, ``feedback`` and
``reference_events`` tables, names from :mod:`driftscope.store.schema`); the rest of
the monitor works on :class:`Frame` objects: numeric columns are float64 arrays with
``NaN`` for missing values, categorical ones object arrays with ``None`` (a read's hold
one string object per value, :func:`one_per_value`).

Output columns are named ``output:<key>``; a ``pred_probs`` entry becomes
``output:<key>`` holding the largest class probability, and ``output:<key>[j]`` (when
asked for) its ``j``-th class probability. Every name asked for is a column, all
missing when no event has it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from driftscope.durations import as_utc
from driftscope.monitor.config import VERSION_KEY
from driftscope.store import labels as store_labels
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
from driftscope.store.samples import bottom_k, bottom_k_params, floor_window
from driftscope.types import Window

OUTPUT = "output:"


@dataclass(frozen=True)
class Frame:
    """Columns of a set of events, in timestamp order."""

    timestamps: np.ndarray  # datetime64[ms], sorted
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    segments: dict[str, np.ndarray] = field(default_factory=dict)
    labels: np.ndarray | None = None
    bounds: tuple[datetime, datetime] | None = None  # the range read, when known
    # column → the KLL sketch's k, for columns read back from profiles (monitor/profiled)
    sketch_k: dict[str, int] = field(default_factory=dict)
    sketched: bool = False  # read back from profiles (values, not events)
    mixed: frozenset[str] = frozenset()  # names read as numbers and strings both
    # a seasonal reference's: the events of the window one period before the one judged
    # (its volume expectation), counted before any window was left out of the reference
    phase_n: int | None = None
    # how many of the window's events each row stands for, where rows stand for different
    # numbers (a sample stratified by a segment: :func:`sample_weight`); None: alike
    weights: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.timestamps)

    def column(self, name: str) -> np.ndarray | None:
        return self.columns.get(name)

    def take(self, idx: np.ndarray | slice) -> Frame:
        """The rows selected by a mask, index array or slice."""
        return Frame(
            self.timestamps[idx],
            {k: v[idx] for k, v in self.columns.items()},
            {k: v[idx] for k, v in self.segments.items()},
            None if self.labels is None else self.labels[idx],
            sketch_k=self.sketch_k,
            sketched=self.sketched,
            weights=None if self.weights is None else self.weights[idx],
        )

    def between(self, start: datetime, end: datetime) -> Frame:
        """Rows with ``start <= timestamp < end`` (timestamps are sorted)."""
        lo, hi = np.searchsorted(self.timestamps, [_np_time(start), _np_time(end)])
        return replace(self.take(slice(int(lo), int(hi))), bounds=(start, end))

    def segment(self, key: str, value: str) -> Frame:
        seg = self.segments.get(key)
        if seg is None:
            return self.take(np.zeros(self.n, dtype=bool))
        return self.take(seg == value)


def concat(first: Frame, then: Frame) -> Frame:
    """Two reads of consecutive ranges with the same names as one frame (the range of
    both). A name read as numbers in one and as strings in the other keeps the kind of
    more of its values (numbers on a tie), the other's as missing, as one read of both
    would; it is ``mixed`` in the result."""
    columns: dict[str, np.ndarray] = {}
    mixed = set(first.mixed | then.mixed)
    for name in dict.fromkeys([*first.columns, *then.columns]):
        a, b = (f.columns.get(name, np.full(f.n, np.nan)) for f in (first, then))
        if (a.dtype.kind == "f") != (b.dtype.kind == "f"):
            num, text = (a, b) if a.dtype.kind == "f" else (b, a)
            numbers, strings = _present(num), _present(text)
            if numbers and strings:
                mixed.add(name)
            if strings > numbers:
                a, b = (c if c is text else np.full(len(c), None, dtype=object) for c in (a, b))
            else:
                a, b = (c if c is num else np.full(len(c), np.nan) for c in (a, b))
        columns[name] = np.concatenate([a, b])
    segments = {key: np.concatenate([f.segments.get(key, np.full(f.n, None, dtype=object))
                                     for f in (first, then)])
                for key in dict.fromkeys([*first.segments, *then.segments])}
    labels = None if first.labels is None or then.labels is None else \
        np.concatenate([first.labels, then.labels])
    bounds = (first.bounds[0], then.bounds[1]) if first.bounds and then.bounds else None
    weights = None if first.weights is None and then.weights is None else np.concatenate(
        [np.ones(f.n) if f.weights is None else f.weights for f in (first, then)])
    return Frame(np.concatenate([first.timestamps, then.timestamps]), columns, segments,
                 labels, bounds=bounds, mixed=frozenset(mixed),
                 sketch_k={**first.sketch_k, **then.sketch_k},  # (read from profiles)
                 sketched=first.sketched or then.sketched, weights=weights)


_NONE = np.array(None, dtype=object)


def missing(values: np.ndarray) -> np.ndarray:
    """Which entries of a column are missing: ``NaN`` in a numeric one, ``None`` in a
    categorical one (compared in one vectorised pass: a loop over the values was a
    tenth of a pass over a wide model's window).

    >>> missing(np.array(["a", None, "b"], dtype=object)).tolist()
    [False, True, False]
    >>> missing(np.array([1.0, np.nan])).tolist()
    [False, True]
    """
    if values.dtype.kind == "f":
        return np.isnan(values)
    try:
        return np.equal(values, _NONE)
    except (TypeError, ValueError):  # (values that are arrays, from the Python API)
        return np.asarray([v is None for v in values.tolist()], dtype=bool)


def _np_time(t: datetime) -> np.datetime64:
    return np.datetime64(t.astimezone(UTC).replace(tzinfo=None), "ms")


def closed_windows(
    store: Store,
    model_id: str,
    size: timedelta,
    since: datetime | None = None,
    until: datetime | None = None,
    closed_before: datetime | None = None,
) -> list[tuple[Window, int]]:
    """Closed windows of ``model_id`` of this size, oldest first, with their event counts.

    ``closed_before`` keeps only windows first closed before that time (a settling delay
    for stragglers from other partitions)."""
    sql, params = closed_query(model_id, size, since, until, closed_before)
    rows = store.query(f"{sql} ORDER BY {S.WINDOWS.window_start}", params)
    return [(Window(model_id, as_utc(r[0]), size), int(r[1])) for r in rows]


def closed_query(
    model_id: str, size: timedelta, since: datetime | None = None,
    until: datetime | None = None, closed_before: datetime | None = None,
    starts: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The query of :func:`closed_windows`, unordered: ``window_start`` and the event
    count of each window, with its parameters (``m``, ``s``, and ``since``, ``until``,
    ``cb`` when given). With ``starts``, the start alone, of a row of each (of several,
    some): a window is first closed before ``closed_before`` when one of its rows is, so
    no aggregation (:func:`driftscope.monitor.results.read_from`'s subquery)."""
    where = [f"{S.WINDOWS.model_id} = {{m:String}}", f"{S.WINDOWS.window_seconds} = {{s:UInt32}}"]
    params: dict[str, Any] = {"m": model_id, "s": int(size.total_seconds())}
    if since is not None:
        where.append(f"{S.WINDOWS.window_start} >= {{since:DateTime64(3, 'UTC')}}")
        params["since"] = as_utc(since)
    if until is not None:
        where.append(f"{S.WINDOWS.window_end} <= {{until:DateTime64(3, 'UTC')}}")
        params["until"] = as_utc(until)
    settled = "{cb:DateTime64(3, 'UTC')}"
    if closed_before is not None:
        params["cb"] = as_utc(closed_before)
    if starts:
        if closed_before is not None:
            where.append(f"{S.WINDOWS.closed_at} <= {settled}")
        return (f"SELECT {S.WINDOWS.window_start} FROM {S.WINDOWS} "
                f"WHERE {' AND '.join(where)}", params)
    having = "" if closed_before is None else f" HAVING min({S.WINDOWS.closed_at}) <= {settled}"
    return (f"SELECT {S.WINDOWS.window_start}, max({S.WINDOWS.n_events}) FROM {S.WINDOWS} "
            f"WHERE {' AND '.join(where)} GROUP BY {S.WINDOWS.window_start}{having}", params)


_SPAN = ("model_id = {m:String} AND window_seconds = {s:UInt32} AND "
         "window_start >= {a:DateTime64(3, 'UTC')} AND window_start < {b:DateTime64(3, 'UTC')}")
"""A model's windows of one size starting in [a, b), in ``window_parts`` or ``windows``
(both name the columns so), with the parameters :func:`_span` gives."""


def _span(model_id: str, size: timedelta, start: datetime, end: datetime) -> dict[str, Any]:
    return {"m": model_id, "s": int(size.total_seconds()), "a": as_utc(start), "b": as_utc(end)}


def first_closed(store: Store, model_id: str, size: timedelta, start: datetime,
                 end: datetime) -> dict[datetime, datetime | None]:
    """Each window of ``size`` starting in [start, end) that the collector flushed events
    of (``window_parts``) or closed (``windows``): when it first closed, None while it is
    not closed yet (a lagging member of the collector's group still holds it open)."""
    P, Wn = S.WINDOW_PARTS, S.WINDOWS
    rows = store.query(
        f"SELECT window_start, minOrNull(closed) FROM (SELECT {P.window_start} AS window_start, "
        f"CAST(NULL AS Nullable(DateTime64(3, 'UTC'))) AS closed FROM {P} WHERE {_SPAN} "
        f"UNION ALL SELECT {Wn.window_start}, {Wn.closed_at} FROM {Wn} WHERE {_SPAN}) "
        f"GROUP BY window_start", _span(model_id, size, start, end))
    return {as_utc(r[0]): None if r[1] is None else as_utc(r[1]) for r in rows}


def part_counts(
    store: Store, model_id: str, size: timedelta, start: datetime, end: datetime
) -> list[tuple[datetime, int]]:
    """Event counts of the windows starting in [start, end), summed from the collector's
    per-flush ``window_parts`` (late events included): the count of a model logged
    without raw events, whose sample holds only k of them."""
    P = S.WINDOW_PARTS
    rows = store.query(
        f"SELECT {P.window_start}, sum({P.n}) FROM {P} WHERE {_SPAN} "
        f"GROUP BY {P.window_start} ORDER BY {P.window_start}", _span(model_id, size, start, end))
    return [(as_utc(r[0]), int(r[1])) for r in rows]


def window_counts(
    store: Store, model_id: str, size: timedelta, before: datetime, limit: int,
    parts: bool = False,
) -> list[tuple[datetime, int]]:
    """Stored event counts of the (up to) ``limit`` windows before ``before``: the volume
    history, counted from ``events`` itself rather than trusted from ``windows`` (with
    ``parts``: from ``window_parts``, for a model logged without raw events)."""
    start = as_utc(before) - limit * size
    if parts:
        return part_counts(store, model_id, size, start, before)
    return sorted(stored_counts(store, model_id, size, start, before).items())


MAX_SILENT_WINDOWS = 100
"""The most empty windows of one silence that are judged (the latest ones)."""


@dataclass(frozen=True)
class Silence:
    """A model's stream has been silent: nothing ingested for ``idle`` (wall time) since
    its last event at ``last_event``. ``windows``: the windows that have passed since in
    event time (the one holding the last event first, with its count; then empty ones):
    event time is taken to have moved on like the wall clock, less the lateness the
    collector allows."""

    idle: timedelta
    last_event: datetime
    windows: list[tuple[Window, int]]


def silence(
    store: Store, model_id: str, size: timedelta, now: datetime, after: timedelta,
    lateness: timedelta,
) -> Silence | None:
    """The model's :class:`Silence` when nothing was stored for ``after`` or longer (by
    the collector's flushes, ``window_parts``, which every logging mode writes).

    The collector closes a window when a later event passes it; a stream that stops
    leaves its last window open and no window after it. This closes them by the wall
    clock: from the window of the last event up to ``last event + idle − lateness``."""
    P = S.WINDOW_PARTS  # written by every logging mode, at each flush
    rows = store.query(
        f"SELECT count(), max({P.max_event_time}), max({P.created_at}) FROM {P} "
        f"WHERE {P.model_id} = {{m:String}} AND {P.window_start} >= (SELECT "
        f"max({P.window_start}) FROM {P} WHERE {P.model_id} = {{m:String}}) - toIntervalDay(1)",
        {"m": model_id})
    if not rows or not rows[0][0]:
        return None
    last, ingested = as_utc(rows[0][1]), as_utc(rows[0][2])
    idle = as_utc(now) - ingested
    if idle < after:
        return None
    # the collector keeps open every window ending after last - lateness (its watermark)
    first = Window(model_id, floor_window(last - lateness, size), size)
    passed = int((last + idle - lateness - first.start) // size)  # windows wholly passed
    if passed < 1:
        return Silence(idle, last, [])
    held = part_counts(store, model_id, size, first.start, last + size)  # with events
    busy = [(Window(model_id, t, size), n) for t, n in held if (t - first.start) // size < passed]
    # a stream silent for months (a retired model) is judged on its latest windows only
    quiet_from = int((held[-1][0] - first.start) // size) + 1 if held else 0
    empty = range(max(quiet_from, passed - MAX_SILENT_WINDOWS), passed)
    windows = [Window(model_id, first.start + i * size, size) for i in empty]
    return Silence(idle, last, [*busy, *((w, 0) for w in windows)])


@dataclass(frozen=True)
class Sampled:
    """A model logged without raw events (``logging: [sample]``): its events are read
    from each window's bottom-k sample, ``k`` per stratum, of windows of ``seconds``."""

    k: int
    seconds: int


@dataclass(frozen=True)
class Profiled:
    """A model logged only as whylogs profiles (``logging: [profile]``): its windows of
    ``seconds`` are read from their merged profiles (:mod:`driftscope.monitor.profiled`);
    ``seed`` fixes the shuffle of each column."""

    seconds: int
    seed: int = 0


Source = Sampled | Profiled | None
"""Where a model's events are read from: raw events (None), samples or profiles."""


def stored_counts(store: Store, model_id: str, size: timedelta, start: datetime,
                  end: datetime, source: Source = None) -> dict[datetime, int]:
    """What is stored of each window of ``size`` starting in [start, end): its events
    (for a sampled model, its sample candidates; for a profiled one, the events its
    profiles count). A window whose rows ``store.retention`` deleted has less or none."""
    if source is None:
        return {w: n for w, (n,) in _per_window(store, model_id, size, start, end,
                                                "count()").items()}
    T = S.SAMPLES if isinstance(source, Sampled) else S.PROFILES
    what = "count()" if isinstance(source, Sampled) else f"sum({S.PROFILES.n})"
    sql = (f"SELECT {T.window_start}, {what} FROM {T} WHERE {T.model_id} = {{m:String}} "
           f"AND {T.window_seconds} = {{s:UInt32}} "
           f"AND {T.window_start} >= {{a:DateTime64(3, 'UTC')}} "
           f"AND {T.window_start} < {{b:DateTime64(3, 'UTC')}} GROUP BY {T.window_start}")
    params = {"m": model_id, "s": int(size.total_seconds()), "a": as_utc(start),
              "b": as_utc(end)}
    return {as_utc(r[0]): int(r[1]) for r in store.query(sql, params)}


@dataclass(frozen=True)
class Marks:
    """What was stored when a range of raw events was read, to tell later whether a read
    of it still holds: each window's event count and a sum of its events' hashes (an event
    stored late, or deleted, changes them). (Not its labels: a read kept with them reads
    them again, :meth:`driftscope.monitor.scheduler.Monitor._read`.)"""

    windows: dict[datetime, tuple[int, int]]

    def agree(self, now: Marks, start: datetime, end: datetime) -> bool:
        """Whether ``now`` finds the events of every window in [start, end) as these
        marks did."""
        keys = {w for w in (*self.windows, *now.windows) if start <= w < end}
        return all(self.windows.get(w, (0, 0)) == now.windows.get(w, (0, 0)) for w in keys)

    def then(self, later: Marks) -> Marks:
        """These marks followed by ``later``'s windows (a read extended by a later one)."""
        return Marks({**self.windows, **later.windows})


def stored_marks(store: Store, model_id: str, size: timedelta, start: datetime,
                 end: datetime) -> Marks:
    """The :class:`Marks` of the raw events in [start, end), taken before reading them."""
    E = S.EVENTS
    windows = _per_window(store, model_id, size, start, end, "count()",
                          f"sum(cityHash64({E.event_id}, {E.kafka_partition}, "
                          f"{E.kafka_offset}))")
    return Marks({w: (n, h) for w, (n, h) in windows.items()})


def _per_window(store: Store, model_id: str, size: timedelta, start: datetime,
                end: datetime, *aggregates: str) -> dict[datetime, tuple[int, ...]]:
    """``aggregates`` (whole numbers) of the raw events of each window of ``size`` starting
    in [start, end)."""
    E = S.EVENTS
    rows = store.query(
        f"SELECT toStartOfInterval({E.timestamp}, toIntervalSecond({{s:UInt32}})) AS w, "
        f"{', '.join(aggregates)} FROM {E} WHERE {E.model_id} = {{m:String}} "
        f"AND {E.timestamp} >= {{a:DateTime64(3, 'UTC')}} "
        f"AND {E.timestamp} < {{b:DateTime64(3, 'UTC')}} GROUP BY w",
        {"m": model_id, "s": int(size.total_seconds()), "a": as_utc(start), "b": as_utc(end)})
    return {as_utc(r[0]): tuple(int(v) for v in r[1:]) for r in rows}


def still_stored(windows: list[tuple[Window, int]], stored: dict[datetime, int],
                 sampled: bool) -> list[tuple[Window, int]]:
    """The windows whose data is (mostly) still there: an empty window (a silence) is; one
    the collector counted events in needs at least half of them stored (any, for a sample,
    which keeps k of them) — a window ``store.retention`` emptied, or half emptied, is not
    judged (as empty, or as a volume drop)."""
    return [(w, n) for w, n in windows
            if n == 0 or stored.get(w.start, 0) > (0 if sampled else n // 2)]


def read_events(
    store: Store,
    model_id: str,
    start: datetime,
    end: datetime,
    names: Sequence[str],
    *,
    labels: bool = False,
    horizon: timedelta = store_labels.DEFAULT_HORIZON,
    skew: timedelta = store_labels.DEFAULT_SKEW,
    source: Source = None,
    on_time: bool = False,
    versions: bool = False,
) -> Frame:
    """Events of ``model_id`` with ``start <= timestamp < end`` (``on_time``: not those that
    came after their window had closed, ``late``; raw events only) (``source``: those in
    the windows' samples, as :func:`driftscope.collector.reader.load_window_sample`, or
    the windows' profiles as :func:`driftscope.monitor.profiled.read_profiles`)
    (``versions``: with the segment :data:`VERSION_KEY`, as :func:`read_frame`).

    With ``labels``, an event's label is the latest feedback label given from ``skew``
    before its time to ``horizon`` after it (``collector.feedback_skew``,
    ``collector.feedback_horizon``), else the label sent with the prediction, else None —
    as :func:`driftscope.collector.reader.load_window_rows` (:mod:`driftscope.store.labels`).
    """
    if isinstance(source, Profiled):
        from driftscope.monitor.profiled import read_profiles

        assert not labels, "profiles hold no labels"
        return read_profiles(store, model_id, start, end, names, source)
    sampled = source
    E = S.SAMPLES if sampled else S.EVENTS
    in_range, params = _in_range(E, model_id, start, end, horizon, skew)
    # (raw events: a later read_labels of them lines up; each event once, _once)
    order = f"{_total_order(E)} {_once(E)}"
    if on_time and not sampled:
        in_range += f" AND NOT e.{S.EVENTS.late}"
    weight_sql, weigh = None, ""
    if sampled:  # the k smallest hashes of each window and stratum (a window's sample)
        where, order = bottom_k("e")
        in_range += where
        params.update(bottom_k_params(start, sampled.seconds, sampled.k))
        weight_sql, weigh = sample_weight(in_range, order)
    label_sql, join = _label_join(E, in_range) if labels else ("NULL", "")
    frame = read_frame(store, E, f"{E} AS e{weigh}{join} WHERE {in_range} ORDER BY {order}",
                       f"{E} AS e WHERE {in_range}", params, names, label_sql, versions,
                       weight_sql)
    if sampled:  # in time order, as the frame wants
        frame = frame.take(np.argsort(frame.timestamps, kind="stable"))
    return replace(frame, bounds=(as_utc(start), as_utc(end)))


def sample_weight(in_range: str, order: str) -> tuple[str, str]:
    """How many of its window's events each row of a sample read stands for (SQL), and
    the ``LEFT JOIN`` it needs, for a read of ``samples`` (alias ``e``) matching
    ``in_range`` in ``order`` (:func:`driftscope.store.samples.bottom_k`; parameter
    ``k``).

    The collector keeps ``sample_size`` events a stratum whatever its share of the
    traffic (``sample_stratify_by``), and stores no count of a stratum's events. A stratum
    whose sample holds fewer than ``k`` events holds them all (each stands for itself);
    one of ``k`` is estimated from its ``k`` smallest hashes, uniform over the 64 bits of
    :func:`driftscope.collector.sampling.sample_hash`: ``(k - 1) / (h_k / 2^64)`` events
    (the k-minimum-values estimate, unbiased, about ``1 / sqrt(k - 2)`` off: 14 % at 50),
    each row ``1 / k`` of them. Only the weights' ratios matter to a metric
    (:func:`driftscope.monitor.performance.measure`): with one stratum they are all alike.
    """
    Sm = S.SAMPLES
    join = (f" LEFT JOIN (SELECT ws, st, count() AS m, max(h) AS hk FROM (SELECT "
            f"e.{Sm.window_start} AS ws, e.{Sm.stratum} AS st, e.{Sm.hash} AS h FROM {Sm} AS e "
            f"WHERE {in_range} ORDER BY {order}) GROUP BY ws, st) AS sw "
            f"ON e.{Sm.window_start} = sw.ws AND e.{Sm.stratum} = sw.st")
    k = "{k:UInt64}"
    return (f"if(sw.m < {k} OR {k} < 2 OR sw.hk = 0, 1.0, "
            f"({k} - 1) * 18446744073709551616.0 / toFloat64(sw.hk) / {k})"), join


def read_labels(store: Store, model_id: str, start: datetime, end: datetime,
                horizon: timedelta = store_labels.DEFAULT_HORIZON,
                skew: timedelta = store_labels.DEFAULT_SKEW) -> np.ndarray:
    """The labels of the raw events in [start, end), as :func:`read_events` reads them
    and in its order: what a read of the range holds as labels once more feedback is in."""
    E = S.EVENTS
    in_range, params = _in_range(E, model_id, start, end, horizon, skew)
    label_sql, join = _label_join(E, in_range)
    rows = store.query_np(f"SELECT {label_sql} AS lbl FROM {E} AS e{join} WHERE {in_range} "
                          f"ORDER BY {_total_order(E)} {_once(E)}", params)
    if rows.dtype.names is not None:  # (one column may come back as a plain array)
        rows = rows["lbl"]
    return one_per_value(np.asarray(rows, dtype=object).reshape(-1))  # (kept with a read)


def _once(E: Any) -> str:
    """Each raw event (alias ``e``) read once, after :func:`_total_order`: a producer's
    send retried after a lost acknowledgement stores its batch twice, as new Kafka records
    with the same ``event_id``\\s and times (docs/events.md); the first copy is kept.
    Counted twice, 100 events of 200 stored twice read an accuracy of 0.733 on 300 labels
    for 0.800 on 200 (and weighed twice in the drift tests). The time is part of the key:
    two events that share an id at different times (an id a producer reuses) both stay."""
    return f"LIMIT 1 BY e.{E.event_id}, e.{E.timestamp}"


def _total_order(E: Any) -> str:
    """An order of events (alias ``e``) that two reads of one range give alike: rows tied
    on all of it are one Kafka record stored twice."""
    return f"e.{E.timestamp}, e.{E.event_id}, e.{E.kafka_partition}, e.{E.kafka_offset}"


def _in_range(E: Any, model_id: str, start: datetime, end: datetime, horizon: timedelta,
              skew: timedelta) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of a model's events in [start, end) (alias ``e``), its parameters
    (with those of :func:`_label_join`)."""
    return ((f"e.{E.model_id} = {{m:String}} AND e.{E.timestamp} >= {{a:DateTime64(3, 'UTC')}} "
             f"AND e.{E.timestamp} < {{b:DateTime64(3, 'UTC')}}"),
            {"m": model_id, "a": as_utc(start), "b": as_utc(end),
             **store_labels.params(horizon, skew)})


def _label_join(E: Any, in_range: str) -> tuple[str, str]:
    """An event's label and the join it needs (:mod:`driftscope.store.labels`)."""
    return store_labels.label_join(E, in_range, "{a:DateTime64(3, 'UTC')}",
                                   "{b:DateTime64(3, 'UTC')}")


def read_dataset(store: Store, model_id: str, name: str, names: Sequence[str],
                 versions: bool = False) -> Frame:
    """An uploaded reference dataset (``reference_events``) as a frame (``versions``: as
    :func:`read_frame`; an upload names no version, so its segment is all missing)."""
    R = S.REFERENCE_EVENTS
    where = f"{R} AS e WHERE e.{R.model_id} = {{m:String}} AND e.{R.reference_name} = {{n:String}}"
    return read_frame(store, R, f"{where} ORDER BY e.{R.timestamp}", where,
                      {"m": model_id, "n": name}, names, f"e.{R.label}", versions)


_PICK = re.compile(re.escape(OUTPUT) + r"(.+)\[(\d+)\]")  # output:key[j]: j-th probability
_CLASS = re.compile(re.escape(OUTPUT) + r"(.+)\[class\]")  # output:key[class]: argmax


def read_frame(store: Store, table: Any, source: str, scan: str, params: dict[str, Any],
               names: Sequence[str], label_sql: str, versions: bool = False,
               weight_sql: str | None = None) -> Frame:
    """The events ``SELECT … FROM {source}`` gives (alias ``e``; ``scan``: the same events
    without order or join, to learn which names are ever strings and the segment keys), as
    a :class:`Frame` of the wanted names.

    Each name is a column the store computes (a number, NaN where the event has none; a
    string where it ever is one), so no event becomes a Python dict (a 200-feature model's
    window read that way peaked at about 20 times its data). Every name is a column, all
    missing (NaN) when no row has it. A name sent as a number in some rows and a string in
    others keeps the kind most of its rows have (numbers on a tie), the others as missing:
    one stray value does not blind a column.

    With ``versions``, the segment :data:`VERSION_KEY` is each event's model version
    (missing where it names none), in place of any segment map key of that name; without,
    no frame holds it, so what a monitor not segmented by version reads (and the digests
    of its references) is as before. ``weight_sql``: each row's :attr:`Frame.weights`
    (:func:`sample_weight`).
    """
    T = table
    kinds = store.query(
        f"SELECT groupUniqArrayArray(mapKeys(e.{T.features_cat})), "
        f"groupUniqArrayArray(mapKeys(e.{T.pred_cat})), "
        f"groupUniqArrayArray(mapKeys(e.{T.segments})) FROM {scan}", params)
    fcat, pcat, seg_keys = (set(k) for k in kinds[0]) if kinds else (set(), set(), set())
    wanted = list(dict.fromkeys(names))
    strings = {n for n in wanted
               if n in fcat or (n.startswith(OUTPUT) and n[len(OUTPUT):] in pcat)}
    cols = [f"e.{T.timestamp} AS ts"]
    sql_params = dict(params)
    for i, name in enumerate(wanted):
        num, cat, p = _value_sql(T, i, name)
        sql_params.update(p)
        cols.append(f"{num} AS v{i}")
        if name in strings:
            cols.append(f"toLowCardinality({cat}) AS s{i}")  # (strings: _shared)
    keys = sorted(seg_keys | {VERSION_KEY} if versions else seg_keys)
    for j, key in enumerate(keys):
        if versions and key == VERSION_KEY:
            cols.append(f"toLowCardinality(nullIf(e.{T.model_version}, '')) AS g{j}")
            continue
        sql_params[f"g{j}"] = key
        g = f"{{g{j}:String}}"
        cols.append(f"toLowCardinality(if(mapContains(e.{T.segments}, {g}), "
                    f"e.{T.segments}[{g}], NULL)) AS g{j}")
    cols.append("NULL AS lbl" if label_sql == "NULL" else f"toLowCardinality({label_sql}) AS lbl")
    if weight_sql is not None:
        cols.append(f"toFloat64({weight_sql}) AS wgt")
    sql = f"SELECT {', '.join(cols)} FROM {source}"
    data = store.query_np(sql, sql_params, _sized(sql, len(cols)))
    if len(data) == 0 or data.dtype.names is None:  # (no rows: no fields either)
        return Frame(np.empty(0, dtype="datetime64[ms]"),
                     {name: np.full(0, np.nan) for name in wanted},
                     {key: np.empty(0, dtype=object) for key in keys},
                     np.empty(0, dtype=object) if label_sql != "NULL" else None)
    columns: dict[str, np.ndarray] = {}
    mixed = set()
    for i, name in enumerate(wanted):
        values = np.asarray(data[f"v{i}"], dtype=np.float64)
        if name in strings:
            n_text, n_num = _present(np.asarray(data[f"s{i}"], dtype=object)), _present(values)
            if n_text and n_num:
                mixed.add(name)
            if n_text > n_num:
                columns[name] = _shared(data, f"s{i}")
                continue
            data[f"s{i}"] = None  # (its strings unused: not held by the numbers' views)
        columns[name] = values
    segments = {key: _shared(data, f"g{j}") for j, key in enumerate(keys)}
    timestamps = np.asarray(data["ts"], dtype="datetime64[ms]")
    label_arr = _shared(data, "lbl") if label_sql != "NULL" else None
    weights = None if weight_sql is None else np.asarray(data["wgt"], dtype=np.float64)
    return Frame(timestamps, columns, segments, label_arr, mixed=frozenset(mixed),
                 weights=weights)


_LOOK = 1024  # the values of a column looked at to tell one of (nearly) unique values


def one_per_value(values: np.ndarray) -> np.ndarray:
    """``values`` (strings and None; values that compare equal, ``1`` and ``1.0``, would
    become one) with one object per value, which all its rows share;
    None stays None. The store gives each row a string of its own (~60 bytes), so a read's
    categorical column of a few values held about 10 times a numeric column's memory;
    shared, about twice (a NaN and a pointer a row in the read's records; as
    :func:`driftscope.monitor.kept.footprint` weighs it). A column over 90 % of whose
    values are distinct among ``_LOOK`` spread over it (ids; a column of some 5,000 values
    or more in 100,000 rows) is left as it is: little to share, and hashing every value
    costs most there (~0.2 µs a row: a read of 10 such columns of 50,000 values took 1.4
    times as long).

    >>> a = np.array(["ab", None, "".join(["a", "b"])], dtype=object)
    >>> a[0] is a[2]
    False
    >>> b = one_per_value(a)
    >>> b.tolist(), b[0] is b[2], b.dtype
    (['ab', None, 'ab'], True, dtype('O'))
    """
    seen = [v for v in values[:: max(1, len(values) // _LOOK)][:_LOOK].tolist()
            if v is not None]
    if len(set(seen)) > 0.9 * len(seen):
        return values
    codes, uniques = pd.factorize(values)  # (None: code -1; faster than a dict's intern)
    return np.concatenate([np.asarray(uniques, dtype=object), [None]])[codes]


def _shared(data: np.ndarray, name: str) -> np.ndarray:
    """The field ``name`` of a read's records as :func:`one_per_value`, written back: the
    records stay held by the numeric columns (views of them), and so would each row's own
    string were it left there. (The query reads the field as ``LowCardinality``: the store
    sends each block's values once, and the client's rows of a block share them — most of
    the sharing, and a faster read of a column of few values.)"""
    if data.dtype[name].kind == "O":  # (strings; a fixed width's are not objects)
        values = data[name]
        shared = one_per_value(values)
        if shared is not values:
            data[name] = shared
    return np.asarray(data[name], dtype=object)


def _present(column: np.ndarray) -> int:
    """Values a column holds: numbers not NaN, strings not None."""
    if column.dtype.kind == "f":
        return int(np.count_nonzero(~np.isnan(column)))
    return int(np.count_nonzero(column != None))  # noqa: E711 (elementwise)


def _sized(sql: str, columns: int) -> dict[str, int] | None:
    """Limits a query of many columns needs beyond the server's defaults (256 KiB of SQL,
    50,000 syntax-tree nodes: a read of about 2,400 numeric features), None within them.
    (A read of 3,000 features fits in the 70,000 nodes asked for; the store's port grants
    up to 100,000.)"""
    if len(sql) < 200_000 and columns < 1_000:
        return None
    return {"max_query_size": 2 * len(sql), "max_ast_elements": 20 * columns + 10_000,
            "max_expanded_ast_elements": 200 * columns + 100_000}


def _value_sql(T: Any, i: int, name: str) -> tuple[str, str, dict[str, str]]:
    """SQL of ``name``'s number in an event (NaN where it has none) and of its string
    (NULL): a feature, or an ``output:`` — its number, a class's top probability, or the
    ``j``-th probability of ``output:key[j]``, the class number with the highest
    probability of ``output:key[class]``. (A key's position, found once per map, picks
    its value: twice as fast as ``mapContains`` and ``map[key]``.)"""
    params = {f"n{i}": name}
    n = f"{{n{i}:String}}"

    def pick(column: str, key: str, alias: str, missing: str, get: str = "{v}") -> str:
        at = f"indexOf(e.{column}.keys, {key}) AS {alias}{i}"
        return (f"if({at} > 0, {get.format(v=f'e.{column}.values[{alias}{i}]')}, "
                f"{missing})")

    num = pick(T.features_num, n, "fn", "nan")
    cat = pick(T.features_cat, n, "fc", "NULL")
    if name.startswith(OUTPUT):
        params[f"k{i}"] = name[len(OUTPUT):]
        k = f"{{k{i}:String}}"
        num = pick(T.pred_num, k, "pn", num)
        num = f"if(notEmpty(e.{T.pred_probs}[{k}]), arrayMax(e.{T.pred_probs}[{k}]), {num})"
        cat = pick(T.pred_cat, k, "pc", cat)
        if top := _PICK.fullmatch(name):
            params[f"q{i}"] = top[1]
            q, j = f"{{q{i}:String}}", int(top[2])
            num = (f"if(length(e.{T.pred_probs}[{q}]) > {j}, "
                   f"e.{T.pred_probs}[{q}][{j + 1}], {num})")
        elif top := _CLASS.fullmatch(name):
            params[f"q{i}"] = top[1]
            q = f"e.{T.pred_probs}[{{q{i}:String}}]"
            num = f"if(notEmpty({q}), toFloat64(indexOf({q}, arrayMax({q})) - 1), nan)"
            cat = "NULL"
    return num, cat, params
