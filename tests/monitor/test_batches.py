"""A backfill reads its windows in batches bounded by the values they hold, and each batch
reads only what the batch before did not (its lead: the reference and the persistence
check's windows) — with the same results as one read of everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.config import Config
from driftscope.monitor import scheduler
from driftscope.monitor.frame import read_events
from driftscope.monitor.scheduler import Monitor, batches
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
from driftscope.types import Window

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)


def test_batches_hold_at_most_the_values_allowed_and_a_big_window_alone(monkeypatch) -> None:
    monkeypatch.setattr(scheduler, "MAX_VALUES", 1000)
    todo = [(Window("m", T0 + i * W, W), n) for i, n in enumerate([30, 30, 30, 500, 10, 10])]
    got = [[n for _, n in b] for b in batches(todo, 64, 10)]  # 10 values an event
    assert got == [[30, 30, 30], [500], [10, 10]]
    assert [len(b) for b in batches(todo, 2, 1)] == [2, 2, 2]  # and at most `most` windows


def _stream(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    # a drift at window 20, a segment key from window 8 on, a column that turns into strings
    # in a few windows, labels: what a carried lead must keep as a fresh read would
    cols: dict[str, Any] = {
        "x": rng.normal(1.0 if i >= 20 else 0.0, 1, n),
        "plan": rng.choice(np.array(["a", "b", "c"], dtype=object), n),
        "mixed": (np.array([f"v{k}" for k in rng.integers(0, 3, n)], dtype=object)
                  if 12 <= i < 15 else rng.normal(size=n)),
        "output:pred": (rng.random(n) < 0.5).astype(float),
        "label": ["1" if v else "0" for v in rng.random(n) < 0.5],
    }
    if i >= 8:
        cols["segment:country"] = rng.choice(np.array(["DE", "FR"], dtype=object), n)
    return cols


def _results(store: Store) -> list[tuple[Any, ...]]:
    D = S.DRIFT_RESULTS
    return store.query(
        f"SELECT {D.window_start}, {D.segment}, {D.feature}, {D.metric}, "
        f"round({D.statistic}, 9), round({D.threshold}, 9), {D.drifted} FROM {D} FINAL "
        f"ORDER BY 1, 2, 3, 4")


@pytest.mark.parametrize("most", [3, 1000])
def test_a_backfill_in_small_batches_finds_what_one_read_of_everything_does(
    store: Store, chdb_dsn: str, monkeypatch, most: int
) -> None:
    write_windows(store, "m", T0, W, 30, 120, _stream)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m",
                      "features": ["x", "plan", "mixed", "output:pred"],
                      "segments": ["country"],
                      "performance": {"task": "classification", "prediction": "pred",
                                      "min_labels": 20}}],
        "alerts": {"console": False}})
    Monitor(store, cfg).run_once()
    whole = _results(store)
    assert any(r[6] for r in whole if r[0] >= (T0 + 20 * W).replace(tzinfo=None))

    other = Store(chdb_dsn, database=f"{store.database}_b")
    other.migrate()
    try:
        write_windows(other, "m", T0, W, 30, 120, _stream)
        reads: list[tuple[datetime, datetime]] = []

        def counted(store: Store, model: str, start: datetime, end: datetime,
                    *args: Any, **kw: Any) -> Any:
            reads.append((start, end))
            return read_events(store, model, start, end, *args, **kw)

        monkeypatch.setattr(scheduler, "read_events", counted)
        monkeypatch.setattr(scheduler, "MAX_VALUES", most * 120 * 5)  # `most` windows a batch
        Monitor(other, cfg).run_once()
        assert _results(other) == whole
        batch_reads = [r for r in reads if r[1] - r[0] > W]  # (not the label-window reads)
        if most == 3:  # each range read once: batches after the first read only their own
            assert len(reads) > 5
            ends = sorted(e for _, e in reads)
            assert all(s >= prev for (s, _), prev in zip(sorted(reads)[1:], ends, strict=False))
        else:
            assert len(batch_reads) == 1
    finally:
        other.drop_database()


def _close(store: Store, i: int, n: int = 120) -> None:
    start = T0 + i * W
    store.insert(S.WINDOWS, [("m", start, start + W, 600, n, 0, start + W)], S.WINDOWS.columns)


@pytest.mark.parametrize("labels", [False, True])
def test_a_live_pass_reads_only_the_windows_closed_since_the_pass_before(
    store: Store, chdb_dsn: str, monkeypatch, labels: bool
) -> None:
    # serve judges a window a pass; each pass read its lead again (26 windows of a
    # `previous` reference and the persistence check): now it keeps the last pass's read,
    # except where it reads labels (feedback comes after its events: read afresh)
    monitor: dict[str, Any] = {"name": "mon", "model": "m", "features": ["x", "plan", "mixed"],
                               "segments": ["country"]}
    if labels:
        monitor["performance"] = {"task": "classification", "prediction": "pred",
                                  "min_labels": 20}
    cfg = Config.model_validate({"models": [{"id": "m", "window": "10m"}],
                                 "monitors": [monitor], "alerts": {"console": False}})
    other = Store(chdb_dsn, database=f"{store.database}_f")
    other.migrate()
    try:
        for s in (store, other):
            write_windows(s, "m", T0, W, 30, 120, _stream, closed=False)
            for i in range(24):
                _close(s, i)
        kept, fresh = Monitor(store, cfg), Monitor(other, cfg)
        kept.run_once()
        fresh.run_once()
        reads: list[tuple[datetime, datetime]] = []

        def counted(store: Store, model: str, start: datetime, end: datetime,
                    *args: Any, **kw: Any) -> Any:
            reads.append((start, end))
            return read_events(store, model, start, end, *args, **kw)

        monkeypatch.setattr(scheduler, "read_events", counted)
        for i in range(24, 30):
            for s in (store, other):
                _close(s, i)
            reads.clear()
            assert len(kept.run_once()) == 1
            fresh._kept.clear()  # as before: each pass reads its lead again
            assert len(fresh.run_once()) == 1
            if labels:
                assert reads[0][1] - reads[0][0] > 20 * W
            else:  # this window alone; the other monitor its whole lead
                assert reads[0] == (T0 + i * W, T0 + (i + 1) * W)
                assert reads[1][1] - reads[1][0] > 20 * W
        assert _results(store) == _results(other)
    finally:
        other.drop_database()
