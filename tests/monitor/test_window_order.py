"""A window whose window before holds events but is not closed yet (a lagging member of
the collector's group) waits for it, a while: the alert engine, which applies a model's
windows in order, then gets both bad windows in order and raises the alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import WindowVerdict
from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
CFG = Config.model_validate({
    "models": [{"id": "m", "window": "10m", "allowed_lateness": "1m"}],
    "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                  "persistence": {"enabled": False},
                  "reference": {"kind": "fixed", "start": T0.isoformat(),
                                "end": (T0 + 3 * W).isoformat()}}],
    "alerts": {"console": False, "min_windows": 2}})


class Spy:
    """The alert engine, noting each window's action."""

    def __init__(self, store: Store) -> None:
        self.engine, self.actions = AlertEngine(store, CFG.alerts), {}

    def process(self, v: WindowVerdict) -> Any:
        d = self.engine.process(v)
        self.actions[int((v.window_start - T0) / W)] = d.action
        return d


def lagging(store: Store) -> None:
    """Windows 0-4 as usual; window 5 (drifted) flushed, not closed; window 6 (drifted)
    closed at T0 + 70 min."""
    def g(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(2.0 if i >= 5 else 0.0, 1, n)}
    write_windows(store, "m", T0, W, 5, 500, g, seed=1)
    write_windows(store, "m", T0 + 5 * W, W, 1, 500, lambda i, r, n: g(5, r, n), seed=2,
                  closed=False)
    write_windows(store, "m", T0 + 6 * W, W, 1, 500, lambda i, r, n: g(6, r, n), seed=3)


def run(store: Store, spy: Spy, at: timedelta) -> list[int]:
    out = Monitor(store, CFG, alerts=spy, clock=lambda: T0 + at).run_once()
    return [int((v.window_start - T0) / W) for v in out]


def test_a_window_waits_for_the_window_before_to_close(store: Store) -> None:
    lagging(store)
    spy = Spy(store)
    assert run(store, spy, 7 * W + timedelta(seconds=10)) == [0, 1, 2, 3, 4]  # 6 waits
    store.insert(S.WINDOWS, [("m", T0 + 5 * W, T0 + 6 * W, 600, 500, 0,
                              T0 + 7 * W + timedelta(seconds=30))], S.WINDOWS.columns)
    assert run(store, spy, 7 * W + timedelta(seconds=40)) == [5, 6]
    # (before: 6 judged first, 5 after it 'seen', and no alert)
    assert (spy.actions[5], spy.actions[6]) == ("pending", "open")
    assert store.count(f"{S.ALERTS} FINAL") == 1


def test_it_waits_no_longer_than_the_allowed_lateness(store: Store) -> None:
    lagging(store)
    spy = Spy(store)
    assert run(store, spy, 7 * W + timedelta(seconds=10)) == [0, 1, 2, 3, 4]
    assert run(store, spy, 7 * W + timedelta(seconds=61)) == [6]  # 5 never closed
