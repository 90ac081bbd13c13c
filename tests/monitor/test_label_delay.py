"""Labels that arrive later than the window closes: ``performance.label_delay``.

The app logs predictions as they happen; their labels come back as feedback some windows
later. A monitor pass at each window's close sees no labels yet for that window. With
``label_delay`` the performance of a window is computed with the pass of the window that
closes ``label_delay`` later, when its labels are in, and is written under the labelled
window's own time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.alerts.engine import AlertEngine
from driftscope.config import Config
from driftscope.errors import ConfigError
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D, F = S.DRIFT_RESULTS, S.FEEDBACK
N = 200
LATE = 3  # windows between a prediction and its label


def config(**performance: Any) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "reference": {"kind": "fixed", "start": T0.isoformat(),
                                    "end": (T0 + 2 * W).isoformat()},
                      "rules": [{"metric": "accuracy", "op": "<", "value": 0.9}],
                      "performance": {"task": "classification", "prediction": "pred",
                                      **performance}}],
        "alerts": {"console": False, "min_windows": 2}})


def truth(i: int) -> np.ndarray:
    return np.random.default_rng(100 + i).integers(0, 2, N)


def stream(store: Store, cfg: Config, windows: int, bad_from: int,
           quiet: range = range(0)) -> list[Any]:
    """Window by window: the window's predictions arrive (none in ``quiet`` windows),
    the labels of the window ``LATE`` before arrive, then a monitor pass runs (as
    `driftscope monitor` would)."""
    engine = AlertEngine(store, cfg.alerts)
    verdicts = []
    for i in range(windows):
        if i in quiet:
            at = T0 + (i + 1) * W  # labels still come back in a quiet spell
            if (j := i - LATE) >= 0 and j not in quiet:
                store.insert(F, [("m", f"{j}-0-{k}", str(v), at, at, 0, k)
                                 for k, v in enumerate(truth(j))], F.columns)
            verdicts += Monitor(store, cfg, alerts=engine).run_once()
            continue

        def g(_: int, rng: np.random.Generator, n: int, i: int = i) -> dict[str, Any]:
            y = truth(i)
            wrong = rng.uniform(size=n) < (0.4 if i >= bad_from else 0.02)
            return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y)}
        write_windows(store, "m", T0 + i * W, W, 1, N, g, seed=i)
        if (j := i - LATE) >= 0 and j not in quiet:
            at = T0 + (i + 1) * W  # given when window i closes: 3 windows after window j
            store.insert(F, [("m", f"{j}-0-{k}", str(v), at, at, 0, k)
                             for k, v in enumerate(truth(j))], F.columns)
        verdicts += Monitor(store, cfg, alerts=engine).run_once()
    return verdicts


def accuracy(store: Store) -> dict[int, float]:
    rows = store.query(f"SELECT {D.window_start}, {D.statistic} FROM {D} FINAL "
                       f"WHERE {D.metric} = 'accuracy' AND {D.segment} = '*'")
    return {int((t.replace(tzinfo=UTC) - T0) / W): float(v) for t, v in rows}


def test_without_a_delay_late_labels_never_count(store: Store) -> None:
    stream(store, config(), 10, bad_from=5)
    assert accuracy(store) == {}  # every pass ran before its window's labels came


def test_a_delayed_window_is_scored_when_its_labels_are_in(store: Store) -> None:
    verdicts = stream(store, config(label_delay="30m"), 10, bad_from=5)
    acc = accuracy(store)
    # windows 0..6 have their labels by the pass LATE windows later; 7..9 not yet
    assert sorted(acc) == list(range(7))
    assert all(acc[i] > 0.95 for i in range(5)) and all(acc[i] < 0.7 for i in (5, 6))
    # the alert comes with the passes that could see the bad labels: windows 8 and 9
    bad = [int((v.window_start - T0) / W) for v in verdicts
           if any(f.metric == "accuracy" for f in v.findings)]
    assert bad == [8, 9]
    assert verdicts[-1].labels_start == T0 + 6 * W
    assert verdicts[-1].metrics["accuracy"] == pytest.approx(acc[6])
    assert store.count(f"{S.ALERTS} FINAL") == 1


def test_windows_before_a_quiet_spell_are_scored_when_traffic_returns(store: Store) -> None:
    # traffic in windows 0-5 and 10-13; nothing in 6-9 (a quiet night): windows 3-5,
    # whose partners 3 windows later had no traffic, are scored with window 10's pass
    verdicts = stream(store, config(label_delay="30m"), 14, bad_from=4, quiet=range(6, 10))
    acc = accuracy(store)
    assert sorted(acc) == [0, 1, 2, 3, 4, 5, 10]
    assert acc[3] > 0.95 and acc[4] < 0.7 and acc[5] < 0.7
    at = {int((v.window_start - T0) / W): v for v in verdicts}
    assert sorted(at) == [0, 1, 2, 3, 4, 5, 10, 11, 12, 13]
    # window 10's pass measured windows 3-5 (its own partner, 7, had no traffic)
    assert at[10].labels_start == T0 + 5 * W
    assert sum(f.metric == "accuracy" for f in at[10].findings) == 2  # windows 4 and 5
    # two bad windows in a row, measured by one pass: they page as two would
    assert at[10].carried and store.count(f"{S.ALERTS} FINAL") == 1
    M = S.MONITOR_WINDOWS  # kept for the next process's alert engine (its track)
    (kept,), = store.query(f"SELECT JSONExtractBool({M.summary}, 'carried') FROM {M} FINAL "
                           f"WHERE {M.window_start} = {{t:DateTime64(3, 'UTC')}}",
                           {"t": T0 + 10 * W})
    assert kept


def test_the_delay_is_a_whole_number_of_windows() -> None:
    with pytest.raises((ConfigError, ValueError), match="label_delay"):
        config(label_delay="25m")


def test_the_message_names_the_window_the_labels_measure(store: Store) -> None:
    from driftscope.alerts.messages import details, summary
    from driftscope.alerts.state import AlertStore

    verdicts = stream(store, config(label_delay="30m"), 10, bad_from=5)
    (alert_id,), = store.query(f"SELECT {S.ALERTS.alert_id} FROM {S.ALERTS} FINAL")
    found = AlertStore(store).get(alert_id)
    assert found is not None
    text = summary(found[0], verdicts[-1])
    assert ("1 performance check failed (accuracy; labels of the window from 2026-02-01 01:00 "
            "UTC)" in text)
    assert details(found[0], verdicts[-1], 5)["labels_start"] == "2026-02-01T01:00:00+00:00"


def test_a_backfill_scores_each_window_with_its_own_labels(store: Store) -> None:
    stream(store, config(label_delay="30m"), 10, bad_from=5)
    done = Monitor(store, config(label_delay="30m")).backfill(T0 + 4 * W, T0 + 8 * W)
    assert [int((v.window_start - T0) / W) for v in done] == [4, 5, 6, 7]
    assert all(v.labels_start is None for v in done)  # each window's own labels
    assert sorted(accuracy(store)) == list(range(7))  # 7: its labels are not in yet


def test_the_delay_and_a_window_fit_in_the_feedback_horizon() -> None:
    with pytest.raises(ValueError, match="feedback_horizon"):
        Config.model_validate({
            "collector": {"feedback_horizon": "30m"},
            "models": [{"id": "m", "window": "10m"}],
            "monitors": [{"name": "mon", "model": "m", "performance": {
                "prediction": "pred", "label_delay": "30m"}}]})


def test_a_window_that_closes_out_of_order_is_scored_once(store: Store) -> None:
    # window 5's closed row comes only with window 10 (a partition that lagged): its
    # pass then scores window 2, which window 6's pass did not (its partner had not
    # closed) and which no pass scores twice
    cfg = config(label_delay="30m")
    engine = AlertEngine(store, cfg.alerts)
    verdicts = []
    for i in range(12):
        def g(_: int, rng: np.random.Generator, n: int, i: int = i) -> dict[str, Any]:
            y = truth(i)
            wrong = rng.uniform(size=n) < (0.4 if i >= 2 else 0.02)
            return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y)}
        write_windows(store, "m", T0 + i * W, W, 1, N, g, seed=i, closed=i != 5)
        if i == 10:
            store.insert(S.WINDOWS, [("m", T0 + 5 * W, T0 + 6 * W, 600, N, 0, T0 + 11 * W)],
                         S.WINDOWS.columns)
        if (j := i - LATE) >= 0:
            at = T0 + (i + 1) * W
            store.insert(F, [("m", f"{j}-0-{k}", str(v), at, at, 0, k)
                             for k, v in enumerate(truth(j))], F.columns)
        verdicts += Monitor(store, cfg, alerts=engine).run_once()
    rows = store.query(f"SELECT {D.window_start}, count() FROM {D} WHERE {D.metric} = "
                       f"'accuracy' AND {D.segment} = '*' GROUP BY {D.window_start}")
    written = {int((t.replace(tzinfo=UTC) - T0) / W): c for t, c in rows}
    assert written == dict.fromkeys(range(9), 1)  # 0..8 scored, each once
    found = sum(f.metric == "accuracy" for v in verdicts for f in v.findings)
    assert found == 7  # windows 2..8, each reported once


def test_a_pass_that_crashed_after_writing_its_results_catches_up_again(store: Store) -> None:
    # window 10's pass catches up windows 3-5 (quiet 6-9), writes its results, then dies
    # before the alert engine saw them: the redo must raise the same findings and page
    cfg = config(label_delay="30m")
    engine = AlertEngine(store, cfg.alerts)

    class Crash(Exception):
        pass

    class Once:
        crashed = False

        def process(self, v: Any) -> Any:
            if int((v.window_start - T0) / W) == 10 and not self.crashed:
                self.crashed = True
                raise Crash
            return engine.process(v)

    sink = Once()
    verdicts: list[Any] = []
    for i in range(12):
        if i not in range(6, 10):
            def g(_: int, rng: np.random.Generator, n: int, i: int = i) -> dict[str, Any]:
                y = truth(i)
                wrong = rng.uniform(size=n) < (0.4 if i >= 4 else 0.02)
                return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y)}
            write_windows(store, "m", T0 + i * W, W, 1, N, g, seed=i)
        if (j := i - LATE) >= 0 and j not in range(6, 10):
            at = T0 + (i + 1) * W
            store.insert(F, [("m", f"{j}-0-{k}", str(v), at, at, 0, k)
                             for k, v in enumerate(truth(j))], F.columns)
        try:
            verdicts += Monitor(store, cfg, alerts=sink).run_once()
        except Crash:
            verdicts += Monitor(store, cfg, alerts=sink).run_once()  # the restart
    at10 = [v for v in verdicts if int((v.window_start - T0) / W) == 10]
    assert len(at10) == 1 and at10[0].carried
    assert sum(f.metric == "accuracy" for f in at10[0].findings) == 2  # windows 4 and 5
    assert store.count(f"{S.ALERTS} FINAL") == 1
