"""MMD's unbiased statistic on the reference and the window standardised together, with the
pooled median-heuristic bandwidth (now), against standardising on the reference alone and
its bandwidth, the reference's kernel sum cached (before), in the same process.

(a) Level: windows without drift flagged by a permutation test at alpha 5 %, over
``TRIALS`` pairs of standard normal reference and window: many features against rows.
(b) Time: the median seconds to fit and score one window under a reference-quantile
threshold (a monitor's default policy), over ``RUNS`` runs.

Usage::

    .venv/bin/python benchmarks/mmd_pooled.py
"""
from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import torch

from driftscope.detectors.kernels import kernel_sum
from driftscope.detectors.mmd import MMD, FittedMMD
from driftscope.detectors.significance import Permutation, ReferenceQuantile, ThresholdPolicy

TRIALS, RUNS = 100, 3


class Before(FittedMMD):
    """Standardised on the reference alone, its bandwidth, its kernel sum cached."""

    def pooled(self, prepared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate([self.ref, prepared]), self.bandwidths

    def _statistic(self, prepared: np.ndarray) -> tuple[float, dict[str, Any]]:
        x, y, bw = self._t(self.ref), self._t(prepared), self._bw()
        n, m = len(x), len(y)
        kxx = self.__dict__.get("_kxx")
        if kxx is None:  # (cached at fit, before)
            kxx = self.__dict__["_kxx"] = kernel_sum(x, x, self.kernel_name, bw,
                                                     self.max_kernel_mb)
        kyy = kernel_sum(y, y, self.kernel_name, bw, self.max_kernel_mb)
        kxy = kernel_sum(x, y, self.kernel_name, bw, self.max_kernel_mb)
        raw = (kxx - n) / (n * (n - 1)) + (kyy - m) / (m * (m - 1)) - 2.0 * kxy / (n * m)
        return raw, {"raw_statistic": raw, "estimator": "unbiased"}


def fitted(ref: np.ndarray, seed: int, before: bool, policy: ThresholdPolicy) -> FittedMMD:
    fit = MMD(policy, n_witness=1).fit(ref, rng=np.random.default_rng(seed))
    if not before:
        return fit
    old = Before.__new__(Before)
    old.__dict__.update(fit.__dict__)  # (a frozen dataclass: the same fields)
    if isinstance(policy, ReferenceQuantile):  # the kernel sum, computed at fit before
        old._statistic(old.ref[:2])
    return old


def flagged(n: int, d: int, before: bool) -> int:
    hits = 0
    for t in range(TRIALS):
        rng = np.random.default_rng(t)
        ref, cur = rng.normal(size=(n, d)), rng.normal(size=(n, d))
        hits += fitted(ref, 100 + t, before, Permutation(n=200, alpha=0.05)).score(cur).drifted
    return hits


def seconds(n_ref: int, n_cur: int, d: int, before: bool) -> float:
    out = []
    for t in range(RUNS):
        rng = np.random.default_rng(t)
        ref, cur = rng.normal(size=(n_ref, d)), rng.normal(size=(n_cur, d))
        start = time.perf_counter()
        fitted(ref, t, before, ReferenceQuantile(q=0.99, n_boot=200)).score(cur)
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def main() -> None:
    torch.set_num_threads(2)
    print(f"(a) windows without drift flagged at alpha 5 %, of {TRIALS}")
    for n, d in ((50, 500), (40, 60), (300, 6)):
        old, new = (flagged(n, d, b) for b in (True, False))
        print(f"  {n:>4} rows a side, {d:>3} features: before {old:>3}, now {new:>3}",
              flush=True)
    print("(b) seconds to fit and score one window (reference quantile), median of", RUNS)
    for n_ref, n_cur, d in ((1000, 500, 64), (5000, 1000, 256)):
        old, new = (seconds(n_ref, n_cur, d, b) for b in (True, False))
        print(f"  reference {n_ref:>5} × window {n_cur:>4}, {d:>3} features: "
              f"before {old:6.2f} s, now {new:6.2f} s ({old / new:.2f}×)", flush=True)


if __name__ == "__main__":
    main()
