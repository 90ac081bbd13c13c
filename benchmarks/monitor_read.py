"""The monitor's frame building (``monitor.frame.build_frame``): now against a baseline commit.

``build_frame`` turns the rows a window query returns (timestamp, the payload maps,
label) into the monitor's columns. Until session 8 it grew each column's list with
``dict.setdefault(name, [nan] * i)``, which builds an ``i``-long default on every row:
quadratic in the rows read. This times the function of ``--baseline`` (read from git,
loaded as its own module) and of the working tree on the same rows, side by side, median
of ``--repeats``:

    .venv/bin/python benchmarks/monitor_read.py --baseline 43dfe94 --sizes 10000,50000,100000
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from driftscope.monitor import frame as current

NAMES = ["x", "y", "plan", "output:score"]


def baseline_module(commit: str) -> Any:
    source = subprocess.run(["git", "show", f"{commit}:driftscope/monitor/frame.py"],
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "frame_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("frame_baseline", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["frame_baseline"] = module
    spec.loader.exec_module(module)
    return module


def rows(n: int) -> list[tuple[Any, ...]]:
    """Rows as ``read_events`` gets them from the store (2 % of x missing)."""
    rng = np.random.default_rng(0)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    x, y, s = rng.normal(size=n), rng.lognormal(size=n), rng.beta(2, 5, n)
    plan = rng.choice(["a", "b", "c", "d"], n)
    miss = rng.uniform(size=n) < 0.02
    return [(t0 + timedelta(milliseconds=i),
             {"y": float(y[i])} if miss[i] else {"x": float(x[i]), "y": float(y[i])},
             {"plan": str(plan[i])}, ["x"] if miss[i] else [], {"score": float(s[i])}, {},
             {}, {}, None) for i in range(n)]


def timed(fn: Any, data: list[tuple[Any, ...]], repeats: int) -> tuple[float, Any]:
    out, times = None, []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn(data, NAMES, labels=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="43dfe94", help="commit of the baseline")
    ap.add_argument("--sizes", default="10000,50000,100000")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    old = baseline_module(args.baseline)
    print(f"| rows | baseline {args.baseline} | now | speed-up |")
    print("|---|---|---|---|")
    for n in (int(v) for v in args.sizes.split(",")):
        data = rows(n)
        t_old, f_old = timed(old.build_frame, data, args.repeats)
        t_new, f_new = timed(current.build_frame, data, args.repeats)
        for name in NAMES:  # the same frame
            a, b = f_old.columns[name], f_new.columns[name]
            assert a.dtype == b.dtype and all(
                (u == v) or (u != u and v != v) for u, v in zip(a.tolist(), b.tolist(),
                                                               strict=True))
        print(f"| {n:,} | {t_old:.2f} s | {t_new:.2f} s | {t_old / t_new:.1f}× |")


if __name__ == "__main__":
    main()
