"""Processed windows are told apart by size, and a backfill redoes every window it forgets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.config import Config
from driftscope.monitor import results
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
M = S.MONITOR_WINDOWS


def record(store: Store, start: datetime, size: timedelta, drifted: list[str]) -> None:
    store.insert(M, [("m", "mon", start, start + size, "fp", int(bool(drifted)), 100,
                      json.dumps({"drifted": drifted}), T0)], M.columns)


def test_a_window_of_a_new_size_is_not_taken_for_the_old_one_at_its_start(
        store: Store) -> None:
    for i in range(6):  # 00:00 … 01:00 processed as 10-minute windows, 00:00 drifted on x
        record(store, T0 + i * W, W, ["x"] if i == 0 else [])
    hour = timedelta(hours=1)
    assert T0 in results.processed(store, "m", "mon", W)
    assert T0 not in results.processed(store, "m", "mon", hour)  # the 1 h window at 00:00
    assert results.drifted_at(store, "m", "mon", T0, W) == ["x"]
    assert results.drifted_at(store, "m", "mon", T0, hour) == []
    record(store, T0, hour, ["y"])
    assert results.drifted_at(store, "m", "mon", T0, hour) == ["y"]
    assert T0 in results.processed(store, "m", "mon", hour)


def test_backfill_until_mid_window_keeps_every_window_processed(store: Store) -> None:
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(size=n)}

    write_windows(store, "m", T0, W, 6, 200, gen)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "reference": {"kind": "previous", "windows": 2}}],
        "alerts": {"console": False}})
    Monitor(store, cfg).run_once()
    redone = Monitor(store, cfg).backfill(T0 + 2 * W, T0 + 4 * W + W / 2)
    assert [v.window_start for v in redone] == [T0 + 2 * W, T0 + 3 * W]
    starts = {r[0] for r in store.query(f"SELECT {M.window_start} FROM {M} FINAL")}
    assert len(starts) == 6  # the window 00:40–00:50, past --until, is still processed
    assert Monitor(store, cfg).run_once() == []
