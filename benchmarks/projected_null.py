"""`projected` (PCA, k = 2, + reconstruction error; EMD per component at q = 0.99) on
windows like the reference, with many features against few rows: the share of windows
that drift (three components: about 0.03 expected).

Baseline: the same script against an older checkout (``PYTHONPATH`` on a worktree of the
commit before the change).

Usage::

    .venv/bin/python benchmarks/projected_null.py [trials]
"""
from __future__ import annotations

import sys

import numpy as np

from driftscope.detectors import registry

SHAPES = [(40, 40, 60), (200, 100, 100), (500, 100, 50), (2000, 200, 8)]


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    print("| reference rows → window rows × features | windows drifted |")
    print("|---|---|")
    for n, m, d in SHAPES:
        drifted = 0
        for t in range(trials):
            rng = np.random.default_rng([17, t])
            ref, cur = rng.normal(size=(n, d)), rng.normal(size=(m, d))
            fitted = registry.get("projected").fit(ref, rng=np.random.default_rng(t))
            drifted += fitted.score(cur).drifted
        print(f"| {n} → {m} × {d} | {drifted / trials:.3f} |")


if __name__ == "__main__":
    main()
