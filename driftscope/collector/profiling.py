"""whylogs profiles: one per model × window × partition × flush, merged on read.

Each profile part is the whylogs :class:`DatasetProfileView` of the events of one flush,
serialized with ``.serialize()`` into ``profiles.profile``. whylogs profiles are
mergeable summaries, so a window's profile is the merge of its parts, whichever
collectors and flushes produced them. Columns are the features by name and the scalar
predictions as ``prediction.<name>``; numeric columns are float64 (NaN for missing),
categorical columns are text (None for missing). Metrics per column: counts and types;
numeric: distribution (KLL) and cardinality (HLL); categorical: cardinality and frequent
items. (whylogs' ``unicode_range`` is left out: it costs ~40 ms per string column and
profile.)
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from functools import cache, reduce
from typing import Any

from driftscope.collector.model import NUMERIC


def profile_bytes(records: list[dict[str, Any]], kinds: Mapping[str, str]) -> bytes:
    """Profile the records (dicts of column → value) and serialize the view.

    Categorical columns go through whylogs' pandas path. Numeric columns are handed to
    whylogs already split (missing values counted, the rest as a float64 array): its pandas
    path would test every float for infinity with a Python call per value, which halves
    the collector's profile throughput. The metrics are the same — counts, types and
    cardinality exactly, the KLL sketch within its own randomness (tests/collector).
    """
    import pandas as pd
    from whylogs.core import DatasetProfile

    frame = pd.DataFrame.from_records(records)
    numeric = [c for c in frame.columns if kinds.get(c) == NUMERIC]
    other = [c for c in frame.columns if kinds.get(c) != NUMERIC]
    for name in other:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    profile = DatasetProfile(schema=_schema())
    if other:
        profile.track(pandas=frame[other])
    if numeric:
        _track_floats(profile, {c: pd.to_numeric(frame[c], errors="coerce") for c in numeric})
    return bytes(profile.view().serialize())


def _track_floats(profile: Any, columns: Mapping[str, Any]) -> None:
    """Track float64 columns (NaN = missing) without whylogs' per-value pandas path.

    Uses whylogs 1.6's column-level API (the version is pinned in pyproject.toml).
    """
    import numpy as np
    import pandas as pd
    from whylogs.core.preprocessing import NumpyView, PreprocessedColumn

    profile._schema.resolve(pandas=pd.DataFrame({c: np.zeros(1) for c in columns}))
    profile._initialize_new_columns(tuple(c for c in columns if c not in profile._columns))
    for name, series in columns.items():
        values = np.asarray(series, dtype=np.float64)
        missing = np.isnan(values)
        col = PreprocessedColumn()
        col.original = values
        col.len = len(values)
        col.null_count = col.nan_count = int(missing.sum())
        col.inf_count = int(np.isinf(values).sum())
        col.numpy = NumpyView(floats=values[~missing])
        profile._columns[name]._process_extracted_column(col)


@cache
def _specs() -> list[Any]:
    """whylogs' standard metrics minus ``unicode_range`` (built even when disabled: slow)."""
    from whylogs.core.datatypes import AnyType, Fractional, Integral, String
    from whylogs.core.metrics import StandardMetric as M
    from whylogs.core.resolvers import COLUMN_METRICS, MetricSpec, ResolverSpec

    def spec(*metrics: Any) -> list[Any]:
        return COLUMN_METRICS + [MetricSpec(m.value) for m in metrics]

    return [
        ResolverSpec(
            column_type=Integral,
            metrics=spec(M.distribution, M.ints, M.cardinality, M.frequent_items),
        ),
        ResolverSpec(column_type=Fractional, metrics=spec(M.distribution, M.cardinality)),
        ResolverSpec(column_type=String, metrics=spec(M.cardinality, M.frequent_items)),
        ResolverSpec(column_type=AnyType, metrics=COLUMN_METRICS),
    ]


def _schema() -> Any:
    """The schema of every profile part: :func:`_specs`, with frequent items kept whole.

    whylogs' default ``max_frequent_item_size`` (128) would count only the first 128
    characters of each categorical value, so values sharing a 128-character prefix would
    read back as one category, named otherwise than in the events and in uploaded datasets
    (read in full). No cap is needed: a value is at most ``collector.max_event_bytes``
    long, and the sketch tracks at most 3/4 · 2^``fi_lg_max_k`` (768) items one by one
    (never more than the flush's distinct values), so a part holds at most 768 whole
    values — never more than the events it summarizes. Parts written before this (cut to
    128 characters) still read back cut.
    """
    from whylogs.core.metrics.metrics import MetricConfig
    from whylogs.core.schema import DeclarativeSchema

    whole = MetricConfig(max_frequent_item_size=sys.maxsize)
    return DeclarativeSchema(_specs(), default_config=whole)


def merge_profiles(parts: Iterable[bytes]) -> Any:
    """Merge serialized profile views into one ``DatasetProfileView`` (None if no parts)."""
    from whylogs.core import DatasetProfileView

    views = [DatasetProfileView.deserialize(p) for p in parts]
    if not views:
        return None
    return reduce(lambda a, b: a.merge(b), views)
