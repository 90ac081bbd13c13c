"""MMD under a reference-quantile threshold (a monitor's default policy): its null drawn
as the window's own permutations (now) against the bootstrap null of the reference against
resamples of its own rows (before), in the same process.

(a) False alarms: windows without drift flagged (q = 0.99, so about 1 % is the level),
over ``TRIALS`` pairs of standard normal reference and window.
(b) Time: the median seconds to fit and score one window, over ``RUNS`` runs.

Usage::

    .venv/bin/python benchmarks/mmd_threshold.py
"""
from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import torch
from mmd_pooled import Before as RefStandardised  # (benchmarks/, the script's folder)

from driftscope.detectors.mmd import MMD, FittedMMD
from driftscope.detectors.significance import ReferenceQuantile

TRIALS, RUNS = 60, 3
POLICY = ReferenceQuantile(q=0.99, n_boot=200)


class Before(RefStandardised):
    """The null as it was: the base class's bootstrap of the reference's own rows (of the
    statistic as it was then: standardised on the reference alone, benchmarks/mmd_pooled.py;
    the pooled one would fit its standardiser and bandwidth again for every resample)."""

    def _window_null(self, pol: Any, prepared: Any) -> None:
        return None


def fitted(ref: np.ndarray, seed: int, before: bool) -> FittedMMD:
    fit = MMD(POLICY).fit(ref, rng=np.random.default_rng(seed))
    if not before:
        return fit
    old = Before.__new__(Before)
    old.__dict__.update(fit.__dict__)  # (a frozen dataclass: the same fields, the old null)
    return old


def flagged(n_ref: int, n_cur: int, d: int, before: bool) -> int:
    hits = 0
    for t in range(TRIALS):
        rng = np.random.default_rng(t)
        ref, cur = rng.normal(size=(n_ref, d)), rng.normal(size=(n_cur, d))
        hits += fitted(ref, 100 + t, before).score(cur).drifted
    return hits


def seconds(n_ref: int, n_cur: int, d: int, before: bool) -> float:
    out = []
    for t in range(RUNS):
        rng = np.random.default_rng(t)
        ref, cur = rng.normal(size=(n_ref, d)), rng.normal(size=(n_cur, d))
        start = time.perf_counter()
        fitted(ref, t, before).score(cur)
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def main() -> None:
    torch.set_num_threads(2)
    print("(a) windows without drift flagged, of", TRIALS)
    for n_ref, n_cur, d in ((100, 100, 256), (1000, 200, 64), (1000, 500, 16)):
        old, new = (flagged(n_ref, n_cur, d, b) for b in (True, False))
        print(f"  reference {n_ref:>5} × window {n_cur:>4}, {d:>3} features: "
              f"before {old:>2}, now {new:>2}")
    print("(b) seconds to fit and score one window, median of", RUNS)
    for n_ref, n_cur, d in ((1000, 500, 64), (5000, 1000, 256)):
        old, new = (seconds(n_ref, n_cur, d, b) for b in (True, False))
        print(f"  reference {n_ref:>5} × window {n_cur:>4}, {d:>3} features: "
              f"before {old:6.2f} s, now {new:6.2f} s ({old / new:.1f}×)")


if __name__ == "__main__":
    main()
