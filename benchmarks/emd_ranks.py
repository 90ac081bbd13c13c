"""EMD on values (the default) against EMD on the reference's ranks (``params:
{transform: ranks}``), side by side on the same windows: how often each flags a feature
whose bulk moved, whose top few percent changed, or which did not change at all.

One feature, a reference of 6,000 values (the default ``previous`` reference: 12
windows of 500) drawn afresh for each window, windows of 500 and 1,000. A window is
flagged as the monitor flags a feature: its statistic above its reference-quantile
threshold (q = 0.99, 200 resamples) and the default ``min_effect`` 0.05.

Usage::

    .venv/bin/python benchmarks/emd_ranks.py [--trials 200] [--seed 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from driftscope.detectors.emd import EMD
from driftscope.monitor.config import DEFAULT_MIN_EFFECT

MIN_EFFECT = DEFAULT_MIN_EFFECT["emd"]


def _top(x: np.ndarray, above: float, factor: float) -> np.ndarray:
    return np.where(x > above, factor * x, x)


def _amounts(rng: np.random.Generator, n: int, rate: float, mu: float, sigma: float
             ) -> np.ndarray:
    return np.where(rng.random(n) < rate, rng.lognormal(mu, sigma, n), 0.0)


# name: (reference law, drifted law); None: the window is drawn from the reference's law
LAWS = {
    "normal, mean +0.25 SD": (lambda r, n: r.normal(0, 1, n), lambda r, n: r.normal(0.25, 1, n)),
    "lognormal σ=1, all ×1.28": (lambda r, n: r.lognormal(0, 1, n),
                                 lambda r, n: r.lognormal(0.25, 1, n)),
    "lognormal σ=2, all ×1.3": (lambda r, n: r.lognormal(0, 2, n),
                                lambda r, n: r.lognormal(0.26, 2, n)),
    "lognormal σ=2, all ×1.65": (lambda r, n: r.lognormal(0, 2, n),
                                 lambda r, n: r.lognormal(0.5, 2, n)),
    "Pareto a=2.2, all ×1.1": (lambda r, n: r.pareto(2.2, n) + 1,
                               lambda r, n: 1.1 * (r.pareto(2.2, n) + 1)),
    "Student t3, +0.3": (lambda r, n: r.standard_t(3, n), lambda r, n: r.standard_t(3, n) + 0.3),
    "amounts (90 % zeros), 10 → 15 % non-zero": (
        lambda r, n: _amounts(r, n, 0.10, 3, 1), lambda r, n: _amounts(r, n, 0.15, 3, 1)),
    "amounts (90 % zeros), non-zero ×1.65": (
        lambda r, n: _amounts(r, n, 0.10, 3, 1.5), lambda r, n: _amounts(r, n, 0.10, 3.5, 1.5)),
    "lognormal σ=2, top 5 % ×3": (lambda r, n: r.lognormal(0, 2, n),
                                  lambda r, n: _top(r.lognormal(0, 2, n), np.exp(2 * 1.645), 3)),
    "lognormal σ=1, top 10 % ×2": (lambda r, n: r.lognormal(0, 1, n),
                                   lambda r, n: _top(r.lognormal(0, 1, n), np.exp(1.2816), 2)),
}
VARIANTS = {"values (default)": EMD(), "ranks": EMD(transform="ranks")}


def flagged(det: EMD, ref: np.ndarray, cur: np.ndarray, seed: int) -> bool:
    s = det.fit(ref, rng=np.random.default_rng(seed)).score(cur)
    return bool(s.drifted and s.statistic >= MIN_EFFECT)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    names = list(VARIANTS)
    print("| law and change | window | " + " | ".join(f"{v}: flagged if changed" for v in names)
          + " | " + " | ".join(f"{v}: flagged unchanged" for v in names) + " |")
    print("|---|---:|" + "---:|" * (2 * len(names)))
    for law, (ref_law, cur_law) in LAWS.items():
        for m in (500, 1000):
            hits = {v: [0, 0] for v in names}
            rng = np.random.default_rng([args.seed, m])
            for t in range(args.trials):
                ref = ref_law(rng, 6000)
                changed, same = cur_law(rng, m), ref_law(rng, m)
                for v in names:  # the same windows for both
                    hits[v][0] += flagged(VARIANTS[v], ref, changed, t)
                    hits[v][1] += flagged(VARIANTS[v], ref, same, t)
            cells = [f"{100 * hits[v][0] / args.trials:.1f} %" for v in names]
            cells += [f"{100 * hits[v][1] / args.trials:.1f} %" for v in names]
            print(f"| {law} | {m} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n({time.perf_counter() - t0:.0f} s, {args.trials} trials per row)")


if __name__ == "__main__":
    main()
