"""What a performance metric's band and anomaly check learn from (found in review, each
with the monitor's real passes): a lasting fall whose first windows landed just inside
the band was learnt within 20 windows and announced "recovered" with the accuracy still
down; a seasonal band took every 24th value of a history with holes, so one unlabelled
hour put the day's band on the night's values; the anomaly check ignored the season and
paged every night; an error measured in thousandths could rise tenfold inside the band."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from stored_windows import close_window

from driftscope.config import Config
from driftscope.monitor import judge
from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.evaluate import Row, _judge_history
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
from driftscope.types import Window

T0 = datetime(2026, 2, 1, tzinfo=UTC)
H = timedelta(hours=1)


def _row(metric: str, value: float, se: float, labels: int = 500) -> Row:
    return Row("performance", "*", "*", metric, value, math.nan, "none", False, n_cur=labels,
               fingerprint="performance", details={"labels": labels, "standard_error": se})


def _cfg(task: str = "classification", **extra: Any) -> MonitorConfig:
    return MonitorConfig.model_validate({
        "name": "mon", "model": "m", "features": ["x"],
        "performance": {"task": task, "prediction": "pred"}, **extra})


def test_a_lasting_fall_is_not_learnt_as_the_new_normal(store: Store) -> None:
    """Accuracy 0.90, then 0.78 from window 30 on (300 labels an hour): every window of
    the fall is flagged. Before, the windows that landed just inside the band joined the
    history, which followed the fall down: from about window 52 none was flagged and the
    alert said "recovered" with the accuracy at 0.78."""
    def stream(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.integers(0, 2, n)
        wrong = rng.uniform(size=n) > (0.78 if i >= 30 else 0.90)
        return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y).astype(float),
                "label": [str(v) for v in y]}

    write_windows(store, "m", T0, H, 90, 300, stream, closed=False, seed=7)
    for i in range(90):
        close_window(store, T0 + i * H, H, 300)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "1h"}],
        "monitors": [{"name": "mon", "model": "m", "quality": {"enabled": False},
                      "performance": {"task": "classification", "prediction": "pred",
                                      "metrics": ["accuracy"]}}],
        "alerts": {"console": False}})
    Monitor(store, cfg).run_once()
    D = S.DRIFT_RESULTS
    got = store.query(f"SELECT {D.window_start}, {D.drifted} FROM {D} FINAL WHERE "
                      f"{D.metric} = 'accuracy' AND {D.segment} = '*' ORDER BY 1")
    bad = [(t.replace(tzinfo=UTC) - T0) // H for t, d in got if d]
    assert not [i for i in bad if i < 30], bad
    assert len([i for i in bad if i >= 30]) >= 58, bad  # of 60 (two at most: the first)


def _nightly(days: int, skip_hour: int | None = None) -> list[judge.Past]:
    """Hourly accuracy, 0.93 by day and 0.80 from 00:00 to 06:59, 500 labels a window."""
    rng = np.random.default_rng(3)
    out = []
    for h in range(days * 24):
        if h % 24 == skip_hour:
            continue  # (too few labels to be scored)
        level = 0.80 if h % 24 < 7 else 0.93
        se = math.sqrt(level * (1 - level) / 500)
        out.append(judge.Past(level + se * rng.standard_normal(), se, T0 + h * H))
    return out


def test_a_seasonal_history_with_holes_stays_in_phase() -> None:
    """One hour a day unscored: the night's value is held to the nights before, not to
    the day's band (before: 0.80 at 00:00 against 0.867-0.990)."""
    cfg = _cfg(reference={"kind": "seasonal", "period": "1d"}, anomaly={"enabled": False})
    row = _row("accuracy", 0.80, 0.018)
    midnight = Window("m", T0 + 12 * 24 * H, H)
    _judge_history(cfg, row, _nightly(12, skip_hour=12), 24, 0.018, midnight)
    lo, _ = row.details["band"]
    assert not row.bad and 0.70 < lo < 0.78, row.details


