"""Binned detectors on windows like their reference (false alarms) and on a shift (power),
default policies: psi, kl, hellinger, jensen_shannon (reference quantile, q = 0.99), chi2
(p-value, alpha 5 %), linf.

Sources: normal values (reference 1,000 → window 1,000; 200 → 2,000), 40 categories with
geometric shares (300 → 1,000), integer counts (Poisson(30), 1,000 → 1,000); power: a
shift of 0.2 standard deviations, 1,000 → 1,000. Baseline: the same script against an
older checkout (``PYTHONPATH`` on a worktree of the commit before the change).

Usage::

    .venv/bin/python benchmarks/binned_null.py [trials]
"""
from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

from driftscope.detectors import registry

NAMES = ["psi", "kl", "hellinger", "jensen_shannon", "chi2", "linf"]
P40 = 0.85 ** np.arange(40) / (0.85 ** np.arange(40)).sum()
CATS = np.array([f"c{i}" for i in range(40)], dtype=object)
Draw = Callable[[np.random.Generator, int], np.ndarray]

CASES: list[tuple[str, Draw, Draw, int, int]] = [
    ("normal 1,000 → 1,000", lambda r, k: r.normal(size=k), lambda r, k: r.normal(size=k),
     1000, 1000),
    ("normal 200 → 2,000", lambda r, k: r.normal(size=k), lambda r, k: r.normal(size=k),
     200, 2000),
    ("40 categories 300 → 1,000", lambda r, k: CATS[r.choice(40, size=k, p=P40)],
     lambda r, k: CATS[r.choice(40, size=k, p=P40)], 300, 1000),
    ("integers 1,000 → 1,000", lambda r, k: r.poisson(30, k).astype(float),
     lambda r, k: r.poisson(30, k).astype(float), 1000, 1000),
    ("power: shift 0.2 sd", lambda r, k: r.normal(size=k), lambda r, k: r.normal(0.2, 1, k),
     1000, 1000),
]


def rate(name: str, ref: Draw, cur: Draw, n: int, m: int, trials: int) -> float:
    hits = 0
    for t in range(trials):
        rng = np.random.default_rng([7, t])
        a, b = ref(rng, n), cur(rng, m)
        hits += registry.get(name).fit(a, rng=np.random.default_rng(t)).score(b).drifted
    return hits / trials


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print("| share drifted | " + " | ".join(NAMES) + " |")
    print("|---" * (len(NAMES) + 1) + "|")
    for label, ref, cur, n, m in CASES:
        cells = [rate(name, ref, cur, n, m, trials) for name in NAMES]
        print(f"| {label} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
