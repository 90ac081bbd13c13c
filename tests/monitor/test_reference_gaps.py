"""References with holes in them.

- A ``seasonal`` reference with an empty window in its range (the first or last hour of
  traffic that stops at night, an outage one period earlier) left the window unjudged
  for drift and columns, silently, every day; only a stream younger than the reference's
  span should be.
- A ``dataset`` reference with fewer rows than ``min_events`` turned drift off for good,
  silently; like a ``fixed`` range in that state, it now stops its monitor with one line.
- A feature added to the logs, monitored against a ``previous`` reference, was flagged for
  as long as its reference held windows from before it was logged (their missing values
  read as a change of its missing rate).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.monitor.upload import upload
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 2, tzinfo=UTC)
W = timedelta(hours=1)


def config(features: list[str], reference: dict[str, Any], **more: Any) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "1h"}],
        "monitors": [{"name": "mon", "model": "m", "features": features,
                      "reference": reference, **more}],
        "alerts": {"console": False}})


SEASONAL = {"kind": "seasonal", "period": "1d"}


def at(v: Any) -> tuple[int, int]:
    """(day, hour) of a verdict's window."""
    day, hour = divmod((v.window_start - T0) // W, 24)
    return int(day), int(hour)


def drifted(v: Any) -> set[str]:
    return {f.feature for f in v.findings if f.kind == "drift"}


def test_business_hours_first_and_last_hours_are_judged_once_the_data_covers_the_reference(
    store: Store,
) -> None:
    """Events from 08:00 to 18:00 only: the 08:00 and 17:00 windows' references (07:00 to
    10:00 and 16:00 to 19:00 the day before) each have an hour without events. Before,
    they were never judged (0 of 3 days), and a gross fault there went unseen."""
    broken = {(3, 8), (3, 17)}

    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(3.0 if divmod(i, 24) in broken else 0.0, 1, n)}

    write_windows(store, "m", T0, W, 4 * 24, lambda i: 300 if 8 <= i % 24 < 18 else 0,
                  gen, seed=3)
    verdicts = {at(v): v for v in Monitor(store, config(["x"], SEASONAL)).run_once()}
    # the first day has no reference; on the second, 08:00's reaches back before the
    # stream's first event (07:00 the day before): not judged, as documented
    assert {"drift", "columns"} <= verdicts[(0, 12)].unjudged
    assert {"drift", "columns"} <= verdicts[(1, 8)].unjudged
    for day in (1, 2, 3):
        for hour in range(9 if day == 1 else 8, 18):
            v = verdicts[(day, hour)]
            assert "drift" not in v.unjudged and "columns" not in v.unjudged, (day, hour)
            assert drifted(v) == ({"x"} if (day, hour) in broken else set()), (day, hour)


def test_an_outage_one_period_earlier_does_not_blind_the_windows_around_it(
    store: Store,
) -> None:
    """Yesterday 10:00 had no events; today 09:00 to 11:00 carry a gross fault. Before,
    all three were unjudged (their references each held the empty hour), the fault
    unseen; the empty window's place is taken by the same hour one period earlier."""
    outage, broken = (1, 10), {(2, 9), (2, 10), (2, 11)}

    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(3.0 if divmod(i, 24) in broken else 0.0, 1, n)}

    write_windows(store, "m", T0, W, 3 * 24, lambda i: 0 if divmod(i, 24) == outage else 300,
                  gen, seed=3)
    verdicts = {at(v): v for v in Monitor(store, config(["x"], SEASONAL)).run_once()}
    for hour in range(8, 13):
        v = verdicts[(2, hour)]
        assert "drift" not in v.unjudged and "columns" not in v.unjudged, hour
        assert drifted(v) == ({"x"} if (2, hour) in broken else set()), hour
    # the day of the outage: its neighbours are judged (against the first day's hours)
    assert drifted(verdicts[(1, 9)]) == drifted(verdicts[(1, 11)]) == set()
    assert "drift" not in verdicts[(1, 11)].unjudged


def test_a_dataset_with_fewer_rows_than_min_events_stops_its_monitor_with_one_line(
    store: Store,
) -> None:
    """20 rows against min_events=30: every window went unjudged for drift, and nothing
    said so (a fixed range in that state was already a one-line error)."""
    rng = np.random.default_rng(0)
    upload(store, "m", "small", pd.DataFrame({"x": rng.normal(size=20)}))
    write_windows(store, "m", T0, W, 3, 400, lambda i, rng, n: {"x": rng.normal(3, 1, n)},
                  seed=1)
    monitor = Monitor(store, config(["x"], {"kind": "dataset", "dataset": "small"}))
    assert monitor.run_once() == []
    assert monitor.broken == {"mon": (
        "reference dataset 'small' of model 'm' holds 20 rows, fewer than min_events=30: "
        "no drift can be scored against it; upload a larger one with `driftscope reference "
        "upload --model m --name small FILE`, or lower min_events")}
    # fixed: the windows are judged at the next pass
    upload(store, "m", "small", pd.DataFrame({"x": rng.normal(size=500)}))
    verdicts = monitor.run_once()
    assert len(verdicts) == 3 and all(drifted(v) == {"x"} for v in verdicts)
    assert monitor.broken == {}


