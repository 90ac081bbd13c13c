"""A burst one window long that begins partway through a window, as production bursts
do: it touches two windows, and two bad windows in a row that moved the same way are
what the alert rule pages on. The monitor reads each window's events in time order and
sees the burst stop within the second window, so it does not page; a drift that begins
at the same moment and lasts does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.alerts.state import AlertStore
from driftscope.config import Config, Secrets
from driftscope.monitor import scheduler
from driftscope.monitor.seed import write_windows
from driftscope.monitor.service import run_pass
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(hours=1)
N = 1000  # events per window
START = 14 * N + 600  # the burst (or the drift) begins 60 % into window 14


def _config(**persistence: Any) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "1h"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x", "y"],
                      "persistence": persistence, "reference": {
                          "kind": "fixed", "start": T0.isoformat(),
                          "end": (T0 + 12 * W).isoformat()}}],
        "alerts": {"console": False}})


def _shifted_from(start: int, end: int, by: float) -> Callable[..., dict[str, Any]]:
    """Windows of ``x`` and ``y``, events ``[start, end)`` of the stream shifted ``by``."""
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        at = i * n + np.arange(n)
        on = (at >= start) & (at < end)
        return {"x": rng.normal(size=n) + by * on, "y": rng.normal(size=n)}
    return gen


def _alerts(store: Store, cfg: Config) -> int:
    verdicts, _ = run_pass(store, cfg, Secrets())
    assert [v.bad for v in verdicts[14:16]] == [True, True]  # both windows flagged
    return store.count(f"{S.ALERTS} FINAL")


@pytest.mark.parametrize("by", [0.35, 0.7])
def test_a_burst_straddling_two_windows_does_not_page(store: Store, by: float) -> None:
    write_windows(store, "m", T0, W, 20, N, _shifted_from(START, START + N, by), seed=1)
    assert _alerts(store, _config()) == 0


def test_without_the_stop_check_the_same_burst_pages(store: Store) -> None:
    """The burst above, judged as before the stop check existed: two bad windows that
    moved one way, and an alert."""
    write_windows(store, "m", T0, W, 20, N, _shifted_from(START, START + N, 0.7), seed=1)
    assert _alerts(store, _config(stop_alpha=None)) == 1


def test_a_drift_that_begins_there_and_lasts_pages_on_its_second_window(store: Store) -> None:
    write_windows(store, "m", T0, W, 16, N, _shifted_from(START, 10**9, 0.35), seed=1)
    verdicts, _ = run_pass(store, _config(), Secrets())
    assert len(verdicts) == 16 and verdicts[14].bad and verdicts[15].bad
    (alert,) = [a for a, _, _ in AlertStore(store).open_alerts()]
    assert alert.state == "firing" and alert.windows == 2



@pytest.mark.parametrize("checked_below, pages", [(None, True), (timedelta(days=2), False)])
def test_daily_windows_are_not_checked_for_a_drift_that_stopped(
        store: Store, monkeypatch: pytest.MonkeyPatch, checked_below: timedelta | None,
        pages: bool) -> None:
    """Found in review: a window of a day holds the day's own rhythm. A drift of business
    hours only (08:00–18:00, every day from day 14) stops within each window, as a burst
    would: were daily windows checked (the second case), the second day would not page."""
    def office_hours(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        hour = np.arange(n) * 24 / n
        on = (i >= 14) & (hour >= 8) & (hour < 18)
        return {"x": rng.normal(size=n) + 0.5 * on, "y": rng.normal(size=n)}

    if checked_below is not None:
        monkeypatch.setattr(scheduler, "STOP_WITHIN", checked_below)
    day = timedelta(days=1)
    write_windows(store, "m", T0, day, 16, N, office_hours, seed=2)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "1d"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x", "y"], "reference": {
            "kind": "fixed", "start": T0.isoformat(), "end": (T0 + 12 * day).isoformat()}}],
        "alerts": {"console": False}})
    verdicts, _ = run_pass(store, cfg, Secrets())
    assert verdicts[14].bad and verdicts[15].bad
    assert len(AlertStore(store).open_alerts()) == int(pages)
