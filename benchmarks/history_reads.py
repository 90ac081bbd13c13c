"""A live pass's bookkeeping reads against the length of the history behind them.

Each monitor pass reads the monitor's processed windows and the model's closed windows.
It read every one since the store began (``store.retention`` unset, the default), so a
pass with one new window to score read the whole history: with 1-minute windows, 525,600
a year, each held in Python. Now :func:`driftscope.monitor.results.read_from` finds, in
one query, where the windows to do and their neighbours begin, and both reads start there.

This builds histories of 1-minute windows (1 day: 1,440; 30 days: 43,200; a year:
525,600), every window closed and processed and one new one to do, in a chDB store under
a temporary directory, and times one pass's reads the old way (the old functions, copied
below) and the new way, side by side, median of ``--repeats``; both must find the same
window to do:

    nice -n 10 .venv/bin/python benchmarks/history_reads.py

With ``--expired``, every window of the history is closed and only the last day's were
processed (a monitor added to a model whose older events ``store.retention`` deleted):
a pass read back to the oldest, which are never judged; now the Monitor keeps where
they end and passes it as ``after``. Both ways must find the same windows with data to
do.

    nice -n 10 .venv/bin/python benchmarks/history_reads.py --expired
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from driftscope.durations import as_utc
from driftscope.monitor import results
from driftscope.monitor.frame import closed_windows
from driftscope.monitor.scheduler import GAPPY_OF
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
from driftscope.types import Window

T0 = datetime(2025, 1, 1, tzinfo=UTC)
W = timedelta(minutes=1)


# -- the old reads (results.processed and frame.closed_windows before read_from) ----------

def old_processed(store: Store, model_id: str, monitor: str,
                  size: timedelta | None = None) -> set[datetime]:
    M = S.MONITOR_WINDOWS
    of_size = "" if size is None else \
        f"AND dateDiff('second', {M.window_start}, {M.window_end}) = {{w:Int64}}"
    rows = store.query(
        f"SELECT DISTINCT {M.window_start} FROM {M} WHERE {M.model_id} = {{m:String}} "
        f"AND {M.monitor} = {{n:String}} {of_size}",
        {"m": model_id, "n": monitor, "w": 0 if size is None else int(size.total_seconds())},
    )
    return {as_utc(r[0]) for r in rows}


def old_closed_windows(
    store: Store, model_id: str, size: timedelta, since: datetime | None = None,
    until: datetime | None = None, closed_before: datetime | None = None,
) -> list[tuple[Window, int]]:
    where = [f"{S.WINDOWS.model_id} = {{m:String}}", f"{S.WINDOWS.window_seconds} = {{s:UInt32}}"]
    params: dict[str, Any] = {"m": model_id, "s": int(size.total_seconds())}
    if since is not None:
        where.append(f"{S.WINDOWS.window_start} >= {{since:DateTime64(3, 'UTC')}}")
        params["since"] = as_utc(since)
    if until is not None:
        where.append(f"{S.WINDOWS.window_end} <= {{until:DateTime64(3, 'UTC')}}")
        params["until"] = as_utc(until)
    having = ""
    if closed_before is not None:
        having = f" HAVING min({S.WINDOWS.closed_at}) <= {{cb:DateTime64(3, 'UTC')}}"
        params["cb"] = as_utc(closed_before)
    rows = store.query(
        f"SELECT {S.WINDOWS.window_start}, max({S.WINDOWS.n_events}) FROM {S.WINDOWS} "
        f"WHERE {' AND '.join(where)} GROUP BY {S.WINDOWS.window_start}{having} "
        f"ORDER BY {S.WINDOWS.window_start}",
        params,
    )
    return [(Window(model_id, as_utc(r[0]), size), int(r[1])) for r in rows]


# -- one pass's reads, each way --------------------------------------------------------------

Reads = tuple[set[datetime], list[tuple[Window, int]]]


def old_pass(store: Store, settled: datetime) -> Reads:
    return (old_processed(store, "m", "mon", W),
            old_closed_windows(store, "m", W, closed_before=settled))


def new_pass(store: Store, settled: datetime) -> Reads:
    start = results.read_from(store, "m", "mon", W, None, settled, latest=GAPPY_OF[1] + 1)
    return (results.processed(store, "m", "mon", W, start),
            closed_windows(store, "m", W, start, closed_before=settled))


def expired_pass(store: Store, settled: datetime, after: datetime | None) -> Reads:
    start = results.read_from(store, "m", "mon", W, None, settled, latest=GAPPY_OF[1] + 1,
                              after=after)
    return (results.processed(store, "m", "mon", W, start),
            closed_windows(store, "m", W, start, closed_before=settled))


def todo(reads: Reads) -> list[datetime]:
    done, closed = reads
    return [w.start for w, _ in closed if w.start not in done]


def grow(store: Store, have: int, upto: int) -> None:
    """Windows ``have`` … ``upto`` - 1, closed and processed."""
    for a in range(have, upto, 50_000):
        starts = [T0 + i * W for i in range(a, min(a + 50_000, upto))]
        store.insert(S.WINDOWS, [("m", s, s + W, 60, 10_000, 0, s + W) for s in starts],
                     S.WINDOWS.columns)
        store.insert(S.MONITOR_WINDOWS, [("m", "mon", s, s + W, "fp", 0, 10_000, "{}", s + W)
                                         for s in starts], S.MONITOR_WINDOWS.columns)


def timed(f: Callable[[Store, datetime], Reads], store: Store, settled: datetime,
          repeats: int) -> tuple[float, Reads]:
    times, got = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        got = f(store, settled)
        times.append(time.perf_counter() - t)
    assert got is not None
    return statistics.median(times), got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1440,43200,525600",
                    help="history lengths, in 1-minute windows")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--expired", action="store_true",
                    help="all but the last day's windows expired, never processed")
    args = ap.parse_args()
    path = tempfile.mkdtemp(prefix="history_reads_")
    store = Store(f"chdb://{path}/db", database="hist")
    store.migrate()
    if args.expired:
        try:
            expired(store, [int(s) for s in args.sizes.split(",")], args.repeats)
        finally:
            store.close()
            shutil.rmtree(path, ignore_errors=True)
        return
    print("| history (windows) | old: all processed + all closed | new: read_from + both "
          "from there | old / new | rows read old → new |\n|---:|---:|---:|---:|---:|")
    try:
        have = 0
        for h in (int(s) for s in args.sizes.split(",")):
            grow(store, have, h)  # (h - 1 processed; the one at h - 1 is the new one)
            new = T0 + (h - 1) * W
            store.command(f"DELETE FROM {S.MONITOR_WINDOWS} WHERE window_start = "
                          "{s:DateTime64(3, 'UTC')}", {"s": new})
            settled = T0 + (h + 10) * W
            t_old, old_reads = timed(old_pass, store, settled, args.repeats)
            t_new, new_reads = timed(new_pass, store, settled, args.repeats)
            assert todo(old_reads) == todo(new_reads) == [new]
            rows = (sum(map(len, old_reads)), sum(map(len, new_reads)))
            print(f"| {h:,} | {t_old * 1e3:,.1f} ms | {t_new * 1e3:,.1f} ms | "
                  f"{t_old / t_new:,.1f}× | {rows[0]:,} → {rows[1]:,} |", flush=True)
            grow(store, h - 1, h)  # (processed now)
            have = h
    finally:
        store.close()
        shutil.rmtree(path, ignore_errors=True)


def expired(store: Store, sizes: list[int], repeats: int) -> None:
    day = 1440
    print("| history (windows) | reads back to the expired | from where they end | "
          "ratio | rows read |\n|---:|---:|---:|---:|---:|")
    for h in sizes:
        store.command(f"TRUNCATE TABLE {S.WINDOWS}")
        store.command(f"TRUNCATE TABLE {S.MONITOR_WINDOWS}")
        grow(store, 0, h)
        end = T0 + (h - 1 - day) * W  # (the windows before: expired, never processed)
        new = T0 + (h - 1) * W
        store.command(f"DELETE FROM {S.MONITOR_WINDOWS} WHERE window_start < "
                      "{e:DateTime64(3, 'UTC')} OR window_start = {s:DateTime64(3, 'UTC')}",
                      {"e": end, "s": new})
        settled = T0 + (h + 10) * W
        t_old, old_reads = timed(partial(expired_pass, after=None), store, settled,
                                 repeats)
        t_new, new_reads = timed(partial(expired_pass, after=end), store, settled,
                                 repeats)
        assert [t for t in todo(old_reads) if t >= end] == todo(new_reads) == [new]
        rows = (sum(map(len, old_reads)), sum(map(len, new_reads)))
        print(f"| {h:,} | {t_old * 1e3:,.1f} ms | {t_new * 1e3:,.1f} ms | "
              f"{t_old / t_new:,.1f}× | {rows[0]:,} → {rows[1]:,} |", flush=True)


if __name__ == "__main__":
    main()
