"""A backfill leaves in its range only the rows its configuration makes, and redoes its
range a batch at a time, so that a ``serve`` beside it does not evaluate the whole range
again."""

from __future__ import annotations

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
D = S.DRIFT_RESULTS


def config(**monitor: Any) -> Config:
    base = {"name": "mon", "model": "m", "features": ["x", "y"], "segments": ["shop"],
            "reference": {"kind": "fixed", "start": T0.isoformat(),
                          "end": (T0 + 3 * W).isoformat()}}
    return Config.model_validate({"models": [{"id": "m", "window": "10m"}],
                                  "monitors": [{**base, **monitor}],
                                  "alerts": {"console": False}})


def shops(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    shop = np.array(["big"] * (n - 100) + ["s1"] * 50 + ["s2"] * 50, dtype=object)
    return {"x": rng.normal(size=n), "y": rng.normal(size=n), "segment:shop": shop}


def rows(store: Store, where: str) -> set[int]:
    """The windows (numbered from T0) holding rows ``where``."""
    got = store.query(f"SELECT DISTINCT {D.window_start} FROM {D} FINAL WHERE {where}")
    return {int((r[0].replace(tzinfo=UTC) - T0) / W) for r in got}


def test_a_backfill_leaves_no_row_its_configuration_no_longer_makes(store: Store) -> None:
    write_windows(store, "m", T0, W, 8, 1000, shops, seed=1)
    Monitor(store, config(min_events=30)).run_once()
    assert rows(store, f"{D.segment} = 'shop=s1'") == set(range(8))
    assert rows(store, f"{D.feature} = 'y'") == set(range(8))
    # the small shops under min_events now, y no longer watched, quality turned off
    changed = config(min_events=100, features=["x"], quality={"enabled": False})
    assert len(Monitor(store, changed).backfill(T0 + 4 * W, T0 + 8 * W)) == 4
    assert rows(store, f"{D.segment} = 'shop=s1'") == set(range(4))  # the rest as it was
    assert rows(store, f"{D.feature} = 'y'") == set(range(4))
    assert rows(store, f"{D.fingerprint} = 'quality'") == set(range(4))
    assert rows(store, f"{D.feature} = 'x' AND {D.segment} = 'shop=big'") == set(range(8))


def test_serve_beside_a_backfill_redoes_at_most_the_batch_being_redone(store: Store) -> None:
    write_windows(store, "m", T0, W, 20, 300, shops, seed=2)
    live = Monitor(store, config())
    assert len(live.run_once()) == 20
    beside: list[int] = []

    def serve_pass(name: str, done: int, total: int) -> None:  # while a batch is redone
        beside.append(len(live.run_once()))

    redone = Monitor(store, config(), chunk=4).backfill(T0, T0 + 20 * W, serve_pass)
    assert len(redone) == 20
    assert max(beside) == 4  # one batch at a time (before: the whole range, 20, at once)
    assert results.processed(store, "m", "mon", W) == {T0 + i * W for i in range(20)}
