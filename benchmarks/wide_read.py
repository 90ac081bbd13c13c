"""Reading a wide model's events (``monitor.frame.read_events``): now against a baseline
commit, on the same embedded store, side by side in one process.

Until session 13 the store returned each event's feature maps as Python dicts and the
monitor built its columns row by row (a loop over every wanted name of every event); now
the store computes one column per name and returns numpy arrays. The model: ``--features``
numeric features, one categorical, one segment key and a numeric output, ``--events``
events over one hour. Time: median of ``--repeats``; memory: the peak Python allocation
of one call (``tracemalloc``: what the read itself holds, not chDB's own buffers), against
the size of the columns it returns.

    .venv/bin/python benchmarks/wide_read.py --baseline 3a47b05 --events 20000,60000 --features 200
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from monitor_read import baseline_module  # (benchmarks/: the baseline frame.py from git)

from driftscope.monitor import frame as current
from driftscope.monitor.seed import event_rows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def fill(store: Store, n: int, features: int) -> list[str]:
    rng = np.random.default_rng(0)
    names = [f"f{i:03d}" for i in range(features)]
    batch = 5000
    for s in range(0, n, batch):
        k = min(batch, n - s)
        cols: dict[str, Any] = {name: rng.normal(size=k) for name in names}
        cols["plan"] = rng.choice(np.array(["a", "b", "c"], dtype=object), k)
        cols["segment:country"] = rng.choice(np.array(["fr", "de"], dtype=object), k)
        cols["output:score"] = rng.random(k)
        start = T0 + timedelta(hours=1) * s / n
        store.insert(S.EVENTS, event_rows("m", start, timedelta(hours=1) * k / n, k, cols,
                                          f"p{s}"), S.EVENTS.columns)
    return [*names, "plan", "output:score"]


def read(module: Any, store: Store, names: list[str]) -> Any:
    return module.read_events(store, "m", T0, T0 + timedelta(hours=2), names)


def same(a: Any, b: Any, names: list[str]) -> None:
    assert a.n == b.n and (a.timestamps == b.timestamps).all()
    for name in names:
        x, y = a.columns[name], b.columns[name]
        assert x.dtype == y.dtype, name
        assert all((u == v) or (u != u and v != v) for u, v in zip(x.tolist(), y.tolist(),
                                                                   strict=True)), name
    assert a.segments.keys() == b.segments.keys()
    for key in a.segments:
        assert a.segments[key].tolist() == b.segments[key].tolist()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="3a47b05", help="commit of the baseline")
    ap.add_argument("--events", default="20000,60000")
    ap.add_argument("--features", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    old = baseline_module(args.baseline)
    print(f"| events × names | baseline {args.baseline} | now | speed-up | peak, baseline "
          f"| peak, now | columns returned |")
    print("|---|---|---|---|---|---|---|")
    for n in (int(v) for v in args.events.split(",")):
        store = Store(f"chdb://{tempfile.mkdtemp()}", database="wide")
        store.migrate()
        names = fill(store, n, args.features)
        times: dict[str, list[float]] = {"old": [], "new": []}
        frames = {}
        for r in range(args.repeats):
            for which in ("old", "new") if r % 2 == 0 else ("new", "old"):
                t = time.perf_counter()
                frames[which] = read(old if which == "old" else current, store, names)
                times[which].append(time.perf_counter() - t)
        same(frames["old"], frames["new"], names)
        data = sum(c.nbytes for c in frames["new"].columns.values()) / 2**20
        peaks = {}
        for which, module in (("old", old), ("new", current)):
            frames.clear()
            tracemalloc.start()
            read(module, store, names)
            peaks[which] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        t_old, t_new = statistics.median(times["old"]), statistics.median(times["new"])
        print(f"| {n:,} × {len(names)} | {t_old:.2f} s | {t_new:.2f} s | {t_old / t_new:.1f}× "
              f"| {peaks['old']:.0f} MiB | {peaks['new']:.0f} MiB | {data:.0f} MiB |",
              flush=True)
        store.close()


if __name__ == "__main__":
    main()
