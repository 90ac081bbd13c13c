"""Per-window power of one feature's test on a partly drifted window (why slow ramps are slow).

A window of ``n`` rows of which a share ``w`` is shifted by ``shift`` SD, against a
reference of ``m`` rows of N(0, 1): the share of windows whose p-value is at most the
Benjamini–Hochberg level a window's tests face (``--level``), for the default detector
(EMD, reference-quantile null) and KS, beside the same share under no drift.

    .venv/bin/python benchmarks/window_power.py --weight 0.375 --shift 0.35
"""

from __future__ import annotations

import argparse

import numpy as np

from driftscope.detectors import registry


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weight", type=float, default=0.375, help="share of drifted rows")
    ap.add_argument("--shift", type=float, default=0.35, help="mean shift, in SD")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--m", type=int, default=10_000)
    ap.add_argument("--windows", type=int, default=500)
    ap.add_argument("--level", type=float, default=0.0025)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    ref = rng.normal(0.0, 1.0, args.m)

    def window(w: float) -> np.ndarray:
        k = int(rng.binomial(args.n, w))
        return np.concatenate([rng.normal(0, 1, args.n - k), rng.normal(args.shift, 1, k)])

    print(f"n={args.n} m={args.m} weight={args.weight} shift={args.shift} SD "
          f"level={args.level} windows={args.windows}")
    print("| detector | P(p <= level), no drift | P(p <= level), drifted |")
    print("|---|---|---|")
    for name in ("emd", "ks"):
        fitted = registry.DETECTORS.cls(name)().fit(ref, rng=np.random.default_rng(1))
        out = []
        for w in (0.0, args.weight):
            ps = np.array([fitted.score(window(w)).p_value for _ in range(args.windows)])
            out.append(float(np.mean(ps <= args.level)))
        print(f"| {name} | {out[0]:.3f} | {out[1]:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
