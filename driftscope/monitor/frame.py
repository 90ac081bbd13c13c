"""Events of a time range as columns: the monitor's view of the store.

Reading SQL lives here (against the ``windows``, ``events``, ``feedback`` and
``reference_events`` tables, names from :mod:`driftscope.store.schema`); the rest of
the monitor works on :class:`Frame` objects: numeric columns are float64 arrays with
``NaN`` for missing values, categorical ones object arrays with ``None``.

Output columns are named ``output:<key>``; a ``pred_probs`` entry becomes
``output:<key>`` holding the largest class probability.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.durations import as_utc
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
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
    where = [f"{S.WINDOWS.model_id} = {{m:String}}", f"{S.WINDOWS.window_seconds} = {{s:UInt32}}"]
    params: dict[str, Any] = {"m": model_id, "s": int(size.total_seconds())}
    if since is not None:
        where.append(f"{S.WINDOWS.window_start} >= {{since:DateTime64(3, 'UTC')}}")
        params["since"] = as_utc(since)
    if until is not None:
        where.append(f"{S.WINDOWS.window_end} <= {{until:DateTime64(3, 'UTC')}}")
        params["until"] = as_utc(until)
    having = ""
    if closed_before is not None:
        having = f" HAVING min({S.WINDOWS.closed_at}) <= {{cb:DateTime64(3, 'UTC')}}"
        params["cb"] = as_utc(closed_before)
    rows = store.query(
        f"SELECT {S.WINDOWS.window_start}, max({S.WINDOWS.n_events}) FROM {S.WINDOWS} "
        f"WHERE {' AND '.join(where)} GROUP BY {S.WINDOWS.window_start}{having} "
        f"ORDER BY {S.WINDOWS.window_start}",
        params,
    )
    return [(Window(model_id, as_utc(r[0]), size), int(r[1])) for r in rows]


def window_counts(
    store: Store, model_id: str, size: timedelta, before: datetime, limit: int
) -> list[tuple[datetime, int]]:
    """Stored event counts of the (up to) ``limit`` windows before ``before``: the volume
    history, counted from ``events`` itself rather than trusted from ``windows``."""
    E = S.EVENTS
    seconds = int(size.total_seconds())
    rows = store.query(
        f"SELECT toStartOfInterval({E.timestamp}, toIntervalSecond({{s:UInt32}})) AS w, count() "
        f"FROM {E} WHERE {E.model_id} = {{m:String}} "
        f"AND {E.timestamp} >= {{a:DateTime64(3, 'UTC')}} "
        f"AND {E.timestamp} < {{b:DateTime64(3, 'UTC')}} GROUP BY w ORDER BY w",
        {"m": model_id, "s": seconds, "a": as_utc(before) - limit * size, "b": as_utc(before)},
    )
    return [(as_utc(r[0]), int(r[1])) for r in rows]


_PAYLOAD = (S.EVENTS.features_num, S.EVENTS.features_cat, S.EVENTS.features_null,
            S.EVENTS.pred_num, S.EVENTS.pred_cat, S.EVENTS.pred_probs, S.EVENTS.segments)


def read_events(
    store: Store,
    model_id: str,
    start: datetime,
    end: datetime,
    names: Sequence[str],
    *,
    labels: bool = False,
) -> Frame:
    """Events of ``model_id`` with ``start <= timestamp < end`` (labels joined from feedback)."""
    E, F = S.EVENTS, S.FEEDBACK
    cols = ", ".join(f"e.{c}" for c in (E.timestamp, *_PAYLOAD))
    label_sql = "NULL"
    join = ""
    if labels:
        label_sql = f"coalesce(e.{E.label}, f.fb)"
        join = (
            f" LEFT JOIN (SELECT {F.event_id}, argMax({F.label}, {F.ingested_at}) AS fb "
            f"FROM {F} WHERE {F.model_id} = {{m:String}} GROUP BY {F.event_id}) AS f "
            f"ON e.{E.event_id} = f.{F.event_id}"
        )
    rows = store.query(
        f"SELECT {cols}, {label_sql} FROM {E} AS e{join} WHERE e.{E.model_id} = {{m:String}} "
        f"AND e.{E.timestamp} >= {{a:DateTime64(3, 'UTC')}} "
        f"AND e.{E.timestamp} < {{b:DateTime64(3, 'UTC')}} ORDER BY e.{E.timestamp}",
        {"m": model_id, "a": as_utc(start), "b": as_utc(end)},
    )
    return replace(build_frame(rows, names, labels=labels), bounds=(as_utc(start), as_utc(end)))


def read_dataset(store: Store, model_id: str, name: str, names: Sequence[str]) -> Frame:
    """An uploaded reference dataset (``reference_events``) as a frame."""
    R = S.REFERENCE_EVENTS
    cols = ", ".join((R.timestamp, *_PAYLOAD, R.label))
    rows = store.query(
        f"SELECT {cols} FROM {R} WHERE {R.model_id} = {{m:String}} "
        f"AND {R.reference_name} = {{n:String}} ORDER BY {R.timestamp}",
        {"m": model_id, "n": name},
    )
    return build_frame(rows, names, labels=True)


def build_frame(rows: Iterable[Sequence[Any]], names: Sequence[str], *, labels: bool) -> Frame:
    """Rows of (timestamp, *payload maps, label) → a :class:`Frame` of the wanted names."""
    rows = list(rows)
    ts = np.array([_np_time(as_utc(r[0])) for r in rows], dtype="datetime64[ms]")
    num: dict[str, list[float]] = {}
    cat: dict[str, list[Any]] = {}
    seg: dict[str, list[Any]] = {}
    for i, r in enumerate(rows):
        fnum, fcat, fnull, pnum, pcat, probs, segs = r[1:8]
        merged_num = {**fnum, **{OUTPUT + k: v for k, v in pnum.items()}}
        merged_num.update({OUTPUT + k: max(v) for k, v in probs.items() if v})
        merged_cat = {**fcat, **{OUTPUT + k: v for k, v in pcat.items()}}
        for name in names:
            if name in merged_num:
                num.setdefault(name, [np.nan] * i).append(float(merged_num[name]))
            elif name in merged_cat:
                cat.setdefault(name, [None] * i).append(merged_cat[name])
            else:
                if name in num:
                    num[name].append(np.nan)
                if name in cat:
                    cat[name].append(None)
        for key, value in segs.items():
            seg.setdefault(key, [None] * i).append(value)
        for key in seg:
            if key not in segs:
                seg[key].append(None)
        del fnull
    columns: dict[str, np.ndarray] = {k: np.asarray(v, dtype=np.float64) for k, v in num.items()}
    for k, v in cat.items():
        if k in columns:  # a type change: keep the numeric view, strings as missing
            continue
        columns[k] = np.asarray(v, dtype=object)
    label_arr = np.asarray([r[8] for r in rows], dtype=object) if labels else None
    segments = {k: np.asarray(v, dtype=object) for k, v in seg.items()}
    return Frame(ts, columns, segments, label_arr)
