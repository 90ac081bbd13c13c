"""A live pass reads the processed and closed windows its windows to do need, not every
window since the store began (:func:`results.read_from`), and finds the same: a late
window older than processed ones, windows of its size only, settled ones only, the
windows a backfill or ``forget`` left unprocessed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.config import Config
from driftscope.monitor import results, scheduler
from driftscope.monitor.frame import closed_windows
from driftscope.monitor.scheduler import GAPPY_OF, Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
LATEST = GAPPY_OF[1] + 1


def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    return {"x": rng.normal(size=n)}


def config(window: str = "10m") -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": window}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "reference": {"kind": "previous", "windows": 2}}],
        "alerts": {"console": False}})


def numbered(verdicts: list[Any], size: timedelta = W) -> list[int]:
    return [int((v.window_start - T0) / size) for v in verdicts]


def close(store: Store, starts: list[datetime], size: timedelta = W, n: int = 0,
          closed_at: datetime | None = None) -> None:
    """``windows`` rows, as the collector writes them."""
    store.insert(S.WINDOWS, [("m", s, s + size, int(size.total_seconds()), n, 0,
                              closed_at or s + size) for s in starts], S.WINDOWS.columns)


def mark(store: Store, starts: list[datetime], size: timedelta = W) -> None:
    """``monitor_windows`` rows: the windows processed."""
    M = S.MONITOR_WINDOWS
    store.insert(M, [("m", "mon", s, s + size, "fp", 0, 0, json.dumps({}), s + size)
                     for s in starts], M.columns)


# -- a pass finds what it did when it read everything -------------------------------------

def view(done: set[datetime], closed: set[datetime], size: timedelta) -> tuple[Any, ...]:
    """What a pass takes from the processed and closed windows (scheduler._run_monitor):
    the windows to do; the processed one before the first; the latest windows processed
    or to do (_warn_of_gaps); the windows processed or closed from the window before the
    first to do, or from that processed one, on (_in_order, _labelled)."""
    todo = sorted(closed - done)
    latest = sorted(done | set(todo))[-LATEST:]
    if not todo:
        return [], latest
    prev = max((d for d in done if d < todo[0]), default=None)
    start = min(todo[0] - size, prev or todo[0])
    return todo, prev, latest, sorted(k for k in done | closed if k >= start)


def both_views(store: Store, size: timedelta = W, until: datetime | None = None,
               closed_before: datetime | None = None) -> tuple[Any, Any, int]:
    """The view from every window, and from :func:`results.read_from` on (with how many
    processed and closed windows that read)."""
    def starts(closed: list[Any]) -> set[datetime]:
        return {w.start for w, _ in closed}

    full = view(results.processed(store, "m", "mon", size),
                starts(closed_windows(store, "m", size, None, until, closed_before)), size)
    start = results.read_from(store, "m", "mon", size, until, closed_before, latest=LATEST)
    done = results.processed(store, "m", "mon", size, start)
    closed = starts(closed_windows(store, "m", size, start, until, closed_before))
    return full, view(done, closed, size), len(done) + len(closed)


def test_a_late_window_older_than_processed_ones_is_found(store: Store) -> None:
    starts = [T0 + i * W for i in range(300)]
    close(store, starts)
    mark(store, [s for i, s in enumerate(starts) if i != 40])  # 40: closed late
    full, bounded, _ = both_views(store)
    assert full[0] == [T0 + 40 * W]
    assert bounded == full


def test_windows_of_another_size_neither_to_do_nor_processed(store: Store) -> None:
    hour = timedelta(hours=1)
    close(store, [T0 + i * W for i in range(60)])
    mark(store, [T0 + i * W for i in range(60)])
    close(store, [T0 + i * hour for i in range(10)], hour)  # the same starts, every 6th
    mark(store, [T0 + i * hour for i in range(10) if i != 3], hour)
    close(store, [T0 + 100 * W], W)  # a 10-minute window not processed: not the hour's
    for size, todo in ((hour, [T0 + 3 * hour]), (W, [T0 + 100 * W])):
        full, bounded, _ = both_views(store, size)
        assert full[0] == todo
        assert bounded == full


def test_an_unsettled_window_is_not_to_do_and_does_not_hold_the_read_back(
        store: Store) -> None:
    close(store, [T0 + i * W for i in range(200)])
    mark(store, [T0 + i * W for i in range(200) if i != 150])
    close(store, [T0 + 5 * W], closed_at=T0 + 500 * W)  # 5 closed again, later: stays settled
    close(store, [T0 + 300 * W], closed_at=T0 + 500 * W)  # not settled by T0 + 400 min
    close(store, [T0 + 20 * W + W / 2], closed_at=T0 + 500 * W)  # unprocessed, unsettled
    full, bounded, n = both_views(store, closed_before=T0 + 400 * W)
    assert full[0] == [T0 + 150 * W]
    assert bounded == full
    assert n < 3 * (200 - 150 + LATEST)  # not held back to the unsettled window at 20:05
    full, bounded, _ = both_views(store, closed_before=T0 + 600 * W)
    assert full[0] == [T0 + 20 * W + W / 2, T0 + 150 * W, T0 + 300 * W]
    assert bounded == full


def test_until_keeps_windows_ending_after_it_out(store: Store) -> None:
    close(store, [T0 + i * W for i in range(100)])
    mark(store, [T0 + i * W for i in range(100) if i not in (30, 90)])
    full, bounded, _ = both_views(store, until=T0 + 60 * W)
    assert full[0] == [T0 + 30 * W]
    assert bounded == full
    full, bounded, n = both_views(store, until=T0 + 25 * W)
    assert full[0] == []
    assert bounded == full
    assert n <= 2 * (LATEST + 1)  # not held back to 30, past until


@pytest.mark.parametrize("seed", range(8))
def test_any_history_gives_the_view_of_reading_it_all(store: Store, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    state = rng.choice(["done", "todo", "none", "silent", "unsettled"], size=n,
                       p=[0.8, 0.01 + 0.02 * (seed % 3), 0.1, 0.04, 0.05 - 0.02 * (seed % 3)])
    if seed % 2:  # the latest windows all processed: nothing to do
        state[state == "todo"] = "done"
    at = [T0 + i * W for i in range(n)]
    close(store, [s for s, k in zip(at, state, strict=True) if k in ("done", "todo")])
    close(store, [s for s, k in zip(at, state, strict=True) if k == "unsettled"],
          closed_at=T0 + 10 * n * W)
    mark(store, [s for s, k in zip(at, state, strict=True) if k in ("done", "silent")])
    full, bounded, _ = both_views(store, closed_before=T0 + 2 * n * W)
    assert bounded == full


def test_the_read_does_not_grow_with_the_processed_history(store: Store) -> None:
    sizes = []
    for have, more in ((0, 2_000), (2_000, 8_000)):
        starts = [T0 + i * W for i in range(have, more)]
        close(store, starts)
        mark(store, starts)
        close(store, [T0 + more * W])  # one new window to do
        full, bounded, n = both_views(store)
        assert bounded == full
        assert full[0] == [T0 + more * W]
        mark(store, [T0 + more * W])
        sizes.append(n)
    assert sizes[0] == sizes[1] <= 2 * (LATEST + 2)


def test_nothing_to_do_reads_only_the_latest_processed(store: Store) -> None:
    assert results.read_from(store, "m", "mon", W) is None  # an empty store
    close(store, [T0 + i * W for i in range(500)])
    mark(store, [T0 + i * W for i in range(500)])
    start = results.read_from(store, "m", "mon", W, latest=LATEST)
    assert results.processed(store, "m", "mon", W, start) == \
        {T0 + i * W for i in range(500 - LATEST, 500)}


def test_a_window_a_pass_judges_besides_is_read_from(store: Store) -> None:
    close(store, [T0 + i * W for i in range(100)])
    mark(store, [T0 + i * W for i in range(100)])
    start = results.read_from(store, "m", "mon", W, first=T0 + 50 * W, latest=3)
    assert start == T0 + 47 * W  # the 3 processed before 50


# -- a live pass ---------------------------------------------------------------------------

def test_a_late_window_and_forgotten_ones_are_processed_by_the_next_pass(
        store: Store) -> None:
    write_windows(store, "m", T0, W, 3, 200, gen, seed=1)
    write_windows(store, "m", T0 + 4 * W, W, 8, 200, gen, seed=2)  # 3 not closed yet
    assert numbered(Monitor(store, config()).run_once()) == [0, 1, 2, *range(4, 12)]
    write_windows(store, "m", T0 + 3 * W, W, 1, 200, gen, seed=3)  # 3 closes, late
    assert numbered(Monitor(store, config()).run_once()) == [3]
    results.forget(store, "m", "mon", [T0 + 1 * W, T0 + 9 * W])
    assert numbered(Monitor(store, config()).run_once()) == [1, 9]
    assert Monitor(store, config()).run_once() == []


def test_a_backfill_redoes_exactly_its_windows_and_a_pass_after_it_none(
        store: Store) -> None:
    write_windows(store, "m", T0, W, 12, 200, gen, seed=1)
    assert len(Monitor(store, config()).run_once()) == 12
    assert numbered(Monitor(store, config()).backfill(T0 + 3 * W, T0 + 6 * W)) == [3, 4, 5]
    assert results.processed(store, "m", "mon", W) == {T0 + i * W for i in range(12)}
    assert Monitor(store, config()).run_once() == []


def test_a_new_window_size_does_its_windows_and_not_the_old_sizes(store: Store) -> None:
    write_windows(store, "m", T0, W, 12, 200, gen, seed=1)
    assert len(Monitor(store, config()).run_once()) == 12
    half = timedelta(minutes=20)
    close(store, [T0 + i * half for i in range(6)], half, n=400)  # the collector, resized
    assert numbered(Monitor(store, config("20m")).run_once(), half) == list(range(6))
    write_windows(store, "m", T0 + 12 * W, W, 1, 200, gen, seed=2)  # a 10-minute window
    assert Monitor(store, config("20m")).run_once() == []
    assert numbered(Monitor(store, config()).run_once()) == [12]


def test_a_window_waits_to_settle(store: Store) -> None:
    write_windows(store, "m", T0, W, 6, 200, gen, seed=1)  # each closed at its end

    def run(at: timedelta) -> list[int]:
        return numbered(Monitor(store, config(), clock=lambda: T0 + at,
                                settle=timedelta(minutes=5)).run_once())
    assert run(4 * W) == [0, 1, 2]  # 3 closed at 40 min, settled at 45
    assert run(5 * W + timedelta(minutes=5)) == [3, 4]
    assert run(7 * W) == [5]


def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many processed and closed windows each read of a pass holds."""
    read: list[int] = []
    processed, closed = results.processed, scheduler.closed_windows

    def spy_processed(*args: Any, **kwargs: Any) -> set[datetime]:
        got = processed(*args, **kwargs)
        read.append(len(got))
        return got

    def spy_closed(*args: Any, **kwargs: Any) -> list[Any]:
        got = closed(*args, **kwargs)
        read.append(len(got))
        return got

    monkeypatch.setattr(results, "processed", spy_processed)
    monkeypatch.setattr(scheduler, "closed_windows", spy_closed)
    return read


