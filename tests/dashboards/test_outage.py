"""A stream that stops, then comes back, on the Data quality dashboard: the windows without
events are seen (found in review: "Events per window" drew a flat line across the gap,
and the silent windows' volume rows sat at 0 on a limit of 0, like every normal window)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.alerts.engine import AlertEngine
from driftscope.config import Config
from driftscope.dashboards import build as b
from driftscope.dashboards import panels_overview, panels_quality
from driftscope.dashboards.macros import ALL, expand
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
CHOSEN = {"model": ["m"], "monitor": [ALL], "feature": ["x"], "segment": ["all"]}


def _normal(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    return {"x": rng.normal(size=n)}


def test_a_stopped_stream_shows_as_empty_windows_and_silent_volume(store: Store) -> None:
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "10m", "allowed_lateness": "1m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "quality": {"silence": "20m"}, "reference": {
                          "kind": "fixed", "start": T0.isoformat(),
                          "end": (T0 + 3 * W).isoformat()}}],
        "alerts": {"console": False}})

    def monitor_pass(at: datetime) -> None:
        engine = AlertEngine(store, cfg.alerts, clock=lambda: at)
        Monitor(store, cfg, alerts=engine, clock=lambda: at).run_once()

    write_windows(store, "m", T0, W, 11, 200, _normal, seed=1)
    # window 11 (01:50) is the last with events; the collector never closes it
    write_windows(store, "m", T0 + 11 * W, W, 1, 200, _normal, seed=2, closed=False)
    monitor_pass(T0 + 12 * W + timedelta(minutes=10))
    monitor_pass(T0 + 12 * W + timedelta(minutes=30))  # windows 12 and 13 silent
    write_windows(store, "m", T0 + 16 * W, W, 3, 200, _normal, seed=3)  # back at 02:40
    monitor_pass(T0 + 19 * W + timedelta(minutes=1))

    def panel(sql: str) -> list[tuple[Any, ...]]:
        _, rows = store.query_columns(expand(sql, T0, T0 + 19 * W, 600, CHOSEN,
                                             all_values=b.ALL_VALUES))
        return [(r[0].astimezone(UTC), *r[1:]) for r in rows]

    counts = {t: events for t, events, _ in panel(panels_quality.window_counts().sql)}
    assert list(counts) == [T0 + k * W for k in range(19)]  # every window, to the end
    assert [counts[T0 + k * W] for k in (10, 11, 12, 13, 14, 15, 16)] == \
        [200, 200, 0, 0, 0, 0, 200]
    overview = {t: events for t, model, events in panel(panels_overview.event_volume().sql)}
    assert overview == counts
    volume = {t: (value, limit) for t, series, value, limit
              in panel(panels_quality.quality_checks().sql) if series.startswith("volume")}
    for k in (12, 13):  # silent: its volume z (200 events a window before) over its limit
        value, limit = volume[T0 + k * W]
        assert limit == cfg.monitors[0].quality.volume_z and value > limit
    assert all(value < limit for t, (value, limit) in volume.items()
               if t not in (T0 + 12 * W, T0 + 13 * W))
