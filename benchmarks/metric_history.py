"""A pass's read of the performance history against the length of the history behind it.

Each pass of a monitor with ``performance`` reads the past values of its metrics
(:func:`driftscope.monitor.results.metric_history`) for the band and anomaly checks. It
read every performance row the monitor ever wrote, of every segment value ever seen (a
campaign that ended weeks ago too), so its cost grew with the store's age. Now the pass
reads the recent windows of the segments its windows hold, and the whole history only of
those that have too few good windows in them.

This writes the performance rows a monitor of 1-minute windows writes — overall, 8
countries, and a campaign segment gaining 3 new values an hour, each live for 20 minutes —
for 1, 4 and 16 days, into a chDB store under a temporary directory, and times the read
as it was (no bound: the same call without ``since`` and ``segments``, the query it ran)
and as a pass makes it now, side by side, median of ``--repeats``; the history of the
segments judged must be the same both ways. The window judged begins a new campaign: the
first pass that sees it reads its whole history once (none), and is not timed; the passes
after it read the campaign's from then on:

    nice -n 10 .venv/bin/python benchmarks/metric_history.py
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.monitor.evaluate import Row
from driftscope.monitor.judge import QUARANTINE
from driftscope.monitor.results import metric_history, write_results
from driftscope.store.clickhouse import Store
from driftscope.types import Window

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(minutes=1)
LIMIT = 48  # the defaults: max(anomaly.history 48, band.history 24) windows, no season
METRICS = ["accuracy", "f1"]


def segments(i: int) -> list[str]:
    """The segments window ``i`` holds."""
    return ["*", *(f"country=k{c}" for c in range(8)), f"campaign=c{i // 20}"]


def write(store: Store, a: int, b: int, rng: np.random.Generator) -> None:
    for lo in range(a, b, 1_000):
        batch = []
        for i in range(lo, min(lo + 1_000, b)):
            rows = [Row("performance", seg, "*", metric, 0.9 + rng.normal(0, 0.01), math.nan,
                        "none", False, n_cur=100, fingerprint="performance",
                        details={"labels": 100, "standard_error": 0.01})
                    for seg in segments(i) for metric in METRICS]
            batch.append((Window("m", T0 + i * W, W), rows))
        write_results(store, "m", "mon", batch, T0)


def timed(repeats: int, store: Store, before: datetime, **bound: Any
          ) -> tuple[float, dict[tuple[str, str, str], Any]]:
    times, got = [], {}
    for _ in range(repeats):
        t = time.perf_counter()
        got = metric_history(store, "m", "mon", before, METRICS, LIMIT, **bound)
        times.append(time.perf_counter() - t)
    return statistics.median(times), got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", default="1,4,16")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    path = tempfile.mkdtemp(prefix="metric_history_")
    store = Store(f"chdb://{path}/db", database="hist")
    store.migrate()
    rng = np.random.default_rng(0)
    print("| history | as it was: all of it | now: recent, segments judged | was / now "
          "| keys read was → now |\n|---:|---:|---:|---:|---:|")
    try:
        have = 0
        for days in (int(d) for d in args.days.split(",")):
            n = days * 1_440
            write(store, have, n, rng)
            have = n
            before = T0 + n * W
            judged = set(segments(n))
            since = before - 2 * LIMIT * (1 + QUARANTINE) * W
            t_was, was = timed(args.repeats, store, before)
            unwritten: dict[str, datetime] = {}  # (as a Monitor keeps it from pass to pass:
            metric_history(store, "m", "mon", before, METRICS, LIMIT, since=since,
                           segments=judged, unwritten=unwritten)  # the campaign's first)
            assert unwritten == {f"campaign=c{n // 20}": before}
            t_now, now = timed(args.repeats, store, before, since=since, segments=judged,
                               unwritten=unwritten)
            assert now == {k: v for k, v in was.items() if k[0] in judged}
            print(f"| {days} day{'s' if days > 1 else ''} ({n:,} windows) | "
                  f"{t_was * 1e3:,.0f} ms | {t_now * 1e3:,.0f} ms | {t_was / t_now:,.1f}× | "
                  f"{len(was):,} → {len(now):,} |", flush=True)
    finally:
        store.close()
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