def test_a_live_pass_reads_no_more_for_a_longer_history(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    old = [T0 - (i + 1) * W for i in range(3_000)]  # processed long ago
    close(store, old)
    mark(store, old)
    write_windows(store, "m", T0, W, 6, 200, gen, seed=1)
    read = reads(monkeypatch)
    assert numbered(Monitor(store, config()).run_once()) == list(range(6))
    assert read == [LATEST, LATEST + 6]  # the latest processed, closed from the first
    read.clear()
    write_windows(store, "m", T0 + 6 * W, W, 1, 200, gen, seed=2)
    assert numbered(Monitor(store, config()).run_once()) == [6]
    assert read == [LATEST, LATEST + 1]  # (not the 3,000 windows before)


# -- windows whose data expired ------------------------------------------------------------

def kept_for(events: str | None) -> Config:
    cfg = config().model_dump()
    cfg["store"]["retention"]["events"] = events
    return Config.model_validate(cfg)


def test_windows_whose_data_expired_are_not_read_back_to_at_every_pass(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A monitor added to a model whose old events ``store.retention`` deleted (their
    ``windows`` rows kept): the first pass reads back to them once, the next ones don't."""
    gone = [T0 - (i + 1) * W for i in range(3_000)]
    close(store, gone, n=200)  # closed with events, none left
    write_windows(store, "m", T0, W, 6, 200, gen, seed=1)
    monitor = Monitor(store, kept_for("30d"))
    read = reads(monkeypatch)
    assert numbered(monitor.run_once()) == list(range(6))
    assert read == [0, 3_006]  # (none processed; every closed window, once)
    for i in range(6, 8):
        read.clear()
        write_windows(store, "m", T0 + i * W, W, 1, 200, gen, seed=i)
        assert numbered(monitor.run_once()) == [i]
        assert read == [i, i + 1]  # the windows processed, and closed, since: not 3,000
    assert results.processed(store, "m", "mon", W) == {T0 + i * W for i in range(8)}


@pytest.mark.parametrize("events, days", [("30d", 0), (None, 60)])
def test_a_window_whose_data_is_not_there_is_looked_for_again(
        store: Store, monkeypatch: pytest.MonkeyPatch, events: str | None, days: int) -> None:
    """Within the retention (or with none), a window whose events are not stored is
    looked for at every pass."""
    close(store, [T0], n=200)  # closed, its events not (yet) there
    write_windows(store, "m", T0 + W, W, 4, 200, gen, seed=1)
    at = T0 + timedelta(days=days, minutes=60)
    monitor = Monitor(store, kept_for(events), clock=lambda: at)
    assert numbered(monitor.run_once()) == [1, 2, 3, 4]
    write_windows(store, "m", T0 + 5 * W, W, 1, 200, gen, seed=5)
    read = reads(monkeypatch)
    assert numbered(monitor.run_once()) == [5]
    assert read == [4, 6]  # read back to window 0 again


def test_a_model_whose_every_window_expired_is_not_read_back_to_either(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing processed, nothing to do (an idle or retired model): the read begins where
    the expired windows end, not at the store's start."""
    close(store, [T0 + i * W for i in range(3_000)], n=200)  # (about 21 days)
    monitor = Monitor(store, kept_for("30d"), clock=lambda: T0 + timedelta(days=60))
    read = reads(monkeypatch)
    for _ in range(3):
        assert monitor.run_once() == []
    assert read == [0, 3_000, 0, 0, 0, 0]


def test_old_events_replayed_into_an_expired_window_are_judged_within_the_hour(
        store: Store) -> None:
    close(store, [T0 - (i + 1) * W for i in range(300)], n=200)  # expired
    write_windows(store, "m", T0, W, 3, 200, gen, seed=1)
    now = [T0 + timedelta(days=40)]
    monitor = Monitor(store, kept_for("30d"), clock=lambda: now[0])
    assert numbered(monitor.run_once()) == [0, 1, 2]
    write_windows(store, "m", T0 - 100 * W, W, 1, 200, gen, seed=2)  # replayed
    assert monitor.run_once() == []  # (the expired windows: trusted for the hour)
    now[0] += scheduler.EXPIRED_RECHECK
    assert numbered(monitor.run_once()) == [-100]
