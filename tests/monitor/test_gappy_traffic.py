"""A nightly batch judged in hourly windows: every window with events follows windows
without any, a gap ends every streak of bad windows, and 11 of 14 drifted batches were
neither alerted on nor asked retraining for, without a word. The monitor now says so."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from driftscope.config import Config
from driftscope.monitor import scheduler
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CONFIG = Config.model_validate({
    "models": [{"id": "m", "window": "1h"}],
    "monitors": [{"name": "nightly", "model": "m", "features": ["x"]}],
    "alerts": {"console": False}})


def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {"x": rng.normal(0, 1, n)}


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "followed windows without" in
            r.getMessage()]


def test_a_monitor_whose_windows_follow_gaps_says_it_cannot_alert(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler, "_GAPS_TOLD", {})
    for day in range(14):
        write_windows(store, "m", T0 + timedelta(days=day, hours=2), timedelta(hours=1), 1,
                      300, gen, seed=day)
    with caplog.at_level(logging.WARNING, logger="driftscope.monitor"):
        Monitor(store, CONFIG).run_once()
        write_windows(store, "m", T0 + timedelta(days=14, hours=2), timedelta(hours=1), 1,
                      300, gen, seed=14)
        Monitor(store, CONFIG).run_once()  # (once a day at most)
    assert said(caplog) == [
        "monitor nightly: 12 of the model's last 12 windows with events followed windows "
        "without any; alerts and retraining need bad windows in a row, which a gap ends, so "
        "this monitor never alerts: set the model's window to the time its traffic spans "
        "(a nightly batch: window: 1d)"]


def test_traffic_in_every_window_is_not_warned_of(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler, "_GAPS_TOLD", {})
    write_windows(store, "m", T0, timedelta(hours=1), 20, 300, gen)
    with caplog.at_level(logging.WARNING, logger="driftscope.monitor"):
        Monitor(store, CONFIG).run_once()
    assert said(caplog) == []


def test_a_monitor_that_alerts_on_one_window_is_not_warned_of_gaps(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler, "_GAPS_TOLD", {})
    one = CONFIG.model_copy(update={"alerts": CONFIG.alerts.model_copy(
        update={"min_windows": 1})})
    for day in range(14):
        write_windows(store, "m", T0 + timedelta(days=day, hours=2), timedelta(hours=1), 1,
                      300, gen, seed=day)
    with caplog.at_level(logging.WARNING, logger="driftscope.monitor"):
        Monitor(store, one).run_once()
    assert said(caplog) == []
