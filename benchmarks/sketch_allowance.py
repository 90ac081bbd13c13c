"""How a profile's sketch error is allowed for: added (the triangle inequality's bound) or
combined with the threshold in quadrature, against raw events.

A window of ``n`` values and a reference of ``3n`` (a ``previous`` reference of three
windows) are drawn from one law, each passed through a KLL sketch of whylogs' k (1,024)
and read back as the monitor reads a profile (:func:`quantile_values`). The default EMD
detector is fitted on the read-back reference and scores the read-back window; the
:class:`SketchNoise` allowances of each side are those the monitor computes. Reported per
law and size: the share of windows over the threshold without drift (false alarms) and
with a shift of the window (power), for

- ``raw``: the same detector on the events themselves (the baseline: no sketch);
- ``none``: the sketched columns against the bare threshold (no allowance);
- ``sum``: threshold + a_window + a_reference (the triangle inequality's worst case);
- ``quadrature``: sqrt(threshold² + a_window² + a_reference²).

    .venv/bin/python benchmarks/sketch_allowance.py --trials 200
"""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import numpy as np
import whylogs_sketching as ds

from driftscope.detectors import registry
from driftscope.monitor.profiled import quantile_values
from driftscope.monitor.sketch_noise import SketchNoise

K = 1024


def sketched(x: np.ndarray) -> np.ndarray:
    s = ds.kll_doubles_sketch(K)
    s.update(x)
    return quantile_values(s, len(x))


LAWS = {
    "normal": (lambda rng, n: rng.normal(size=n), 0.03),
    "lognormal": (lambda rng, n: rng.lognormal(size=n), 0.05),
}


def run(law: str, n: int, trials: int, shift_sd: float | None, seed: int) -> dict[str, float]:
    draw, default_shift = LAWS[law]
    shift = default_shift if shift_sd is None else shift_sd
    rng = np.random.default_rng([seed, n, len(law)])
    spec = SimpleNamespace(name="emd", params={})
    noise = SketchNoise(seed)
    hits = {f"{rule}/{case}": 0 for rule in ("raw", "none", "sum", "quadrature")
            for case in ("null", "drift")}
    for _ in range(trials):
        ref = draw(rng, 3 * n)
        ref_s = sketched(ref)
        det = registry.get("emd")
        raw_fit, fit = det.fit(ref, rng=rng), det.fit(ref_s, rng=rng)
        pool = ref_s[~np.isnan(ref_s)]
        a_ref = noise._error(spec, "b", law, pool, len(ref_s), K)
        a_cur = noise._error(spec, "b", law, pool, n, K)
        for case in ("null", "drift"):
            cur = draw(rng, n)
            if case == "drift":
                cur = cur + shift * np.std(ref)
            raw = raw_fit.score(cur)
            s = fit.score(sketched(cur))
            hits[f"raw/{case}"] += raw.statistic > raw.threshold
            hits[f"none/{case}"] += s.statistic > s.threshold
            hits[f"sum/{case}"] += s.statistic > s.threshold + a_ref + a_cur
            hits[f"quadrature/{case}"] += s.statistic > np.sqrt(
                s.threshold ** 2 + a_ref ** 2 + a_cur ** 2)
    return {k: v / trials for k, v in hits.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--sizes", default="5000,50000")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    print("| law | n | rule | false alarms | power |")
    print("|---|---:|---|---:|---:|")
    for law in LAWS:
        for n in (int(s) for s in args.sizes.split(",")):
            r = run(law, n, args.trials, None, args.seed)
            for rule in ("raw", "none", "sum", "quadrature"):
                print(f"| {law} | {n:,} | {rule} | {r[rule + '/null']:.1%} | "
                      f"{r[rule + '/drift']:.1%} |", flush=True)


if __name__ == "__main__":
    main()
