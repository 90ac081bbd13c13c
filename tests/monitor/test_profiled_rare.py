"""Rare categories of a model logged only as profiles, on chDB: where the frequent-items
sketch tracked every value (no "(other)" on either side), the monitor compares them as a
model logged raw would, instead of lumping every category under 0.68 % into "(other)"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D = S.DRIFT_RESULTS


def run(store: Store, generate: Any, n: int, detectors: list[str]) -> dict[str, Any]:
    """The last of 5 windows as a raw and as a profile-only model see it: monitor →
    {metric: (statistic, flagged, details)}."""
    def mon(name: str) -> dict[str, Any]:
        return {"name": name, "model": name, "features": ["c"],
                "detectors": [{"name": d} for d in detectors],
                "reference": {"kind": "previous", "windows": 3}}

    cfg = Config.model_validate({
        "models": [{"id": "raw", "window": "10m", "logging": ["raw"]},
                   {"id": "prof", "window": "10m", "logging": ["profile"]}],
        "monitors": [mon("raw"), mon("prof")], "alerts": {"console": False}})
    write_windows(store, "raw", T0, W, 5, n, generate, seed=2)
    write_windows(store, "prof", T0, W, 5, n, generate, seed=2, profiled=True)
    Monitor(store, cfg).run_once()
    out: dict[str, Any] = {}
    for m, metric, stat, flagged, details in store.query(
            f"SELECT {D.monitor}, {D.metric}, {D.statistic}, {D.drifted}, {D.details} FROM {D} "
            f"FINAL WHERE {D.window_start} = {{a:DateTime64(3, 'UTC')}}", {"a": T0 + 4 * W}):
        out.setdefault(m, {})[metric] = (stat, bool(flagged), json.loads(details))
    return out


def test_a_shift_among_rare_categories_is_seen_from_profiles(store: Store) -> None:
    """300 categories of 0.33 % each; in window 4 half move to 0.5 %, half to 0.17 % (a
    total variation of 0.25). Before: l1 0.0000 from profiles (all lumped), 0.50 raw."""
    cats = np.array([f"k{i}" for i in range(300)], dtype=object)
    after = np.where(np.arange(300) < 150, 0.005, 1 / 150 - 0.005)

    def generate(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"c": rng.choice(cats, n, p=after if i == 4 else None)}

    got = run(store, generate, 20_000, ["l1"])
    assert got["raw"]["l1"][1] and got["prof"]["l1"][1]
    assert got["prof"]["l1"][0] == got["raw"]["l1"][0] > 0.4


def test_new_rare_codes_are_counted_new_from_profiles(store: Store) -> None:
    """Three common values and 200 rare codes; window 4 brings 30 new codes at 0.5 % each
    (15 % of events). Before: profiles read 0.7 % new (all but one lumped into a
    "(other)" the reference had), not flagged; raw 15 %."""
    rare = np.array([f"r{i}" for i in range(200)], dtype=object)
    new = np.array([f"n{i}" for i in range(30)], dtype=object)

    def generate(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        c = rng.choice(np.array(["a", "b", "c"], dtype=object), n, p=[0.4, 0.3, 0.3])
        tail = rng.uniform(size=n) < 0.10
        c[tail] = rng.choice(rare, tail.sum())
        if i == 4:
            fresh = rng.uniform(size=n) < 0.15
            c[fresh] = rng.choice(new, fresh.sum())
        return {"c": c}

    got = run(store, generate, 5_000, ["linf"])
    raw, prof = got["raw"]["new_categories"], got["prof"]["new_categories"]
    assert raw[1] and prof[1]
    assert prof[0] == raw[0] > 0.1
    assert prof[2]["new"] == raw[2]["new"]
