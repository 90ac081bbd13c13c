"""False alarms and power of the default EMD on heavy-tailed features, side by side on the
same windows: the untrimmed distance with a bootstrap null (the default before session 14,
``params: {trim: 0}`` then), the winsorised one (``trim`` 1 %) with a bootstrap null (the
default of session 14), the default of session 15 (winsorised, and a reference of fewer
than ``PERMUTED_BELOW`` values judged against a permutation null of the window pooled with
it) and the default since session 17 (from ``PERMUTED_BELOW`` on, a window the bootstrap
flags on a feature with heavy tails judged against that permutation null instead).

Each law is a transform of a standard normal ``z`` (normal ``z``; lognormal
``exp(σz)``; Lomax/Pareto II with tail index ``a``; exponential), so a drift is the same
move ``z + δ`` of every law's normal score. A model has ten features of one law. Per
window the monitor's own decision is taken (``driftscope.monitor.judge.model_level``:
statistic above its reference-quantile threshold and the default ``min_effect`` 0.05,
Benjamini–Hochberg at α = 0.01 across the ten p-values). Without drift, a calibrated
model flags about 10 windows in 1,000 (BH controls the chance of any false flag at α).

Designs: ``sliding`` (the default ``previous`` reference: 12 windows of the window's size,
drawn afresh for every window; a ``seasonal`` reference of 3 windows is the same design)
and ``static`` (one reference of ``n`` scored against 10 windows, as a ``dataset`` or
``fixed`` reference is).

Usage::

    .venv/bin/python benchmarks/heavy_tails.py [--windows 200] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

from driftscope.detectors import emd
from driftscope.monitor.config import DEFAULT_MIN_EFFECT, DetectorSpec
from driftscope.monitor.detect import build_detector
from driftscope.monitor.judge import model_level

K = 10  # features per model


def _pareto(a: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: stats.norm.sf(z) ** (-1.0 / a) - 1.0


LAWS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "normal": lambda z: z,
    "exponential": lambda z: -np.log(stats.norm.sf(z)),
    "lognormal σ=1": lambda z: np.exp(z),
    "lognormal σ=2": lambda z: np.exp(2.0 * z),
    "Pareto a=2.2": _pareto(2.2),
}
DESIGNS = (("sliding", 6000, 500), ("sliding", 2400, 200), ("sliding", 1200, 100),
           ("sliding", 1500, 500), ("static", 1000, 1000), ("static", 200, 1000))
POWER = (("sliding", 6000, 500), ("sliding", 1500, 500), ("static", 1000, 1000))
CONFIGS = {  # params, below what reference size the null is a permutation one, and from
    # how heavy tails on a bootstrap's flag is confirmed by one (inf: never)
    "untrimmed, bootstrap": ({"trim": 0.0}, 0, np.inf),
    "trim 1 %, bootstrap": ({}, 0, np.inf),
    "session 15 (trim 1 %, small refs permuted)": ({}, emd.PERMUTED_BELOW, np.inf),
    "default (and heavy tails' flags permuted)": ({}, emd.PERMUTED_BELOW, emd.HEAVY_TAILS),
}


def run(law: Callable[[np.ndarray], np.ndarray], design: str, n: int, m: int,
        config: tuple[dict, int, float], windows: int, seed: int, delta: float, jitter: float = 0.0
        ) -> tuple[float, float, float]:
    """Feature exceedance share, model-level flags per 1,000 windows, and (with
    ``delta``) the share of windows whose drifted feature (the first) is flagged.
    ``jitter``: window sizes drawn uniformly within ±``jitter`` of ``m``, as a live
    stream's windows vary."""
    params, emd.PERMUTED_BELOW, emd.HEAVY_TAILS = config
    spec = DetectorSpec(name="emd", params=params)
    floor = DEFAULT_MIN_EFFECT["emd"]
    rng = np.random.default_rng(seed)
    refs = windows if design == "sliding" else max(windows // 10, 1)
    per_ref = 1 if design == "sliding" else 10
    over = flagged = hit = total = 0
    for r in range(refs):
        dets = [build_detector(spec).fit(law(rng.standard_normal(n)),
                                         rng=np.random.default_rng([seed, r, k]))
                for k in range(K)]
        for _ in range(per_ref):
            size = int(rng.integers(round(m * (1 - jitter)), round(m * (1 + jitter)) + 1))
            z = rng.standard_normal((K, size))
            z[0] += delta
            scores = [d.score(law(z[k])) for k, d in enumerate(dets)]
            decided = model_level(scores, [floor] * K, "bh", 0.01)
            over += sum(s.drifted for s in scores[1 if delta else 0:])
            flagged += any(decided[1 if delta else 0:])
            hit += decided[0]
            total += 1
    return over / total / (K - (1 if delta else 0)), 1000 * flagged / total, hit / total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--windows", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--delta", type=float, default=0.2,
                    help="the power rows' move of one feature's normal score")
    ap.add_argument("--jitter", type=float, default=0.0,
                    help="window sizes vary uniformly within ± this share of the design's")
    ap.add_argument("--laws", default=",".join(LAWS), help="comma-separated laws to run")
    ap.add_argument("--configs", default=",".join(str(i) for i in range(len(CONFIGS))),
                    help="comma-separated indices of the configurations to run")
    ap.add_argument("--min-reference", type=int, default=0,
                    help="only the designs of references of at least this many values")
    args = ap.parse_args()
    laws = {name: LAWS[name] for name in args.laws.split(",")}
    chosen = [list(CONFIGS)[int(i)] for i in args.configs.split(",")]
    configs = {c: CONFIGS[c] for c in chosen}
    designs = [d for d in DESIGNS if d[1] >= args.min_reference]
    powers = [d for d in POWER if d[1] >= args.min_reference]
    start = time.perf_counter()
    print(f"`python benchmarks/heavy_tails.py --windows {args.windows} --seed {args.seed} "
          f"--delta {args.delta} --jitter {args.jitter} --laws '{args.laws}' --configs "
          f"{args.configs} --min-reference {args.min_reference}`\n")
    print("| law | design (reference / window) | " + " | ".join(
        f"{c}: feature over threshold | {c}: model flags / 1,000" for c in configs) + " |")
    print("|---|---|" + "---:|---:|" * len(configs))
    for name, law in laws.items():
        for design, n, m in designs:
            cells = []
            for config in configs.values():
                share, per_k, _ = run(law, design, n, m, config, args.windows, args.seed, 0.0,
                                      args.jitter)
                cells += [f"{share:.2%}", f"{per_k:.0f}"]
            print(f"| {name} | {design} {n:,} / {m:,} | " + " | ".join(cells) + " |",
                  flush=True)
    print(f"\nPower: one feature of ten moved by δ = {args.delta} in normal score; share of "
          "windows where the model flags it\n")
    print("| law | design (reference / window) | " + " | ".join(configs) + " |")
    print("|---|---|" + "---:|" * len(configs))
    for name, law in laws.items():
        for design, n, m in powers:
            hits = [run(law, design, n, m, c, args.windows, args.seed + 1, args.delta,
                        args.jitter)[2] for c in configs.values()]
            cells = [f"{h:.1%}" for h in hits]
            print(f"| {name} | {design} {n:,} / {m:,} | " + " | ".join(cells) + " |",
                  flush=True)
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
