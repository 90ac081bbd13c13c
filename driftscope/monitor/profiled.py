"""A model logged only as whylogs profiles: its windows as frames the monitor can score.

A profile keeps each column's distribution (a KLL sketch of a numeric column, the
frequent items of a categorical one, the missing count) but no events. The monitor's
per-column checks — drift of each feature and output (EMD, L-inf, L1, KS …), the
persistence check, missing rate, range, new categories, volume — need only those
distributions, so each window's merged profile is turned into a column of values with
that distribution:

- a numeric column of ``m`` values becomes its ``m`` quantiles at ranks ``(i + ½)/m``:
  exactly the values when the sketch holds all of them (up to 1,024 values with
  whylogs' default KLL), else within the sketch's rank error (±0.35 % of ranks at 99 %);
  the first and last are the exact minimum and maximum;
- a categorical column becomes each frequent item repeated its count (exact while the
  sketch holds every item), what the sketch no longer tracks as :data:`OTHER`;
- the missing values (nulls, and events of flushes that lacked the column) stay missing.

Each column is shuffled on its own (seeded by window and column: the same profiles give
the same frame), so no row joins values of one event: joint checks — segments,
performance, projections and multivariate detectors — are configuration errors for such
a model (:func:`driftscope.config.Config`). The window's event count is exact (the sum of
its profile parts), so detector thresholds are calibrated to the real sample size.

Examples
--------
>>> import numpy as np
>>> from driftscope.collector.profiling import profile_bytes, merge_profiles
>>> view = merge_profiles([profile_bytes([{"x": 1.0}, {"x": 3.0}, {"x": None}],
...                                      {"x": "numeric"})])
>>> np.sort(expand(view, 3, ["x"])["x"]).tolist()
[1.0, 3.0, nan]
"""

from __future__ import annotations

import base64
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

import numpy as np

from driftscope.collector.model import PRED_PREFIX
from driftscope.collector.profiling import merge_profiles
from driftscope.durations import as_utc
from driftscope.monitor.frame import OUTPUT, Frame, Profiled, floor_window
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

OTHER = "(other)"
"""The category of the values a frequent-items sketch no longer tracks one by one."""


def profile_column(name: str) -> str:
    """The profile column of a monitored name (outputs are ``prediction.<key>``)."""
    return PRED_PREFIX + name.removeprefix(OUTPUT) if name.startswith(OUTPUT) else name


def expand(view: Any, n: int, names: Sequence[str], seed: Sequence[int] = (0,),
           sketch_k: dict[str, int] | None = None) -> dict[str, np.ndarray]:
    """The columns of ``names`` (``n`` values each) read from a merged profile view, each
    shuffled by a generator seeded with ``seed`` and the column's name (``sketch_k``
    collects the KLL k of the numeric columns)."""
    from driftscope.detectors.profiles import no_false_negatives

    out: dict[str, np.ndarray] = {}
    for name in names:
        col = view.get_column(profile_column(name)) if view is not None else None
        dist = col.get_metric("distribution") if col is not None else None
        freq = col.get_metric("frequent_items") if col is not None else None
        values: np.ndarray
        if dist is not None and not dist.kll.value.is_empty():
            kll = dist.kll.value
            m = min(int(kll.get_n()), n)
            values = np.concatenate([quantile_values(kll, m), np.full(n - m, np.nan)])
            if sketch_k is not None:
                sketch_k[name] = int(kll.get_k())
        elif freq is not None and freq.frequent_strings.value.get_total_weight() > 0:
            fs = freq.frequent_strings.value
            items = fs.get_frequent_items(no_false_negatives(fs))
            cats = [str(i[0]) for i in items]
            counts = [int(i[1]) for i in items]
            total = min(int(fs.get_total_weight()), n)
            counts = _fit(counts, total)
            other = total - sum(counts)
            vals = np.repeat(np.asarray([*cats, OTHER], dtype=object), [*counts, other])
            values = np.concatenate([vals, np.full(n - total, None, dtype=object)])
        else:
            values = np.full(n, np.nan)
        rng = np.random.default_rng([*seed, zlib.crc32(name.encode())])
        out[name] = values[rng.permutation(n)]
    return out


def quantile_values(kll: Any, m: int) -> np.ndarray:
    """``m`` values with a KLL sketch's distribution: its quantiles at ranks (i + ½)/m,
    the first and last its exact minimum and maximum."""
    got = np.asarray(kll.get_quantiles(list((np.arange(m) + 0.5) / m)), dtype=float)
    got[0], got[-1] = float(kll.get_min_value()), float(kll.get_max_value())
    return got


def _fit(counts: list[int], total: int) -> list[int]:
    """Item counts trimmed, largest first, so that they add up to at most ``total`` (the
    estimates of a sketch that dropped items can exceed what it saw)."""
    over = sum(counts) - total
    out = list(counts)
    for i in np.argsort(counts)[::-1]:
        if over <= 0:
            break
        cut = min(out[i], over)
        out[i] -= cut
        over -= cut
    return out


