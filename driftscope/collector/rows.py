"""A window's rows as numpy arrays: what detectors and the monitor consume.

Numeric features are float64 arrays with NaN where the value was null or absent;
categorical ones are object arrays of text with None. Predictions follow the same rule,
class-probability predictions are 2-D float64 arrays (object arrays if lengths differ).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from driftscope.collector.model import CATEGORICAL, NUMERIC, PRED_PREFIX


@dataclass
class WindowRows:
    """Columns of one window's events (raw rows or a sample), all of the same length."""

    event_ids: np.ndarray
    timestamps: np.ndarray  # datetime64[ms], UTC
    features: dict[str, np.ndarray]
    predictions: dict[str, np.ndarray]
    probs: dict[str, np.ndarray]
    labels: np.ndarray  # object: text or None
    segments: dict[str, np.ndarray]
    late: np.ndarray  # bool
    strata: np.ndarray | None = None  # samples only
    hashes: np.ndarray | None = None  # samples only: the bottom-k hash (uint64)
    kinds: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.event_ids)


def _column(values: list[Any], kind: str) -> np.ndarray:
    if kind == NUMERIC:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.array(values, dtype=object)


def _columns(
    maps_num: Sequence[Mapping[str, Any]],
    maps_cat: Sequence[Mapping[str, Any]],
    kinds: Mapping[str, str],
    prefix: str,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    names: dict[str, str] = {}
    for m in maps_num:
        for name in m:
            names.setdefault(name, NUMERIC)
    for m in maps_cat:
        for name in m:
            names.setdefault(name, CATEGORICAL)
    for full, kind in kinds.items():  # features known but absent from this window
        if full.startswith(PRED_PREFIX) == bool(prefix) and kind in (NUMERIC, CATEGORICAL):
            names.setdefault(full.removeprefix(prefix) if prefix else full, kind)
    out = {}
    for name, guessed in sorted(names.items()):
        kind = kinds.get(prefix + name, guessed)
        source = maps_num if kind == NUMERIC else maps_cat
        out[name] = _column([m.get(name) for m in source], kind)
        names[name] = kind
    return out, {prefix + n: k for n, k in names.items()}


def to_arrays(rows: Sequence[Sequence[Any]], kinds: Mapping[str, str]) -> WindowRows:
    """Rows of (event_id, ts_ms, f_num, f_cat, p_num, p_cat, p_probs, segments, label, late)."""
    cols = list(zip(*rows, strict=True)) if rows else [()] * 10
    features, fk = _columns(cols[2], cols[3], kinds, "")
    predictions, pk = _columns(cols[4], cols[5], kinds, PRED_PREFIX)
    probs: dict[str, np.ndarray] = {}
    for name in sorted({n for m in cols[6] for n in m}):
        vals = [m.get(name) for m in cols[6]]
        lengths = {len(v) for v in vals if v is not None}
        if len(lengths) == 1 and all(v is not None for v in vals):
            probs[name] = np.array(vals, dtype=np.float64)
        else:
            probs[name] = np.array(
                [None if v is None else np.array(v) for v in vals] + [None], dtype=object
            )[:-1]
    segments = {
        name: np.array([m.get(name) for m in cols[7]], dtype=object)
        for name in sorted({n for m in cols[7] for n in m})
    }
    return WindowRows(
        event_ids=np.array(cols[0], dtype=object),
        timestamps=np.array(cols[1], dtype=np.int64).astype("datetime64[ms]"),
        features=features,
        predictions=predictions,
        probs=probs,
        labels=np.array(cols[8], dtype=object),
        segments=segments,
        late=np.array(cols[9], dtype=bool),
        kinds={**fk, **pk},
    )
