"""The memory a monitor's kept read holds for its text columns (``monitor.frame.read_events``
and ``monitor.kept.footprint``): now against a baseline commit, each in its own process on
the same data (its own chDB path), alternated.

Before, the store gave each row's string of a categorical column, segment or label its own
Python object (~60 bytes), and the read's record array, held by the numeric columns' views,
kept them all: a text column cost several times a numeric one. Now a read's column holds
one object per value (``frame.one_per_value``).

The model: ``--events`` events of ``--numeric`` numeric features, ``--text`` categorical
ones (column ``k`` of 20 + 20·k values, or ``--values`` each: ids, SKUs; 5 % missing), one
segment key (3 values) and a label (2 values). Two reads with labels: "mixed" (the
numeric and the categorical features) and "numeric" (as many numeric features, for
scale). Printed, medians over ``--repeats`` processes of each code: the read's seconds
(median of ``--reads`` in a process); the bytes the read holds (``tracemalloc``, after
it returned: the Python memory kept, not chDB's) and ``kept.footprint`` of it (what
``monitor_process.kept_reads_bytes`` is weighed against), each per event; the peak
Python memory while reading; and the most Python objects of one text column. Run the
baseline from a checkout of it
(``git worktree add /tmp/base COMMIT``)::

    nice .venv/bin/python benchmarks/text_memory.py --baseline-tree /tmp/base
"""

from __future__ import annotations

import argparse
import atexit
import gc
import hashlib
import json
import shutil
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import paired  # (benchmarks/: this checkout against a baseline's)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)


def _fill(store: Any, args: argparse.Namespace) -> None:
    from driftscope.monitor.seed import event_rows
    from driftscope.store import schema as S

    rng = np.random.default_rng(0)
    batch = 10_000
    for s in range(0, args.events, batch):
        k = min(batch, args.events - s)
        cols: dict[str, Any] = {f"x{i}": rng.normal(size=k)
                                for i in range(args.numeric + args.text)}
        for i in range(args.text):
            values = np.array([f"feature-{i}-category-{j:08d}"
                               for j in range(args.values or 20 + 20 * i)], dtype=object)
            c = rng.choice(values, k)
            c[rng.random(k) < 0.05] = None
            cols[f"c{i}"] = c
        cols["segment:region"] = rng.choice(np.array(["emea", "amer", "apac"], dtype=object), k)
        cols["label"] = rng.choice(np.array(["fraud", "legit"], dtype=object), k)
        store.insert(S.EVENTS, event_rows("m", T0 + H * s / args.events, H * k / args.events,
                                          k, cols, f"p{s}"), S.EVENTS.columns)


def _digest(frame: Any) -> str:
    """The values a frame holds (None and NaN where missing), in order."""
    h = hashlib.sha256()
    for name, col in [*frame.columns.items(), *frame.segments.items(), ("", frame.labels)]:
        h.update(f"{name}:{col.dtype}:{col.tolist()!r}".encode())
    return h.hexdigest()


def child(args: argparse.Namespace) -> None:
    from driftscope.monitor.frame import read_events
    from driftscope.monitor.kept import footprint
    from driftscope.store.clickhouse import Store

    path = tempfile.mkdtemp()
    atexit.register(shutil.rmtree, path, True)
    store = Store(f"chdb://{path}", database="text")
    store.migrate()
    _fill(store, args)
    reads = {"mixed": [*(f"x{i}" for i in range(args.numeric)),
                       *(f"c{i}" for i in range(args.text))],
             "numeric": [f"x{i}" for i in range(args.numeric + args.text)]}
    out: dict[str, Any] = {}
    for what, names in reads.items():
        def read(names: list[str] = names) -> Any:
            return read_events(store, "m", T0, T0 + H, names, labels=True)

        times = []
        for _ in range(args.reads):
            t = time.perf_counter()
            frame = read()
            times.append(time.perf_counter() - t)
            del frame
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        frame = read()
        gc.collect()
        now, peak = tracemalloc.get_traced_memory()
        held, peak = now - before, peak - before
        tracemalloc.stop()
        out[what] = {"seconds": statistics.median(times), "held": held, "peak": peak,
                     "footprint": footprint(frame), "n": frame.n, "digest": _digest(frame),
                     "distinct": max(len({id(x) for x in c}) for c in frame.columns.values()
                                     if c.dtype.kind == "O") if args.text and what == "mixed"
                     else 0}
        del frame
    print(json.dumps(out))


def run(tree: str | None, args: argparse.Namespace) -> dict[str, Any]:
    return paired.child(__file__, tree, [
        "--events", str(args.events), "--numeric", str(args.numeric), "--text",
        str(args.text), "--values", str(args.values), "--reads", str(args.reads)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--baseline-tree", help="a checkout of the baseline commit")
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--numeric", type=int, default=10)
    ap.add_argument("--text", type=int, default=10)
    ap.add_argument("--values", type=int, default=0,
                    help="values of each categorical feature (0: 20 + 20·k)")
    ap.add_argument("--reads", type=int, default=3, help="timed reads in each process")
    ap.add_argument("--repeats", type=int, default=3, help="processes of each code")
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    got: dict[str, list[dict[str, Any]]] = {}
    for name, tree in paired.alternated(args.baseline_tree, args.repeats):
        got.setdefault(name, []).append(run(tree, args))
        print(f"({name} done)", flush=True)
    digests = {r[what]["digest"] for runs in got.values() for r in runs for what in r}
    print(f"{args.events:,} events: {args.numeric} numeric + {args.text} categorical features "
          f"({args.values or '20 + 20·k'} values each), a segment, labels; values identical "
          f"across codes: "
          f"{len(digests) == 2 if args.text else len(digests) == 1}")
    print("| code | read | seconds | held (tracemalloc) | bytes/event | footprint "
          "| bytes/event | peak while reading | most objects in a text column |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for what in ("mixed", "numeric"):
        for name, runs in got.items():
            med = {k: statistics.median(r[what][k] for r in runs)
                   for k in ("seconds", "held", "footprint", "peak", "distinct")}
            n = runs[0][what]["n"]
            print(f"| {name} | {what} | {med['seconds']:.3f} | {med['held'] / 1e6:.1f} MB | "
                  f"{med['held'] / n:.0f} | {med['footprint'] / 1e6:.1f} MB | "
                  f"{med['footprint'] / n:.0f} | {med['peak'] / 1e6:.1f} MB | "
                  f"{med['distinct']:,.0f} |")


if __name__ == "__main__":
    main()
