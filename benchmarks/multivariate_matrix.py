"""The multivariate matrix a window's drift scoring built for every detector and segment,
whether or not a detector takes it (default detectors: EMD and L-inf take none), against
the scoring that no longer builds it, in the same process.

Usage::

    .venv/bin/python benchmarks/multivariate_matrix.py
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.detect import Fitter
from driftscope.monitor.evaluate import _segments, drift_rows, multivariate
from driftscope.monitor.frame import Frame

N_REF, N_CUR, FEATURES, RUNS = 120_000, 10_000, 40, 5


def frame(n: int, rng: np.random.Generator) -> Frame:
    cols = {f"x{i}": rng.normal(size=n) for i in range(FEATURES)}
    for i in range(FEATURES):  # (3 % missing, as production features have some)
        cols[f"x{i}"][rng.random(n) < 0.03] = np.nan
    seg = {"country": rng.choice(np.array([f"c{i}" for i in range(8)], dtype=object), n),
           "device": rng.choice(np.array(["ios", "android", "web"], dtype=object), n)}
    return Frame(np.arange(n).astype("datetime64[ms]"), cols, seg)


def main() -> None:
    rng = np.random.default_rng(0)
    cfg = MonitorConfig(name="mon", model="m", features=[f"x{i}" for i in range(FEATURES)],
                        segments=["country", "device"])
    cur, ref = frame(N_CUR, rng), frame(N_REF, rng)
    fitter = Fitter(0)
    drift_rows(cfg, fitter, cur, ref)  # (fits and nulls drawn: later windows reuse them)
    now, removed = [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        drift_rows(cfg, fitter, cur, ref)
        now.append(time.perf_counter() - t)
        t = time.perf_counter()
        for _seg, c, r in _segments(cfg, cur, ref):  # (as before: once per detector)
            for _det in cfg.detectors:
                multivariate(r, c, cfg.features)
        removed.append(time.perf_counter() - t)
    a, b = statistics.median(now), statistics.median(removed)
    print(f"{N_CUR:,} events against {N_REF:,}, {FEATURES} numeric features, 12 segments, "
          f"default detectors, median of {RUNS}:")
    print(f"  drift scoring now {a:.2f} s; the matrices it built before {b:.2f} s more: "
          f"before {a + b:.2f} s, {(a + b) / a:.2f}× now")


if __name__ == "__main__":
    main()
