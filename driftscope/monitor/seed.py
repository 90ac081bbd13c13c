"""Write synthetic events and closed windows straight into the store.

For tests, demos and benchmarks of the monitor that do not need the collector: the rows
have exactly the shape the collector writes (``events`` and ``windows`` tables).

Examples
--------
>>> import numpy as np
>>> from datetime import datetime, timedelta, timezone
>>> gen = lambda i, rng, n: {"x": rng.normal(size=n)}
>>> start = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> write_windows(store, "m", start, timedelta(minutes=5), 3, 100, gen)  # doctest: +SKIP
300
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from driftscope.events import canonical
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

Generator = Callable[[int, np.random.Generator, int], Mapping[str, Any]]


def missing(v: Any) -> bool:
    """None or NaN."""
    return v is None or (isinstance(v, float) and v != v)


@dataclass
class Payload:
    """The map columns of one event row (as the collector writes them), value by value."""

    fnum: dict[str, float] = field(default_factory=dict)
    fcat: dict[str, str] = field(default_factory=dict)
    nulls: list[str] = field(default_factory=list)
    pnum: dict[str, float] = field(default_factory=dict)
    pcat: dict[str, str] = field(default_factory=dict)
    segs: dict[str, str] = field(default_factory=dict)

    def feature(self, name: str, v: Any, numeric: bool) -> None:
        """A feature value: missing, numeric or categorical."""
        if missing(v):
            self.nulls.append(name)
        elif numeric:
            self.fnum[name] = float(v)
        else:
            self.fcat[name] = canonical(v)  # as the collector spells it: True is "true"

    def output(self, name: str, v: Any, numeric: bool) -> None:
        """A prediction value: numeric or categorical."""
        if numeric:
            self.pnum[name] = float(v)
        else:
            self.pcat[name] = canonical(v)

    def maps(self) -> tuple[Any, ...]:
        """``features_num, features_cat, features_null, pred_num, pred_cat, pred_probs``."""
        return self.fnum, self.fcat, self.nulls, self.pnum, self.pcat, {}


def event_rows(
    model_id: str, start: datetime, size: timedelta, n: int, columns: Mapping[str, Any],
    prefix: str,
) -> list[tuple[Any, ...]]:
    """Rows of the events table for ``n`` events spread over one window.

    ``columns`` maps a feature name to an array; names starting with ``output:`` are
    predictions, ``label`` is the label, ``segment:<key>`` a segment value,
    ``model_version`` the version that served the event (default "1").
    """
    step = size / max(n, 1)
    rows: list[tuple[Any, ...]] = []
    for j in range(n):
        p = Payload()
        label = None
        version = "1"
        for name, values in columns.items():
            v = values[j]
            if name == "label":
                label = None if v is None else str(v)
            elif name == "model_version":
                version = str(v)
            elif name.startswith("segment:"):
                p.segs[name[8:]] = str(v)
            elif name.startswith("output:"):
                p.output(name[7:], v, not isinstance(v, str))
            else:
                p.feature(name, v, not isinstance(v, str))
        ts = start + step * j
        rows.append((model_id, version, f"{prefix}-{j}", ts, *p.maps(), label, p.segs, 0, ts, 0, j))
    return rows


def profile_part(columns: Mapping[str, Any]) -> bytes:
    """A serialized whylogs profile of one window's columns, as the collector writes it
    (features by name, ``output:`` names as ``prediction.<name>``; labels and segments
    are not profiled)."""
    from driftscope.collector.model import CATEGORICAL, NUMERIC, PRED_PREFIX
    from driftscope.collector.profiling import profile_bytes

    named = {(PRED_PREFIX + k[7:] if k.startswith("output:") else k): v
             for k, v in columns.items()
             if k not in ("label", "model_version") and not k.startswith("segment:")}
    n = len(next(iter(named.values()))) if named else 0
    records = [{k: (None if missing(v[j]) else v[j]) for k, v in named.items()}
               for j in range(n)]
    kinds = {k: CATEGORICAL if any(isinstance(x, str) for x in v) else NUMERIC
             for k, v in named.items()}
    return profile_bytes(records, kinds)


def write_windows(
    store: Store,
    model_id: str,
    start: datetime,
    size: timedelta,
    count: int,
    n: int | Callable[[int], int],
    generate: Generator,
    *,
    seed: int = 0,
    closed: bool = True,
    sampled: bool = False,
    profiled: bool = False,
    versions: bool = True,
) -> int:
    """Write ``count`` consecutive windows of events (and their closed-window rows).

    ``generate(i, rng, n)`` returns the columns of window ``i``; ``n`` is an int or a
    function of the window index. Returns the number of events written. Each window also
    gets a ``window_parts`` row (its count, flushed when its last event came), and each
    version its ``model_versions`` span, as the collector writes them (``versions``
    False: not, as a release before migration 208 did). With
    ``sampled`` the events are written as sample candidates (``samples``, random hashes,
    one stratum), as for a model logged without raw events; with ``profiled`` as one
    whylogs profile part per window (``profiles``), as for a model logged only as profiles.
    """
    rng = np.random.default_rng(seed)
    table = S.SAMPLES if sampled else S.EVENTS
    total = 0
    events: list[tuple[Any, ...]] = []
    windows: list[tuple[Any, ...]] = []
    parts: list[tuple[Any, ...]] = []
    profiles: list[tuple[Any, ...]] = []
    spans: dict[str, list[datetime]] = {}  # (each version's first and last event)
    for i in range(count):
        w_start = start + i * size
        k = n(i) if callable(n) else n
        cols = generate(i, rng, k)
        rows = event_rows(model_id, w_start, size, k, cols, f"{seed}-{i}")
        seconds = int(size.total_seconds())
        if sampled:  # (window, stratum, hash, the payload, the Kafka position)
            hashes = rng.integers(0, 2**63, size=k)
            rows = [(w_start, seconds, "", int(h), *r[:12], *r[-2:])
                    for r, h in zip(rows, hashes, strict=True)]
        events += [] if profiled else rows
        for r in rows:
            v, t = (r[5], r[7]) if sampled else (r[1], r[3])
            seen = spans.setdefault(v, [t, t])
            seen[:] = [min(seen[0], t), max(seen[1], t)]
        windows.append((model_id, w_start, w_start + size, seconds, k, 0, w_start + size))
        last = rows[-1][3 if not sampled else 7] if rows else w_start
        parts.append((model_id, w_start, seconds, 0, 0, max(k - 1, 0), k, 0, last, last))
        if profiled and k:
            profiles.append((model_id, w_start, seconds, 0, 0, k - 1, k, profile_part(cols),
                             last))
        total += k
        if len(events) > 20000:
            store.insert(table, events, table.columns)
            events = []
    store.insert(table, events, table.columns)
    store.insert(S.WINDOW_PARTS, parts, S.WINDOW_PARTS.columns)
    store.insert(S.PROFILES, profiles, S.PROFILES.columns)
    if versions:
        store.insert(S.MODEL_VERSIONS, [(model_id, v, a, b) for v, (a, b) in spans.items() if v],
                     S.MODEL_VERSIONS.columns)
    if closed:
        store.insert(S.WINDOWS, windows, S.WINDOWS.columns)
    return total
