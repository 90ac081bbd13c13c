"""whylogs profiles: one per model × window × partition × flush, merged on read.

Each profile part is the whylogs :class:`DatasetProfileView` of the events of one flush,
serialized with ``.serialize()`` into ``profiles.profile``. whylogs profiles are
mergeable summaries, so a window's profile is the merge of its parts, whichever
collectors and flushes produced them. Columns are the features by name and the scalar
predictions as ``prediction.<name>``; numeric columns are float64 (NaN for missing),
categorical columns are text (None for missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import reduce
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
    profile = DatasetProfile()
    profile.track(pandas=frame)
    return bytes(profile.view().serialize())


def merge_profiles(parts: Iterable[bytes]) -> Any:
    """Merge serialized profile views into one ``DatasetProfileView`` (None if no parts)."""
    from whylogs.core import DatasetProfileView

    views = [DatasetProfileView.deserialize(p) for p in parts]
    if not views:
        return None
    return reduce(lambda a, b: a.merge(b), views)