def test_the_anomaly_check_takes_the_season_too() -> None:
    """With a seasonal reference the anomaly check judges a night's accuracy against the
    nights before (before: against the last 48 hours, 31 of them day: paged every night)."""
    cfg = _cfg(reference={"kind": "seasonal", "period": "1d"}, band={"enabled": False},
               anomaly={"min_history": 4})
    row = _row("accuracy", 0.79, 0.018)
    _judge_history(cfg, row, _nightly(12), 24, 0.018, Window("m", T0 + 12 * 24 * H + 2 * H, H))
    assert not row.bad and row.details["robust_z"] < 2, row.details
    worse = _row("accuracy", 0.60, 0.02)
    _judge_history(cfg, worse, _nightly(12), 24, 0.02, Window("m", T0 + 12 * 24 * H + 2 * H, H))
    assert worse.bad and worse.reason == "anomaly"


def test_an_error_in_thousandths_is_held_to_its_own_scale() -> None:
    """MAE 0.0004 then 0.0040: flagged (before, the band's floor of 0.001 held it inside)."""
    rng = np.random.default_rng(1)
    past = [judge.Past(0.0004 + 0.00001 * rng.standard_normal(), 0.00002) for _ in range(24)]
    row = _row("mae", 0.0040, 0.0002)
    _judge_history(_cfg("regression"), row, past, 1, 0.0002)
    assert row.bad and row.details["band"][1] < 0.002, row.details


def test_while_an_incident_lasts_the_bounds_are_narrower_and_it_is_not_learnt() -> None:
    """A value just inside the band right after two bad windows is still bad (its incident
    goes on); the windows after a bad one are not learnt, however they measure."""
    rng = np.random.default_rng(2)
    past = [judge.Past(0.90 + 0.01 * rng.standard_normal(), 0.01) for _ in range(24)]
    cfg = _cfg(anomaly={"enabled": False})
    calm = _row("accuracy", 0.87, 0.01)
    _judge_history(cfg, calm, past, 1, 0.01)
    assert not calm.bad
    bad = judge.Past(0.70, 0.01, bad=True)
    once = _row("accuracy", 0.87, 0.01)  # after one bad window (by chance): as before
    _judge_history(cfg, once, [*past, bad], 1, 0.01)
    assert not once.bad and "held" not in once.details
    after = _row("accuracy", 0.87, 0.01)  # an incident of two windows goes on
    _judge_history(cfg, after, [*past, bad, bad], 1, 0.01)
    assert after.bad and after.details["held"] is True
    marked = [*past[:10], judge.Past(0.7, 0.01, bad=True), judge.Past(0.8, 0.01),
              judge.Past(0.8, 0.01), *past[10:]]
    assert judge.usable(marked) == past


def test_a_pass_per_window_judges_as_one_pass_does(store: Store) -> None:
    """``serve`` reads the history from the store at each pass: it read the latest 8 good
    values, the quarantine after one bad window left 6, under min_history, so the band was
    off, the first windows of a fall after it were learnt and the fall was never flagged
    (1 bad window in all; one continuous pass: 10)."""
    def stream(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.integers(0, 2, n)
        level = 0.5 if i == 15 else 0.80 if i >= 21 else 0.90
        wrong = rng.uniform(size=n) > level
        return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y).astype(float),
                "label": [str(v) for v in y]}

    write_windows(store, "m", T0, H, 30, 300, stream, closed=False, seed=7)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "1h"}],
        "monitors": [{"name": "mon", "model": "m", "quality": {"enabled": False},
                      "band": {"history": 8}, "anomaly": {"history": 8},
                      "performance": {"task": "classification", "prediction": "pred",
                                      "metrics": ["accuracy"]}}],
        "alerts": {"console": False}})
    for i in range(30):
        close_window(store, T0 + i * H, H, 300)
        if i >= 15:
            Monitor(store, cfg).run_once()
    D = S.DRIFT_RESULTS
    got = store.query(f"SELECT {D.window_start}, {D.drifted}, {D.policy} FROM {D} FINAL "
                      f"WHERE {D.metric} = 'accuracy' AND {D.segment} = '*' ORDER BY 1")
    judged = {(t.replace(tzinfo=UTC) - T0) // H: (d, p) for t, d, p in got}
    assert all(judged[i][1] != "none" for i in range(16, 30)), judged  # the band never off
    assert sum(judged[i][0] for i in range(21, 30)) >= 8, judged  # the fall, flagged