def new_feature(since: int, until: int | None = None) -> Any:
    """``x`` always; ``z`` logged from window ``since`` (up to ``until``), never changing."""
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        logged = i >= since and (until is None or i < until)
        return {"x": rng.normal(0, 1, n),
                "z": rng.normal(5, 2, n) if logged else np.full(n, np.nan)}
    return gen


def test_a_feature_added_to_the_logs_is_not_flagged_against_windows_before_it(
    store: Store,
) -> None:
    """z logged from window 20: before, windows 21 to 39 were flagged (the reference ~11/12
    missing for it) and an alert opened, with nothing wrong."""
    write_windows(store, "m", T0, W, 40, 500, new_feature(20), seed=2)
    verdicts = Monitor(store, config(["x", "z"], {"kind": "previous"})).run_once()
    assert [((v.window_start - T0) // W, sorted(drifted(v))) for v in verdicts
            if v.bad] == []
    # and z is scored from its second window on (its first has no reference for it)
    rows = store.query("SELECT toUInt32(dateDiff('hour', {t:DateTime64(3, 'UTC')}, "
                       "window_start)), n_ref "
                       "FROM drift_results FINAL WHERE feature = 'z' AND metric = 'emd' "
                       "ORDER BY 1", {"t": T0})
    assert [w for w, _ in rows] == list(range(21, 40))
    assert dict(rows)[21] == 500 and dict(rows)[39] == 12 * 500


def test_a_new_feature_that_stops_is_still_flagged(store: Store) -> None:
    """The same feature, logged from window 20 to 29, then gone (a broken pipeline): its
    reference holds the windows it was logged in, and the empty window is flagged, by the
    drift checks and by the column checks."""
    write_windows(store, "m", T0, W, 32, 400, new_feature(20, until=30), seed=2)
    verdicts = Monitor(store, config(["x", "z"], {"kind": "previous"})).run_once()
    flagged = {(v.window_start - T0) // W: {(f.feature, f.metric) for f in v.findings}
               for v in verdicts if v.findings}
    assert set(flagged) == {30, 31}, flagged
    assert ("z", "emd") in flagged[30] and ("z", "missing_rate") in flagged[30]


def test_a_feature_always_logged_and_gone_in_one_window_is_flagged(store: Store) -> None:
    """A column all missing in the window judged is held to a reference where it had
    values (not left out: only the reference's windows without it are)."""
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(0, 1, n),
                "z": np.full(n, np.nan) if i == 14 else rng.normal(5, 2, n)}

    write_windows(store, "m", T0, W, 16, 400, gen, seed=2)
    verdicts = Monitor(store, config(["x", "z"], {"kind": "previous"})).run_once()
    flagged = {(v.window_start - T0) // W: {(f.feature, f.metric) for f in v.findings}
               for v in verdicts if v.findings}
    assert set(flagged) == {14}, flagged
    assert {("z", "emd"), ("z", "missing_rate")} <= flagged[14]


def test_the_windows_a_column_was_logged_in() -> None:
    from driftscope.monitor.evaluate import logged_windows, window_numbers

    h = np.timedelta64(1, "h")
    ts = np.datetime64("2026-03-02T00:00", "ms") + np.arange(6) * h // 2
    hours = window_numbers(ts, timedelta(hours=1))
    assert (hours - hours[0]).tolist() == [0, 0, 1, 1, 2, 2]
    z = np.array([np.nan, np.nan, np.nan, 1.0, np.nan, 2.0])  # window 0: no value
    held = logged_windows(ts, z, timedelta(hours=1))
    assert held is not None and (held - hours[0]).tolist() == [1, 2]
    text = np.array([None, None, "a", None, None, None], dtype=object)
    held = logged_windows(ts, text, timedelta(hours=1))
    assert held is not None and (held - hours[0]).tolist() == [1]
    assert logged_windows(ts, np.arange(6.0), timedelta(hours=1)) is None  # every window
    assert logged_windows(ts, np.full(6, np.nan), timedelta(hours=1)) is None  # none
