"""A model whose traffic stops: ``quality.silence``.

The collector closes a window when a later event passes it, so when an app stops logging
its last window never closes and no window follows: without ``silence`` the monitor sees
nothing at all. With it, once nothing was ingested for that long (wall time), the
windows since the last event are closed by the monitor, the empty ones as bad ``volume``
findings, and the alert pages; it resolves when traffic is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.alerts.engine import AlertEngine
from driftscope.config import Config
from driftscope.monitor.frame import MAX_SILENT_WINDOWS
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D, M, A = S.DRIFT_RESULTS, S.MONITOR_WINDOWS, S.ALERTS


def config(**quality: Any) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m", "allowed_lateness": "1m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "quality": quality,
                      "reference": {"kind": "fixed", "start": T0.isoformat(),
                                    "end": (T0 + 3 * W).isoformat()}}],
        "alerts": {"console": False, "min_windows": 2, "resolve_windows": 2}})


def normal(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    return {"x": rng.normal(size=n)}


def passes(store: Store, cfg: Config, at: datetime) -> list[Any]:
    clock = lambda: at  # noqa: E731
    engine = AlertEngine(store, cfg.alerts, clock=clock)
    return Monitor(store, cfg, alerts=engine, clock=clock).run_once()


def index(v: Any) -> int:
    return int((v.window_start - T0) / W)


def alert_states(store: Store) -> list[str]:
    return [r[0] for r in store.query(f"SELECT {A.state} FROM {A} FINAL")]


def stop_after_window_11(store: Store) -> None:
    write_windows(store, "m", T0, W, 11, 200, normal, seed=1)
    # the last window's events: no later event ever closes it
    write_windows(store, "m", T0 + 11 * W, W, 1, 200, normal, seed=2, closed=False)


def test_a_stopped_stream_pages_once_silence_has_passed_and_resolves_when_back(
    store: Store,
) -> None:
    stop_after_window_11(store)
    cfg = config(silence="20m")
    end = T0 + 12 * W  # the last event is just before
    assert [index(v) for v in passes(store, cfg, end + timedelta(minutes=10))] == list(range(11))
    assert alert_states(store) == []

    late = passes(store, cfg, end + timedelta(minutes=30))
    # 30 min without an event: event time has moved on about as much, less the lateness
    assert [index(v) for v in late] == [11, 12, 13]
    assert late[0].n_events == 200 and not any(f.metric == "volume" for f in late[0].findings)
    for v in late[1:]:
        assert v.n_events == 0
        (f,) = v.findings
        assert (f.kind, f.metric, f.reason) == ("quality", "volume", "silence")
        # its volume z: 0 events after windows of 200 (Poisson floor: 200 / 200 ** 0.5)
        assert (f.statistic, f.threshold) == (pytest.approx(200 / 200 ** 0.5), 6.0)
    assert alert_states(store) == ["firing"]
    assert passes(store, cfg, end + timedelta(minutes=30)) == []  # each window once

    rows = store.query(f"SELECT {D.window_start}, {D.statistic}, {D.drifted} FROM {D} FINAL "
                       f"WHERE {D.metric} = 'volume' AND {D.window_start} >= "
                       "{s:DateTime64(3, 'UTC')} ORDER BY 1", {"s": T0 + 12 * W})
    assert [(round(float(v), 2), int(d)) for _, v, d in rows] == [(14.14, 1)] * 2  # dashboards

    # traffic is back: its windows are processed as usual and the alert resolves
    write_windows(store, "m", T0 + 16 * W, W, 3, 200, normal, seed=3)
    back = passes(store, cfg, T0 + 19 * W + timedelta(minutes=1))
    assert [index(v) for v in back] == [16, 17, 18] and not any(v.findings for v in back)
    assert alert_states(store) == ["resolved"]


def test_without_silence_a_stopped_stream_shows_nothing_new(store: Store) -> None:
    stop_after_window_11(store)
    late = passes(store, config(), T0 + 12 * W + timedelta(hours=5))
    assert [index(v) for v in late] == list(range(11))


def test_silence_is_not_judged_by_a_backfill(store: Store) -> None:
    stop_after_window_11(store)
    cfg = config(silence="20m")
    clock = lambda: T0 + 12 * W + timedelta(hours=1)  # noqa: E731
    done = Monitor(store, cfg, clock=clock).backfill(T0, T0 + 20 * W)
    assert [index(v) for v in done] == list(range(11))  # a backfill redoes closed windows


def test_a_long_retired_model_is_judged_on_its_latest_silent_windows_only(store: Store) -> None:
    stop_after_window_11(store)
    late = passes(store, config(silence="20m"), T0 + 12 * W + timedelta(days=30))
    assert len(late) == 11 + 1 + MAX_SILENT_WINDOWS  # not the 4,300 windows of 30 days
    assert index(late[11]) == 11 and index(late[12]) > 12  # a gap, then the latest ones
    assert [index(v) for v in late[12:]] == list(range(index(late[12]), index(late[-1]) + 1))
    assert alert_states(store) == ["firing"]


def test_the_message_says_the_stream_is_silent(store: Store) -> None:
    from driftscope.alerts.messages import describe, summary
    from driftscope.alerts.state import AlertStore

    stop_after_window_11(store)
    late = passes(store, config(silence="20m"), T0 + 12 * W + timedelta(minutes=30))
    (alert_id,), = store.query(f"SELECT {A.alert_id} FROM {A} FINAL")
    found = AlertStore(store).get(alert_id)
    assert found is not None
    assert "no events (the stream is silent)" in summary(found[0], late[-1])
    assert describe(late[-1].findings[0]) == "volume (volume 0: no events, the stream is silent)"


def test_a_window_the_lateness_keeps_open_is_closed_by_the_silence(store: Store) -> None:
    write_windows(store, "m", T0, W, 11, 200, normal, seed=1)
    write_windows(store, "m", T0 + 11 * W, W, 1, 200, normal, seed=2, closed=False)
    # one more event just past window 12's start: within the lateness, 11 stays open
    write_windows(store, "m", T0 + 12 * W, W, 1, 1, normal, seed=3, closed=False)
    late = passes(store, config(silence="20m"), T0 + 12 * W + timedelta(minutes=30))
    assert [index(v) for v in late] == [*range(11), 11, 12, 13]
    assert [v.n_events for v in late[11:]] == [200, 1, 0]


def test_a_long_silence_stays_over_its_volume_limit(store: Store) -> None:
    """Found in review: deep in a silence the volume history (the windows before each one)
    held no event, or the silence's own zeros, and the silent windows' volume fell to 0
    under its limit: a dashboard showed a stopped stream as normal again."""
    stop_after_window_11(store)
    cfg = config(silence="20m")
    passes(store, cfg, T0 + 12 * W + timedelta(minutes=10))
    for k in (30, 80):  # one pass deep in the silence, one much later
        passes(store, cfg, T0 + (12 + k) * W + timedelta(minutes=10))
    rows = store.query(f"SELECT {D.statistic}, {D.threshold} FROM {D} FINAL WHERE "
                       f"{D.metric} = 'volume' AND {D.window_start} >= "
                       "{s:DateTime64(3, 'UTC')} ORDER BY 1", {"s": T0 + 12 * W})
    assert len(rows) > 60
    assert {(round(float(v), 2), float(t)) for v, t in rows} == {(14.14, 6.0)}
