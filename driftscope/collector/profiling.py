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

from collections.abc import Iterable, Mapping
from functools import cache, reduce
from typing import Any

from driftscope.collector.model import NUMERIC


def profile_bytes(records: list[dict[str, Any]], kinds: Mapping[str, str]) -> bytes:
    """Profile the records (dicts of column → value) and serialize the view."""
    import pandas as pd
    from whylogs.core import DatasetProfile

    frame = pd.DataFrame.from_records(records)
    for name in frame.columns:
        if kinds.get(name) == NUMERIC:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        else:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    profile = DatasetProfile(schema=_schema())
    profile.track(pandas=frame)
    return bytes(profile.view().serialize())


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
    from whylogs.core.schema import DeclarativeSchema

    return DeclarativeSchema(_specs())


def merge_profiles(parts: Iterable[bytes]) -> Any:
    """Merge serialized profile views into one ``DatasetProfileView`` (None if no parts)."""
    from whylogs.core import DatasetProfileView

    views = [DatasetProfileView.deserialize(p) for p in parts]
    if not views:
        return None
    return reduce(lambda a, b: a.merge(b), views)
