"""What the monitor reads from the collector's tables — the collector's public read API.

* :func:`closed_windows` — windows the collector has declared complete, with counts.
* :func:`load_window_rows` — a window's raw rows as numpy arrays per feature, labels
  joined from feedback within a horizon.
* :func:`load_window_profile` — a window's merged whylogs ``DatasetProfileView``.
* :func:`load_window_sample` — a window's bottom-k sample (exact across partitions,
  collectors and replays), as rows like :func:`load_window_rows`.
* :func:`feature_kinds` — each feature's kind (``numeric``, ``categorical``, ``probs``).

Windows are named by ``(model_id, window_start)`` (an aware datetime or epoch
milliseconds) and optionally ``window_seconds`` when a model's window size changed.
No query needs ``FINAL``: duplicates of ``windows`` rows are folded by ``GROUP BY``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from driftscope.collector.model import epoch_ms, from_ms
from driftscope.collector.profiling import merge_profiles
from driftscope.collector.rows import WindowRows, to_arrays
from driftscope.store import schema as s
from driftscope.store.clickhouse import Store
from driftscope.store.labels import DEFAULT_HORIZON, DEFAULT_SKEW, label_join, params
from driftscope.types import Window

__all__ = [
    "ClosedWindow",
    "WindowRows",
    "closed_windows",
    "feature_kinds",
    "load_window_profile",
    "load_window_rows",
    "load_window_sample",
]


@dataclass(frozen=True, slots=True)
class ClosedWindow:
    """A window the collector declared closed; ``n_late`` may grow as late events come."""

    model_id: str
    start: datetime
    end: datetime
    window_seconds: int
    n_events: int
    n_late: int
    closed_at: datetime

    @property
    def window(self) -> Window:
        """The shared :class:`driftscope.types.Window` value."""
        return Window(self.model_id, self.start, timedelta(seconds=self.window_seconds))


def _ms(start: datetime | int) -> int:
    return start if isinstance(start, int) else epoch_ms(start)


def closed_windows(
    store: Store, model_id: str, *, since: datetime | None = None
) -> list[ClosedWindow]:
    """Closed windows of a model in time order (``since``: windows starting at or after)."""
    rows = store.query(
        f"SELECT window_seconds, toUnixTimestamp64Milli(window_start), "
        f"argMax(n_events, closed_at), argMax(n_late, closed_at), "
        f"toUnixTimestamp64Milli(min(closed_at)) FROM {s.WINDOWS} "
        "WHERE model_id = {m:String} AND toUnixTimestamp64Milli(window_start) >= {t:Int64} "
        "GROUP BY window_seconds, window_start ORDER BY window_start, window_seconds",
        {"m": model_id, "t": _ms(since) if since is not None else -(2**62)},
    )
    return [
        ClosedWindow(
            model_id,
            from_ms(int(st)),
            from_ms(int(st) + int(sec) * 1000),
            int(sec),
            int(n),
            int(late),
            from_ms(int(at)),
        )
        for sec, st, n, late, at in rows
    ]


def _seconds(store: Store, model_id: str, start_ms: int, window_seconds: int | None) -> int:
    if window_seconds is not None:
        return window_seconds
    rows = store.query(
        f"SELECT max(window_seconds) FROM {s.WINDOW_PARTS} WHERE model_id = {{m:String}} "
        "AND toUnixTimestamp64Milli(window_start) = {t:Int64}",
        {"m": model_id, "t": start_ms},
    )
    return int(rows[0][0] or 0) if rows else 0


def feature_kinds(store: Store, model_id: str) -> dict[str, str]:
    """Feature name → kind; predictions appear as ``prediction.<name>``."""
    rows = store.query(
        f"SELECT name, argMin(kind, first_seen) FROM {s.MODEL_FEATURES} "
        "WHERE model_id = {m:String} GROUP BY name ORDER BY name",
        {"m": model_id},
    )
    return {str(n): str(k) for n, k in rows}


_COLS = (
    "e.event_id, toUnixTimestamp64Milli(e.timestamp), e.features_num, e.features_cat, "
    "e.pred_num, e.pred_cat, e.pred_probs, e.segments"
)
# (every event of a window read lies in [a, b): the bounds of its feedback scan)
_SINCE, _UNTIL = ("fromUnixTimestamp64Milli({a:Int64}, 'UTC')",
                  "fromUnixTimestamp64Milli({b:Int64}, 'UTC')")


def _labelled(table: s._Table, where: str, extra: str) -> str:
    """SELECT of ``table`` rows matching ``where`` (on alias ``e``) with their labels
    (:mod:`driftscope.store.labels`) and ``extra`` columns."""
    label, join = label_join(table, where, _SINCE, _UNTIL)
    return f"SELECT {_COLS}, {label}, {extra} FROM {table} AS e{join} WHERE {where}"


def load_window_rows(
    store: Store,
    model_id: str,
    window_start: datetime | int,
    *,
    window_seconds: int | None = None,
    include_late: bool = True,
    horizon: timedelta = DEFAULT_HORIZON,
    skew: timedelta = DEFAULT_SKEW,
) -> WindowRows:
    """A window's raw events (``raw`` logging mode) as arrays, in event-time order.

    ``labels`` is the latest feedback label given from ``skew`` before the prediction to
    ``horizon`` after it (``collector.feedback_skew``, ``collector.feedback_horizon``), else
    the label sent with the prediction, else None (:mod:`driftscope.store.labels`).
    """
    start = _ms(window_start)
    size = _seconds(store, model_id, start, window_seconds)
    where = (
        "e.model_id = {m:String} AND e.timestamp >= fromUnixTimestamp64Milli({a:Int64}, 'UTC')"
        " AND e.timestamp < fromUnixTimestamp64Milli({b:Int64}, 'UTC')"
        + ("" if include_late else " AND e.late = 0")
    )
    _names, rows = store.query_columns(
        _labelled(s.EVENTS, where, "e.late") + " ORDER BY e.timestamp, e.event_id",
        {"m": model_id, "a": start, "b": start + size * 1000, **params(horizon, skew)},
    )
    return to_arrays(rows, feature_kinds(store, model_id))


def load_window_sample(
    store: Store,
    model_id: str,
    window_start: datetime | int,
    k: int,
    *,
    window_seconds: int | None = None,
    stratum: str | None = None,
    horizon: timedelta = DEFAULT_HORIZON,
    skew: timedelta = DEFAULT_SKEW,
) -> WindowRows:
    """The window's bottom-k sample: the k smallest hashes per stratum (or in ``stratum``).

    Exact whatever the number of partitions, collectors and replays that wrote candidates.
    Labels are joined from feedback as in :func:`load_window_rows`.
    """
    start = _ms(window_start)
    size = _seconds(store, model_id, start, window_seconds)
    where = (
        "e.model_id = {m:String} AND e.window_seconds = {w:UInt32} AND "
        "toUnixTimestamp64Milli(e.window_start) = {a:Int64}"
        + (" AND e.stratum = {st:String}" if stratum is not None else "")
    )
    _names, rows = store.query_columns(
        _labelled(s.SAMPLES, where, "0, e.stratum, e.hash")
        + " ORDER BY e.stratum, e.hash, e.kafka_partition, e.kafka_offset "
        "LIMIT {k:UInt64} BY e.stratum",
        {"m": model_id, "w": size, "a": start, "b": start + size * 1000, "k": k,
         "st": stratum or "",
         **params(horizon, skew)},
    )
    out = to_arrays([r[:10] for r in rows], feature_kinds(store, model_id))
    out.strata = np.array([str(r[10]) for r in rows], dtype=object)
    out.hashes = np.array([int(r[11]) for r in rows], dtype=np.uint64)
    return out


def load_window_profile(
    store: Store,
    model_id: str,
    window_start: datetime | int,
    *,
    window_seconds: int | None = None,
) -> Any:
    """The merged whylogs ``DatasetProfileView`` of a window (None when it has no parts)."""
    start = _ms(window_start)
    size = _seconds(store, model_id, start, window_seconds)
    rows = store.query(
        f"SELECT base64Encode({s.PROFILES.profile}) FROM {s.PROFILES} "
        "WHERE model_id = {m:String} AND window_seconds = {w:UInt32} AND "
        "toUnixTimestamp64Milli(window_start) = {a:Int64} "
        "ORDER BY kafka_partition, first_offset",
        {"m": model_id, "w": size, "a": start},
    )
    return merge_profiles(base64.b64decode(r[0]) for r in rows)
