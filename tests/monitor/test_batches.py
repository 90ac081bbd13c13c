"""A backfill reads its windows in batches bounded by the values they hold, and each batch
reads only what the batch before did not (its lead: the reference and the persistence
check's windows) — with the same results as one read of everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from stored_windows import close_window, drift_results

from driftscope.config import Config
from driftscope.monitor import scheduler
from driftscope.monitor.frame import read_events
from driftscope.monitor.scheduler import Monitor, batches
from driftscope.monitor.seed import write_windows
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
        # numbers and strings in one window: its kind comes from every value read
        "both": (np.array([f"v{k}" if k else float(k) for k in rng.integers(0, 2, n)],
                          dtype=object) if i in (13, 19) else rng.normal(size=n)),
        "output:pred": (rng.random(n) < 0.5).astype(float),
        "label": ["1" if v else "0" for v in rng.random(n) < 0.5],
    }
    if i >= 8:
        cols["segment:country"] = rng.choice(np.array(["DE", "FR"], dtype=object), n)
    return cols


@pytest.mark.parametrize("most", [3, 1000])
def test_a_backfill_in_small_batches_finds_what_one_read_of_everything_does(
    store: Store, chdb_dsn: str, monkeypatch, most: int
) -> None:
    write_windows(store, "m", T0, W, 30, 120, _stream)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m",
                      "features": ["x", "plan", "mixed", "both", "output:pred"],
                      "segments": ["country"],
                      "performance": {"task": "classification", "prediction": "pred",
                                      "min_labels": 20}}],
        "alerts": {"console": False}})
    Monitor(store, cfg).run_once()
    whole = drift_results(store)
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
        assert drift_results(other) == whole
        batch_reads = [r for r in reads if r[1] - r[0] > W]  # (not the label-window reads)
        if most == 3:  # a batch reads only its own windows, but for the first and while a
            # name read as numbers and strings both (windows 13, 19) is in its lead: whole
            ends = {e for _, e in reads}
            carried = [s for s, _ in reads if s in ends]
            assert len(reads) >= 10 and len(carried) >= 3, reads
            assert min(carried) < T0 + 13 * W  # (before the first mixed window)
        else:
            assert len(batch_reads) == 1
    finally:
        other.drop_database()


def test_the_passes_of_serve_share_their_nulls(store: Store, monkeypatch) -> None:
    # serve and `driftscope monitor` ran each pass with a new Monitor: every window drew
    # every feature's null again; a Monitor kept across passes lets the sliding
    # reference's next fits share them — with the same verdicts but for Monte Carlo noise
    from driftscope.config import Secrets
    from driftscope.detectors.emd import FittedEMD
    from driftscope.monitor.service import run_pass

    drawn: list[int] = []
    original = FittedEMD._boot_statistics

    def counting(self: Any, rng: Any, m: int, n_boot: int) -> Any:
        drawn.append(m)
        return original(self, rng, m, n_boot)

    monkeypatch.setattr(FittedEMD, "_boot_statistics", counting)
    cfg = Config.model_validate({"models": [{"id": "m", "window": "10m"}],
                                 "monitors": [{"name": "mon", "model": "m", "features": ["x"]}],
                                 "alerts": {"console": False}})
    write_windows(store, "m", T0, W, 30, 120, _stream, closed=False)
    for i in range(18):
        close_window(store, T0 + i * W, W, 120)
    kept = Monitor(store, cfg)
    run_pass(store, cfg, Secrets(), monitor=kept, deliver=False)
    drawn.clear()
    for i in range(18, 30):  # twelve passes of one window each
        close_window(store, T0 + i * W, W, 120)
        verdicts, _ = run_pass(store, cfg, Secrets(), monitor=kept, deliver=False)
        assert len(verdicts) == 1
    assert len(drawn) <= 4  # (a new Monitor a pass: 12)