def read_profiles(
    store: Store, model_id: str, start: datetime, end: datetime, names: Sequence[str],
    profiled: Profiled,
) -> Frame:
    """The frame of the windows of ``profiled.seconds`` starting in [start, end) (the
    window holding ``start`` included), each window's values spread evenly over it.

    Each window's parts are merged once per process (:data:`VIEWS`): one aggregate query
    gives every window's figures (parts, events, a hash of the parts' identities); a
    window whose cached view has the same figures is not read again, the others' profiles
    are fetched (only theirs) and merged."""
    P = S.PROFILES
    size = timedelta(seconds=profiled.seconds)
    where = (f"{P.model_id} = {{m:String}} AND {P.window_seconds} = {{w:UInt32}} "
             f"AND {P.window_start} >= {{a:DateTime64(3, 'UTC')}} "
             f"AND {P.window_start} < {{b:DateTime64(3, 'UTC')}}")
    params: dict[str, Any] = {"m": model_id, "w": profiled.seconds,
                              "a": floor_window(as_utc(start), size), "b": as_utc(end)}
    figures = {as_utc(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in store.query(
        f"SELECT {P.window_start}, count(), sum({P.n}), sum({_PART_HASH}) FROM {P} "
        f"WHERE {where} GROUP BY {P.window_start} ORDER BY {P.window_start}", params)}
    scope = (store.dsn, store.database, model_id, profiled.seconds)
    merged: dict[datetime, _Merged] = {}
    stale: list[datetime] = []
    for ws, fig in figures.items():
        if fig[1] == 0:
            continue
        hit = VIEWS.get((*scope, _ms(ws)), fig)
        if hit is not None:
            merged[ws] = hit
        else:
            stale.append(ws)
    stored = _stored_views(store, params, stale, figures)  # merged by an earlier process
    for ws, view in stored.items():
        merged[ws] = VIEWS.put((*scope, _ms(ws)), figures[ws], view)
    stale = [ws for ws in stale if ws not in stored]
    fresh: list[tuple[Any, ...]] = []
    for batch in _batches(stale, figures):
        rows = store.query(
            f"SELECT {P.window_start}, {P.n}, {_PART_HASH}, base64Encode({P.profile}) "
            f"FROM {P} WHERE {where} AND {P.window_start} IN {{ws:Array(DateTime64(3, 'UTC'))}} "
            f"ORDER BY {P.window_start}, {P.kafka_partition}, {P.first_offset}",
            {**params, "a": batch[0], "b": batch[-1] + timedelta(milliseconds=1), "ws": batch})
        for ws, parts in groupby(rows, key=lambda r: as_utc(r[0])):
            parts_ = list(parts)
            # the figures of the parts merged (a part that came after the aggregate query
            # is in both the view and its figures: the next read sees them match)
            fig = (len(parts_), sum(int(r[1]) for r in parts_),
                   sum(int(r[2]) for r in parts_) % 2**64)
            view = merge_profiles(base64.b64decode(r[3]) for r in parts_)
            merged[ws] = VIEWS.put((*scope, _ms(ws)), fig, view)
            if view is not None:
                fresh.append((model_id, profiled.seconds, ws, *fig,
                              bytes(view.serialize()), datetime.now(UTC)))
    if fresh:  # the next process reads one profile per window, not every flush's part
        store.insert(S.MERGED_PROFILES, fresh, S.MERGED_PROFILES.columns)
    times: list[np.ndarray] = []
    columns: dict[str, list[np.ndarray]] = {name: [] for name in names}
    ks: dict[str, int] = {}
    for ws in sorted(merged):
        view, n = merged[ws].view, merged[ws].figures[1]
        if n == 0:
            continue
        ms = _ms(ws)
        offsets = ((np.arange(n) + 0.5) * (profiled.seconds * 1000 / n)).astype("int64")
        times.append(np.datetime64(ms, "ms") + offsets.astype("timedelta64[ms]"))
        seed = (profiled.seed, ms, zlib.crc32(model_id.encode()))
        for name, values in expand(view, n, names, seed, ks).items():
            columns[name].append(values)
    ts = np.concatenate(times) if times else np.array([], dtype="datetime64[ms]")
    frame = Frame(ts, {name: _joined(parts) for name, parts in columns.items()},
                  sketch_k=ks, sketched=True)
    return frame.between(as_utc(start), as_utc(end))


_PART_HASH = (f"cityHash64({S.PROFILES.kafka_partition}, {S.PROFILES.first_offset}, "
              f"{S.PROFILES.last_offset}, {S.PROFILES.created_at})")
"""A part's identity (its flush), summed per window: a part replaced by another with the
same count changes the sum (a ``UInt64`` sum wraps around, as ``% 2**64`` here)."""


def _stored_views(store: Store, params: dict[str, Any], windows: list[datetime],
                  figures: dict[datetime, tuple[int, int, int]]) -> dict[datetime, Any]:
    """The views of ``windows`` merged by an earlier read (``merged_profiles``) from parts
    with the figures the windows have now; the others are merged again."""
    if not windows:
        return {}
    from whylogs.core import DatasetProfileView

    M = S.MERGED_PROFILES
    rows = store.query(
        f"SELECT {M.window_start}, argMax({M.parts}, {M.created_at}), "
        f"argMax({M.n}, {M.created_at}), argMax({M.part_hash}, {M.created_at}), "
        f"base64Encode(argMax({M.profile}, {M.created_at})) FROM {M} "
        f"WHERE {M.model_id} = {{m:String}} AND {M.window_seconds} = {{w:UInt32}} "
        f"AND {M.window_start} IN {{ws:Array(DateTime64(3, 'UTC'))}} GROUP BY {M.window_start}",
        {"m": params["m"], "w": params["w"], "ws": windows})
    out = {}
    for ws, parts, n, part_hash, blob in rows:
        at = as_utc(ws)
        if figures.get(at) == (int(parts), int(n), int(part_hash)):
            out[at] = DatasetProfileView.deserialize(base64.b64decode(blob))
    return out


BATCH_PARTS = 2000
"""The most profile parts one query fetches (a window with more is fetched alone)."""


def _ms(ws: datetime) -> int:
    return int(ws.timestamp() * 1000)


def _batches(windows: list[datetime],
             figures: dict[datetime, tuple[int, int, int]]) -> list[list[datetime]]:
    """The windows in runs of at most :data:`BATCH_PARTS` parts (and at least one window),
    so that the blobs of many stale windows are not all held at once."""
    out: list[list[datetime]] = []
    parts = 0
    for ws in windows:
        if not out or parts + figures[ws][0] > BATCH_PARTS:
            out.append([])
            parts = 0
        out[-1].append(ws)
        parts += figures[ws][0]
    return out


@dataclass(frozen=True)
class _Merged:
    figures: tuple[int, int, int]
    """The window's parts, events and the sum of its parts' :data:`_PART_HASH`."""
    view: Any
    """The merged ``DatasetProfileView`` (read only: :func:`expand` does not change it)."""
    size: int
    """Its estimated memory in bytes."""


class ViewCache:
    """The merged profile views of windows, least recently used dropped first.

    Keyed by store (DSN and database), model, window size and window start, each view with
    the figures of the parts it merged: a lookup with other figures (a late part, another
    partition's flush, parts deleted) misses and the window is merged again. Bounded by
    ``max_windows`` views and ``max_bytes`` of their estimated memory, 4 times the
    serialized view (measured: a merged view takes 3.5 times its serialized size, about
    70 KB per numeric column of a busy window): 256 MiB hold about 1,000 windows of a
    model with 3 columns, 100 of one with 30. A range of more windows than it holds (a
    long ``fixed`` reference) is merged again on each read. Thread-safe.
    """

    def __init__(self, max_windows: int = 1024, max_bytes: int = 256 * 2**20) -> None:
        self.max_windows, self.max_bytes = max_windows, max_bytes
        self._views: OrderedDict[tuple[Any, ...], _Merged] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], figures: tuple[int, int, int]) -> _Merged | None:
        """The view cached under ``key`` when it merged parts of these ``figures``."""
        with self._lock:
            got = self._views.get(key)
            if got is None or got.figures != figures:
                return None
            self._views.move_to_end(key)
            return got

    def put(self, key: tuple[Any, ...], figures: tuple[int, int, int], view: Any) -> _Merged:
        """Cache ``view`` (merged from parts of ``figures``) under ``key``."""
        merged = _Merged(figures, view, 4 * len(view.serialize()) if view is not None else 0)
        with self._lock:
            old = self._views.pop(key, None)
            self._bytes -= old.size if old is not None else 0
            self._views[key] = merged
            self._bytes += merged.size
            while self._views and (len(self._views) > self.max_windows
                                   or self._bytes > self.max_bytes):
                self._bytes -= self._views.popitem(last=False)[1].size
        return merged

    def clear(self) -> None:
        with self._lock:
            self._views.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._views)

    @property
    def bytes(self) -> int:
        """The estimated memory of the cached views."""
        return self._bytes


VIEWS = ViewCache()
"""The process's merged views: shared by every read (a monitor's passes, its references,
backfills), so each window's parts are deserialized and merged once per process."""


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """One column from the windows' pieces. As with raw events, a column sent as numbers
    in some windows and strings in others keeps the kind most of its values have (numbers
    on a tie; the others missing); pieces with no value take the kind of the others."""
    numbers = sum(int(np.count_nonzero(~np.isnan(p))) for p in parts if p.dtype.kind == "f")
    strings = sum(sum(v is not None for v in p.tolist()) for p in parts if p.dtype.kind != "f")
    if numbers >= strings and (numbers or all(p.dtype.kind == "f" for p in parts)):
        return np.concatenate([p if p.dtype.kind == "f" else np.full(len(p), np.nan)
                               for p in parts]) if parts else np.array([], dtype=float)
    return np.concatenate([p if p.dtype.kind != "f" else np.full(len(p), None, dtype=object)
                           for p in parts])
