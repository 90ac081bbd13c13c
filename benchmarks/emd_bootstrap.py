"""The EMD bootstrap null, scored two ways on the same draws in one process: from each
resample's counts over every reference value (the way before session 16) and from its own
sorted draws (``FittedEMD._draws_statistics``, used for resamples under 1/8 of the
reference). Reports the median time of 200 resamples over ``--repeats`` runs, alternated,
and the largest relative difference between the two nulls.

    .venv/bin/python benchmarks/emd_bootstrap.py --repeats 7
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import driftscope.detectors.emd as emd
from driftscope.detectors.emd import EMD

CASES = [  # (reference values, resample size): a window a twelfth of its reference (the
    # default sliding reference), a tenth, a fifth, a quarter, as large
    (2_400, 200), (6_000, 500), (12_000, 1_000), (60_000, 5_000), (600_000, 50_000),
    (10_000, 1_000), (10_000, 2_000), (10_000, 2_500), (10_000, 10_000),
]
LAWS = {
    "lognormal σ=2": lambda rng, n: rng.lognormal(0, 2, n),
    "normal (2 decimals)": lambda rng, n: np.round(rng.normal(size=n), 2),
}


def timed(fitted: emd.FittedEMD, m: int, sparse_below: float, repeats: int
          ) -> tuple[list[float], np.ndarray]:
    emd.SPARSE_BELOW = sparse_below  # type: ignore[assignment]
    out, times = np.empty(0), []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fitted._boot_statistics(np.random.default_rng(5), m, 200)
        times.append(time.perf_counter() - t)
    return times, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    chosen = emd.SPARSE_BELOW
    print("| feature | reference | resample | counts: ms | draws: ms | ratio (median) "
          "| used | max rel. difference |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    rng = np.random.default_rng(1)
    for law, draw in LAWS.items():
        for n_ref, m in CASES:
            ref = draw(rng, n_ref)
            ref[rng.random(n_ref) < 0.02] = np.nan
            fitted = EMD().fit(ref, rng=np.random.default_rng(0))
            dense, sparse = [], []
            for r in range(args.repeats):  # alternated, one run each at a time
                for which in ((0, 1) if r % 2 == 0 else (1, 0)):
                    t, got = timed(fitted, m, 1e18 if which == 0 else 1e-18, 1)
                    (dense if which == 0 else sparse).append((t[0], got))
            a = statistics.median(t for t, _ in dense)
            b = statistics.median(t for t, _ in sparse)
            x, y = dense[0][1], sparse[0][1]
            diff = float(np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-300)))
            used = "draws" if m * chosen < len(fitted.ref_sorted) else "counts"
            print(f"| {law} | {n_ref:,} | {m:,} | {a * 1e3:.1f} | {b * 1e3:.1f} | "
                  f"{a / b:.2f} | {used} | {diff:.1e} |", flush=True)
    emd.SPARSE_BELOW = chosen


if __name__ == "__main__":
    main()
