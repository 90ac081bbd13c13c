"""How often EMD's permutation null puts a no-drift window under a p-value, per window, on
windows of one fixed size (a stream whose windows all hold the same number of events).

Kept splits are shared by every window of a size (a few draws, ``SPLIT_DRAWS``). On a
skewed feature a split's statistic is mostly its extremes' sides, so the windows of a size
shared that luck. Each window is scored three ways on the same values:

- ``kept``: the splits as kept, p-values from the exponential tail (session 17);
- ``ends afresh``: each window turns its extremes' sides round (``REFRESHED_ENDS``; the
  detector does so on heavy-tailed features only: on a normal law the columns agree);
- ``now``: that, and p-values above the null's 90 % quantile from a shaped (generalised
  Pareto) tail where the detector takes one (heavy-tailed features).

``splits' own`` is the plain ``(1 + b)/(1 + B)`` of the splits, whose rate under ``p ≤ q``
should be ``q`` (to the 1/201 steps of 200 splits) whatever the tail model.

    .venv/bin/python benchmarks/split_luck.py --law pareto --reference 6000 --window 500
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from driftscope.detectors import emd
from driftscope.detectors.emd import EMD
from driftscope.detectors.significance import p_value_from_null

LAWS = {
    "normal": lambda z: z,
    "lognormal": lambda z: np.exp(2.0 * z),  # σ = 2
    "pareto": lambda z: stats.norm.sf(z) ** (-1.0 / 2.2) - 1.0,  # a = 2.2
}
LEVELS = (0.01, 0.005, 0.001, 0.0001)
B = 200


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--law", choices=sorted(LAWS), default="pareto")
    ap.add_argument("--reference", type=int, default=6000)
    ap.add_argument("--window", type=int, default=500)
    ap.add_argument("--windows", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    law, rng = LAWS[args.law], np.random.default_rng(args.seed)
    refreshed = emd.REFRESHED_ENDS
    rows: dict[str, list[float]] = {k: [] for k in ("own kept", "kept", "own afresh",
                                                    "ends afresh", "now")}
    started = time.perf_counter()
    for _ in range(args.windows):
        fitted = EMD().fit(law(rng.standard_normal(args.reference)), rng=rng)
        prepared = fitted._prepare(law(rng.standard_normal(args.window)))
        stat = fitted._statistic(prepared)[0]
        for ends, name in ((0.0, "kept"), (refreshed, "afresh")):
            emd.REFRESHED_ENDS = ends
            null = np.sort(np.maximum(fitted._split_statistics(prepared, B), 0.0))
            rows[f"own {name}"].append((1 + np.sum(null >= stat)) / (1 + B))
            rows[name if ends == 0 else "ends afresh"].append(p_value_from_null(stat, null))
            if ends:
                rows["now"].append(p_value_from_null(stat, null, shaped=fitted.shaped_tail))
        emd.REFRESHED_ENDS = refreshed
    took = time.perf_counter() - started
    print(f"`python benchmarks/split_luck.py --law {args.law} --reference {args.reference} "
          f"--window {args.window} --windows {args.windows} --seed {args.seed}` ({took:.0f} s)\n")
    print("| p ≤ | splits' own, kept | kept | splits' own, ends afresh | ends afresh | now |")
    print("|---|---:|---:|---:|---:|---:|")
    for q in LEVELS:
        cells = [f"{100 * np.mean(np.array(rows[k]) <= q):.3f} %" for k in rows]
        print(f"| {q:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
