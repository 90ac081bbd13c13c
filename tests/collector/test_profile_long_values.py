"""Categorical values longer than whylogs' default 128-character frequent-items cap: the
collector's profiles keep them whole, so a profile-only model reads back the categories
its events carry (none merged by a shared prefix, none renamed against a dataset
reference that holds the full strings)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from driftscope.collector.profiling import merge_profiles, profile_bytes
from driftscope.config import Config
from driftscope.monitor.profiled import OTHER, expand
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import profile_part, write_windows
from driftscope.monitor.upload import upload
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
PREFIX = "https://shop.example.com/" + "catalogue/" * 11  # 135 characters with a page
PAGES = np.array([PREFIX + p for p in ("shoes", "hats", "bags")], dtype=object)


def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Three 135-character pages sharing their first 130; the mix shifts from window 4."""
    return {"page": rng.choice(PAGES, n, p=[0.5, 0.3, 0.2] if i < 4 else [0.1, 0.1, 0.8])}


def test_long_categories_are_read_back_whole_and_distinct() -> None:
    assert min(len(p) for p in PAGES) > 128 and len({p[:128] for p in PAGES}) == 1
    huge = "v" * 999_000 + "-end"  # about the largest value a 1 MB event can carry
    cols = gen(0, np.random.default_rng(0), 1000)
    cols["page"][:3] = huge
    view = merge_profiles([profile_part({"page": cols["page"][:500]}),
                           profile_part({"page": cols["page"][500:]})])
    got = Counter(expand(view, 1000, ["page"])["page"].tolist())
    assert got == Counter(cols["page"].tolist())
    assert got[huge] == 3


def test_many_distinct_long_values_keep_the_profile_bounded() -> None:
    # the frequent-items sketch tracks at most 3/4 · 2^10 = 768 items one by one, so a
    # profile holds at most 768 whole values however many distinct ones a flush brings
    records = [{"page": f"{i:06d}" + "p" * 2000} for i in range(5000)]
    size = len(profile_bytes(records, {"page": "categorical"}))
    assert size < 768 * 2010 + 200_000
    view = merge_profiles([profile_bytes(records, {"page": "categorical"})])
    got = Counter(expand(view, 5000, ["page"])["page"].tolist())
    assert all(k == OTHER or len(k) == 2006 for k in got)


def test_no_false_drift_against_a_dataset_of_the_same_long_values(store: Store) -> None:
    upload(store, "p", "train", pd.DataFrame(gen(0, np.random.default_rng(1), 5000)))
    write_windows(store, "p", T0, W, 6, 2000, gen, seed=3, profiled=True)
    assert store.count(S.EVENTS, "model_id = 'p'") == 0

    def mon(name: str, ref: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "model": "p", "features": ["page"], "reference": ref}

    cfg = Config.model_validate({
        "models": [{"id": "p", "window": "10m", "logging": ["profile"]}],
        "monitors": [mon("dataset", {"kind": "dataset", "dataset": "train"}),
                     mon("previous", {"kind": "previous", "windows": 2})],
        "alerts": {"console": False}})
    verdicts = Monitor(store, cfg).run_once()
    found = {(v.monitor, v.window_start): {f.metric for f in v.findings} for v in verdicts}
    # against the uploaded events: nothing until the mix shifts, then the shift (and no
    # category is new: the profile holds the same strings as the dataset)
    assert [found["dataset", T0 + i * W] == set() for i in range(6)] == [True] * 4 + [False] * 2
    assert not any("new_categories" in m for m in found.values())
    # against the previous windows: the shift at window 4 is seen (three categories, not one)
    assert found["previous", T0 + 4 * W]
