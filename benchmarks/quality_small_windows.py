"""Data-quality checks on small windows: false alarms on clean windows and power on
faults, through ``driftscope.monitor.quality.column_checks`` directly (10,000 clean
windows a cell by default, a fresh reference of 2,000 every 100 windows; 2,000 faulty).

Baseline: the same script against an older checkout, e.g.
``git worktree add /tmp/before c01d077~1`` and ``PYTHONPATH=/tmp/before``.

Usage::

    .venv/bin/python benchmarks/quality_small_windows.py [windows]
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

from driftscope.monitor.config import QualitySpec
from driftscope.monitor.quality import column_checks

SPEC = QualitySpec()
RNG = np.random.default_rng(0)
Draw = Callable[[int], np.ndarray]


def flagged(metric: str, reference: Draw, window: Draw, n: int, windows: int) -> float:
    """The share of ``windows`` windows of ``n`` values whose ``metric`` is flagged."""
    bad = 0
    for i in range(windows):
        if i % 100 == 0:
            ref = reference(2000)
        res = {r.metric: r for r in column_checks("x", ref, window(n), SPEC)}
        bad += metric in res and res[metric].bad
    return bad / windows


def missing(p: float) -> Draw:
    return lambda k: np.where(RNG.random(k) < p, np.nan, 1.0)


def sparse(miss: float, scale: float = 1.0, spike: float = 0.0) -> Draw:
    """Normal values, ``miss`` of them missing; ``spike`` of them × 100, all × ``scale``."""
    def draw(k: int) -> np.ndarray:
        x = RNG.normal(40, 10, k) * scale * np.where(RNG.random(k) < spike, 100, 1)
        return np.where(RNG.random(k) < miss, np.nan, x)
    return draw


def categories(values: np.ndarray, p: np.ndarray | None = None, new: float = 0.0) -> Draw:
    def draw(k: int) -> np.ndarray:
        x = values[RNG.choice(len(values), k, p=p)]
        return np.where(RNG.random(k) < new, "zz", x).astype(object)
    return draw


def main() -> None:
    clean = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    faulty = 2000
    t0 = time.time()
    print("| clean windows (target about 0.0013) | n = 30 | n = 50 | n = 100 | n = 200 |")
    print("|---|---|---|---|---|")
    for p in (0.005, 0.01, 0.02, 0.05, 0.3):
        cells = [flagged("missing_rate", missing(p), missing(p), n, clean)
                 for n in (30, 50, 100, 200)]
        print(f"| missing rate, {p:.1%} missing | " + " | ".join(f"{c:.4f}" for c in cells) + " |")
    for miss in (0.9, 0.95):
        cells = [flagged("out_of_range", sparse(miss), sparse(miss), n, clean)
                 for n in (30, 50, 100, 200)]
        print(f"| out of range, {miss:.0%} missing | " + " | ".join(f"{c:.4f}" for c in cells)
              + " |")
    regions = np.array(["north", "south", "east", "west", "central", "islands"], dtype=object)
    share = np.array([0.3, 0.25, 0.2, 0.15, 0.098, 0.002])
    cells = [flagged("new_categories", categories(regions[:5], share[:5] / share[:5].sum()),
                     categories(regions, share), n, min(clean, 2000)) for n in (30, 50, 100, 200)]
    print("| new categories, a 0.2 % region the reference lacks | "
          + " | ".join(f"{c:.4f}" for c in cells) + " |")
    print()
    print("| faulty windows: share flagged | n = 50 | n = 1,000 |")
    print("|---|---|---|")
    letters = np.array(list("abcde"), dtype=object)
    faults = [
        ("missing 1 % → 11 %", "missing_rate", missing(0.01), missing(0.11)),
        ("missing 1 % → 20 %", "missing_rate", missing(0.01), missing(0.20)),
        ("missing 30 % → 40 %", "missing_rate", missing(0.3), missing(0.4)),
        ("unit change × 1.609", "out_of_range", sparse(0.0), sparse(0.0, 1.609)),
        ("× 100 on 10 % of values", "out_of_range", sparse(0.0), sparse(0.0, spike=0.1)),
        ("5 % new category", "new_categories", categories(letters),
         categories(letters, None, 0.05)),
        ("10 % new category", "new_categories", categories(letters),
         categories(letters, None, 0.1)),
    ]
    for name, metric, ref, cur in faults:
        a, b = (flagged(metric, ref, cur, n, faulty) for n in (50, 1000))
        print(f"| {name} | {a:.3f} | {b:.3f} |")
    print(f"\n({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
