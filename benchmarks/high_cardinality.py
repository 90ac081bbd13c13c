"""A high-cardinality categorical feature (ids, SKUs) in the monitor's per-window checks,
against the per-category implementations they replaced, side by side in one process.

* ``new categories`` — :func:`driftscope.monitor.quality.column_checks` on a window whose
  values are all new to the reference (its examples ranked by count) vs the baseline that
  counted each distinct new value with ``list.count`` (quadratic);
* ``persistence spread`` — :func:`driftscope.monitor.persistence.spread` (the noise of the
  drift-persistence projection) on a reference of ``--rows`` rows and ``--categories``
  categories, all of them shifted, vs the baseline that built one reference-length
  indicator array per category.

The new code runs ``--repeats`` times, the baseline half as many (at least once); the
table gives the median seconds,
the ratio of medians and the peak memory one call allocates (``tracemalloc``). The two
spreads are checked equal.

Usage::

    .venv/bin/python benchmarks/high_cardinality.py --rows 40000 --categories 2000
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from driftscope.monitor.config import QualitySpec
from driftscope.monitor.persistence import spread
from driftscope.monitor.quality import column_checks


def baseline_new_categories(ref: np.ndarray, cur: np.ndarray) -> list[str]:
    """The ranking before: ``list.count`` per distinct new value."""
    known = set(ref.tolist())
    new = [v for v in cur.tolist() if v not in known]
    return [str(v) for v in sorted(set(new), key=lambda v: (-new.count(v), str(v)))[:5]]


def baseline_spread(values: np.ndarray, z: dict[str, float]) -> float:
    """The projection's spread before: one standardised indicator array per category."""
    norm2 = sum(v * v for v in z.values())
    present = np.array([v is not None for v in values.tolist()], dtype=bool)
    text = values.astype(str)
    rows = {}
    for comp in z:
        hit = (text == comp[1:]) & present
        p = float(hit[present].mean())
        row = np.where(present, hit - p, 0.0)
        sd = float(row.std())
        if sd > 0:
            rows[comp] = row / sd
    mine: Any = 0.0
    alone = 0.0
    for comp, value in z.items():
        if comp in rows:
            mine = mine + (value / math.sqrt(norm2)) * rows[comp]
        else:
            alone += value * value
    var = float(np.var(mine)) + alone / norm2
    return math.sqrt(var)


def measure(fn: Callable[[], Any], repeats: int) -> tuple[list[float], int, Any]:
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return times, peak, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=40_000)
    ap.add_argument("--categories", type=int, default=2000)
    ap.add_argument("--window", type=int, default=20_000, help="events of the new-ids window")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    ref = np.array([f"id{i}" for i in rng.integers(0, a.categories, a.rows)], dtype=object)
    cur = np.array([f"new{i}" for i in rng.integers(0, a.window // 2, a.window)],
                   dtype=object)
    z = {f"=id{i}": float(rng.normal()) for i in range(a.categories)}
    spec = QualitySpec()
    cases = {
        "new categories": (lambda: column_checks("sku", ref, cur, spec)[1].details["new"],
                           lambda: baseline_new_categories(ref, cur)),
        "persistence spread": (lambda: spread({"sku": ref}, {"sku": z}),
                               lambda: baseline_spread(ref, z)),
    }
    print(f"rows {a.rows}, categories {a.categories}, new-ids window {a.window}, "
          f"{a.repeats} repeats")
    print("| case | now (s, median) | before (s, median) | before / now | now peak MiB "
          "| before peak MiB |")
    print("|---|---|---|---|---|---|")
    for name, (now_fn, before_fn) in cases.items():
        now_t, now_peak, now_out = measure(now_fn, a.repeats)
        before_t, before_peak, before_out = measure(before_fn, max(1, a.repeats // 2))
        if isinstance(now_out, float):
            assert math.isclose(now_out, before_out, rel_tol=1e-9), (now_out, before_out)
        else:
            assert now_out == before_out, (now_out, before_out)
        m_now, m_before = statistics.median(now_t), statistics.median(before_t)
        print(f"| {name} | {m_now:.3f} | {m_before:.3f} | {m_before / m_now:.0f}x "
              f"| {now_peak / 2**20:.1f} | {before_peak / 2**20:.1f} |")


if __name__ == "__main__":
    main()
