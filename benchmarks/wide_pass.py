"""A monitor pass over a wide, segmented model on the default configuration: now against a
baseline commit, each in its own process on the same data (same seed, its own chDB path).

The model: ``--features`` numeric features (and ``--categorical`` ones, of 4 to 19
Zipf-distributed values, 2 % missing) and ``--segments`` values of one segment key,
``--events`` events per 1-minute window (``--window-minutes``), ``--windows`` windows; one
monitor with the defaults (EMD on numeric features, reference: the 12 windows before,
segments on). The time is ``Monitor.run_once`` over every window (reads, fits, nulls,
results), divided by the windows judged, for a first pass over all but the last ``--live``
windows (a backfill), then per pass for those, closed one at a time (``serve``: a window a
pass); the data are written before the clock starts. ``--law lognormal`` makes every
feature a lognormal σ = 2 one (heavy tails: a window its bootstrap flags draws a
permutation null), ``--drift D`` moves every feature's normal score by D in the live
windows. Run the baseline from a checkout of it (``git worktree add /tmp/base COMMIT``)::

    .venv/bin/python benchmarks/wide_pass.py --baseline-tree /tmp/base
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import paired  # (benchmarks/: this checkout against a baseline's)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LAWS = {"normal": lambda z: z, "lognormal": lambda z: np.exp(2.0 * z)}  # (σ = 2)
W = timedelta(minutes=1)  # (--window-minutes)


def child(args: argparse.Namespace) -> None:
    global W
    W = timedelta(minutes=args.window_minutes)
    from driftscope.config import Config
    from driftscope.monitor.scheduler import Monitor
    from driftscope.monitor.seed import write_windows
    from driftscope.store import schema as S
    from driftscope.store.clickhouse import Store

    names = [f"f{i:03d}" for i in range(args.features)]
    kinds = {f"k{i:03d}": np.array([f"v{j}" for j in range(4 + 3 * (i % 6))], dtype=object)
             for i in range(args.categorical)}
    countries = np.array([f"c{i:02d}" for i in range(args.segments)], dtype=object)

    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, object]:
        move = args.drift if i >= args.windows - args.live else 0.0
        cols: dict[str, object] = {name: LAWS[args.law](rng.normal(size=n) + move)
                                   for name in names}
        for name, values in kinds.items():
            zipf = 1.0 / np.arange(1, len(values) + 1)
            drawn = rng.choice(values, n, p=zipf / zipf.sum())
            drawn[rng.random(n) < 0.02] = None
            cols[name] = drawn
        cols["segment:country"] = rng.choice(countries, n)
        return cols

    path = tempfile.mkdtemp()

    atexit.register(shutil.rmtree, path, True)  # (a store of millions of events: GBs)

    store = Store(f"chdb://{path}", database="wide")
    store.migrate()
    write_windows(store, "m", T0, W, args.windows, args.events, gen, seed=1, closed=False)
    counts = dict(store.query(f"SELECT {S.WINDOW_PARTS.window_start}, {S.WINDOW_PARTS.n} "
                              f"FROM {S.WINDOW_PARTS}"))

    def close(i: int) -> None:  # the collector closes window i
        start = T0 + i * W
        n = counts[start.replace(tzinfo=None)]
        store.insert(S.WINDOWS, [("m", start, start + W, int(W.total_seconds()), n, 0,
                                  start + W)],
                     S.WINDOWS.columns)

    cfg = Config.model_validate({
        "models": [{"id": "m", "window": f"{args.window_minutes}m"}],
        "monitors": [{"name": "mon", "model": "m", "features": [*names, *kinds],
                      "segments": ["country"]}],
        "alerts": {"console": False}})
    monitor = Monitor(store, cfg)
    backfill = args.windows - args.live
    for i in range(backfill):
        close(i)
    t = time.perf_counter()
    verdicts = monitor.run_once()  # a first pass (a backfill) over all but the last
    took = time.perf_counter() - t
    live = []
    for i in range(backfill, args.windows):  # then live: one window a pass
        close(i)
        t = time.perf_counter()
        judged = monitor.run_once()
        live.append(time.perf_counter() - t)
        assert len(judged) == 1
    D = S.DRIFT_RESULTS
    rows = store.query(f"SELECT count(), countIf({D.drifted}) FROM {D} FINAL "
                       f"WHERE {D.metric} = 'emd'")
    every = store.query(f"SELECT {D.window_start}, {D.segment}, {D.feature}, {D.metric}, "
                        f"{D.statistic}, {D.threshold}, {D.drifted} FROM {D} FINAL "
                        f"ORDER BY 1, 2, 3, 4")  # (the same results: the same digest)
    print(json.dumps({"seconds": took, "windows": len(verdicts), "scores": rows[0][0],
                      "over": rows[0][1], "live": sorted(live)[len(live) // 2],
                      "slowest": max(live),
                      "digest": hashlib.sha256(repr(every).encode()).hexdigest()[:12],
                      "rows": len(every)}))


def run(tree: str | None, args: argparse.Namespace) -> dict[str, Any]:
    return paired.child(__file__, tree, [
        "--features", str(args.features), "--categorical", str(args.categorical),
        "--segments", str(args.segments),
        "--events", str(args.events), "--windows", str(args.windows), "--live",
        str(args.live), "--law", args.law, "--drift", str(args.drift),
        "--window-minutes", str(args.window_minutes)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--baseline-tree", help="a checkout of the baseline commit")
    ap.add_argument("--features", type=int, default=100)
    ap.add_argument("--categorical", type=int, default=0)
    ap.add_argument("--segments", type=int, default=10)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--windows", type=int, default=16)
    ap.add_argument("--live", type=int, default=4,
                    help="the last windows, judged one a pass as they close (serve)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--window-minutes", type=int, default=1,
                    help="the windows' size (60: hourly; a day back holds 24 windows)")
    ap.add_argument("--law", choices=sorted(LAWS), default="normal",
                    help="every feature's law, a transform of a standard normal score")
    ap.add_argument("--drift", type=float, default=0.0,
                    help="the live windows' move of every feature's normal score")
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    print(f"{args.features} numeric and {args.categorical} categorical features × "
          f"{args.segments} segments, {args.events:,} events a "
          f"window, {args.windows} windows")
    print("| code | first pass (backfill): s per window | live: s per pass (median) "
          "| slowest live pass | EMD scores | over threshold | result rows | their digest |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, tree in paired.alternated(args.baseline_tree, args.repeats):
        got = run(tree, args)
        print(f"| {name} | {got['seconds'] / max(got['windows'], 1):.2f} | "
              f"{got['live']:.2f} | {got['slowest']:.2f} | {got['scores']} | {got['over']} | "
              f"{got['rows']} | "
              f"{got['digest']} |", flush=True)


if __name__ == "__main__":
    main()
