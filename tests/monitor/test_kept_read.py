"""``serve`` keeps one Monitor, and each pass keeps its read of the events: the next pass
reads only its new window while what is stored of its lead (the reference and the
persistence check's windows) is as it was — and reads the lead afresh where it changed: an
event stored late into it, a label come in. Either way its results are those of a pass that
reads everything afresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from stored_windows import close_window, drift_results

from driftscope.config import Config
from driftscope.monitor import scheduler
from driftscope.monitor.frame import read_events
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import event_rows, write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
N = 120
LATE_EVENTS, LATE_LABELS = 22, 25  # the passes before which the lead changes


def _stream(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    truth = rng.random(n) < 0.5
    return {"x": rng.normal(size=n),
            "plan": rng.choice(np.array(["a", "b", "c"], dtype=object), n),
            "output:pred": np.where(rng.random(n) < 0.1, ~truth, truth).astype(float),
            "label": ["1" if v else "0" for v in truth]}


def _config(performance: bool) -> Config:
    perf = {"performance": {"task": "classification", "prediction": "pred",
                            "min_labels": 20, "label_delay": "30m"}} if performance else {}
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x", "plan"], **perf}],
        "alerts": {"console": False}})


def _passes(store: Store, cfg: Config, keep: bool,
            labels: bool) -> list[list[tuple[datetime, datetime]]]:
    """A first pass over 18 windows, then one pass per window as it closes (one Monitor
    throughout, as serve runs them; without ``keep`` each pass reads afresh). Before pass
    22 six events are stored late into window 15 (in every later pass's reference); with
    ``labels``, from pass 25 on, before each pass the labels of the window 3 before come in
    (30 minutes: the window the pass scores) and differ from those sent with the events.
    Returns the ranges each pass read."""
    write_windows(store, "m", T0, W, 30, N, _stream, closed=False)

    for i in range(18):
        close_window(store, T0 + i * W, W, N)
    monitor = Monitor(store, cfg)
    reads: list[list[tuple[datetime, datetime]]] = [[]]
    original = scheduler.read_events

    def counted(store: Store, model: str, start: datetime, end: datetime,
                *args: Any, **kw: Any) -> Any:
        reads[-1].append((start, end))
        return read_events(store, model, start, end, *args, **kw)

    scheduler.read_events = counted  # type: ignore[assignment]
    try:
        monitor.run_once()
        for i in range(18, 30):
            if i == LATE_EVENTS:
                rows = event_rows("m", T0 + 15 * W, W, 6, {"x": np.full(6, 40.0),
                                                           "plan": np.full(6, "a")}, "late")
                store.insert(S.EVENTS, rows, S.EVENTS.columns)
            if labels and i >= LATE_LABELS:  # from then on with every window: the labels
                at = T0 + (i + 1) * W  # of the window 3 before (which this pass scores)
                store.insert(S.FEEDBACK, [("m", f"0-{i - 3}-{j}", "1", at, at, 0, j)
                                          for j in range(N)], S.FEEDBACK.columns)
            close_window(store, T0 + i * W, W, N)
            if not keep:
                monitor._kept.clear()
            reads.append([])
            assert len(monitor.run_once()) == 1
    finally:
        scheduler.read_events = original  # type: ignore[assignment]
    return reads


@pytest.mark.parametrize("performance", [False, True])
def test_a_pass_reads_only_its_new_window_and_finds_what_a_fresh_read_does(
    store: Store, chdb_dsn: str, performance: bool
) -> None:
    cfg = _config(performance)
    fresh = Store(chdb_dsn, database=f"{store.database}_fresh")
    fresh.migrate()
    try:
        _passes(fresh, cfg, keep=False, labels=performance)
        want = drift_results(fresh)
    finally:
        fresh.drop_database()
    reads = _passes(store, cfg, keep=True, labels=performance)
    assert drift_results(store) == want
    # the late events moved every later window's distance on x (window 15: in reference)
    D = S.DRIFT_RESULTS
    moved = store.query(f"SELECT count() FROM {D} FINAL WHERE {D.feature} = 'x' AND "
                        f"{D.metric} = 'emd' AND {D.window_start} >= {{a:DateTime64(3)}} "
                        f"AND {D.details} LIKE '%\"n_reference\": 1446%'",
                        {"a": (T0 + LATE_EVENTS * W).replace(tzinfo=None)})
    assert moved[0][0] == 28 - LATE_EVENTS  # (windows 16-27 have window 15 in reference)

    def starts(i: int) -> list[datetime]:  # the windows pass i read from
        return [a for a, _ in reads[i - 17]]

    for i in range(19, 30):
        window = T0 + i * W
        if i == LATE_EVENTS:
            assert min(starts(i)) < window - 10 * W, i  # the whole lead, read afresh
        else:  # the new window only (with labels come in: and the lead's labels)
            assert starts(i) == [window], (i, starts(i))
    if performance:  # the feedback moved the accuracy of the windows it labelled
        acc = store.query(f"SELECT {D.window_start}, {D.statistic} FROM {D} FINAL WHERE "
                          f"{D.metric} = 'accuracy' AND {D.segment} = '*' ORDER BY 1")
        relabelled = [v for t, v in acc if t >= (T0 + (LATE_LABELS - 3) * W).replace(tzinfo=None)]
        assert len(relabelled) == 30 - LATE_LABELS and max(relabelled) < 0.7 < min(
            v for t, v in acc if t < (T0 + (LATE_LABELS - 3) * W).replace(tzinfo=None))


def test_a_read_that_missed_rows_deleted_and_stored_again_is_not_kept(
    store: Store, chdb_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A collector's recovery deletes a partial flush and stores the same events again. A
    pass that read between the two misses them; the next pass's marks then match the ones
    taken before that read. The read is checked against marks taken after it, and such a
    read is not kept: the next pass reads afresh and measures what a fresh Monitor does."""
    cfg = _config(False)
    write_windows(store, "m", T0, W, 20, N, _stream, closed=False)
    E = S.EVENTS
    gone = store.query(f"SELECT * FROM {E} WHERE {E.timestamp} >= {{a:DateTime64(3)}} AND "
                       f"{E.timestamp} < {{b:DateTime64(3)}}",
                       {"a": (T0 + 14 * W).replace(tzinfo=None),
                        "b": (T0 + 15 * W).replace(tzinfo=None)})
    assert len(gone) == N

    for i in range(18):
        close_window(store, T0 + i * W, W, N)
    monitor = Monitor(store, cfg)
    reads = 0

    def recovering(store: Store, *args: Any, **kw: Any) -> Any:
        nonlocal reads
        reads += 1
        if reads == 1:  # the recovery's delete lands between the marks and the read
            store.command(f"DELETE FROM {E} WHERE {E.timestamp} >= {{a:DateTime64(3)}} AND "
                          f"{E.timestamp} < {{b:DateTime64(3)}}",
                          {"a": (T0 + 14 * W).replace(tzinfo=None),
                           "b": (T0 + 15 * W).replace(tzinfo=None)})
        return read_events(store, *args, **kw)

    monkeypatch.setattr(scheduler, "read_events", recovering)
    monitor.run_once()
    store.insert(E, gone, E.columns)  # ...and stores the same events again
    close_window(store, T0 + 18 * W, W, N)
    monitor.run_once()
    got = [r for r in drift_results(store) if r[0] == (T0 + 18 * W).replace(tzinfo=None)]

    fresh = Store(chdb_dsn, database=f"{store.database}_fresh")
    fresh.migrate()
    try:
        write_windows(fresh, "m", T0, W, 19, N, _stream)
        monkeypatch.setattr(scheduler, "read_events", read_events)
        Monitor(fresh, cfg).run_once()
        want = [r for r in drift_results(fresh) if r[0] == (T0 + 18 * W).replace(tzinfo=None)]
    finally:
        fresh.drop_database()
    # the distances (the thresholds come from nulls this Monitor drew on earlier passes)
    assert [r[:5] for r in got] == [r[:5] for r in want] and got
