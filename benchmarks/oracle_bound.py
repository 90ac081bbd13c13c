"""The best any detector can do: an oracle's misses and pages on the harness's own trials.

The bar asks the default monitor to alert on every medium covariate ramp within 3 windows
of its onset and never to page on a one-window spike. At its third window a 4-window
ramp has moved 5/8 of its full shift; a spike of that same size is, in that window,
the same thing. What tells them apart is only the two windows before: the ramp's
moved 1/8 and 3/8 of the way, the spike's did not move. No detector can separate the
two better than the Neyman–Pearson test that *knows* the drift's direction, its full
size and the ramp's shape, and the base distribution exactly (no reference sample).

This script runs that oracle on the very windows the harness scores (same seeds,
same trials: :meth:`Harness.windows`):

- per window, ``y = aᵀ m / sd``: the window's standardised mean vector ``m`` over the
  numeric features, projected on ``a = Σ⁻¹ δ`` (``δ``: the full drift's mean shift,
  ``Σ``: the features' correlation, both from a large draw of the source), scaled to
  N(0, 1) on a clean window; a window drifted a share ``w`` of the way has mean
  ``w · G``, ``G = √(n δᵀ Σ⁻¹ δ)``;
- the likelihood-ratio statistic ``S = (w₁ y₁ + w₂ y₂) / √(w₁² + w₂²)`` over the ramp's
  windows 1 and 2 (``w = 1/8, 3/8`` for a 4-window ramp; ``--span``), and over the
  spike's two windows before it;
- for each threshold ``c``: ramps missed (``S < c``) and spikes paged (``S ≥ c``), with
  the Gaussian expectation next to the count (``S`` is N(0, 1) on a spike's neighbours,
  N(g, 1) on a ramp, ``g = G √(w₁² + w₂²)``).

The monitor's own figures on the same trials are in BENCHMARKS.md ("Against the bar").

    .venv/bin/python benchmarks/oracle_bound.py --seeds 7,11,13,17 --trials 400
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
from scipy.stats import norm

from driftscope.simulators.effects import draw_drifted
from driftscope.simulators.evaluate import EvalConfig, Harness, delay_after, opened_by_burst
from driftscope.simulators.sources import get_source

RAMP, SPIKE = "gradual-covariate", "temporary-covariate"


def oracle(source: str, intensity: str, draw: int = 400_000) -> tuple[
        list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(features, mean, sd, a, corr, delta)``: the base distribution and the likelihood-ratio
    direction of the full drift, in standardised units (from ``draw`` rows each)."""
    src = get_source(source)
    names = list(src.numeric)
    rng = np.random.default_rng(12345)
    b, d = src.draw(rng, draw), draw_drifted("covariate", src, rng, draw, intensity)
    base = np.column_stack([b.features[f] for f in names])
    drifted = np.column_stack([d.features[f] for f in names])
    mean, sd = np.nanmean(base, axis=0), np.nanstd(base, axis=0)
    zb = np.nan_to_num((base - mean) / sd)
    delta = np.nanmean((drifted - mean) / sd, axis=0)
    corr = np.cov(zb, rowvar=False)
    return names, mean, sd, np.linalg.solve(corr, delta), corr, delta


def window_scores(wins: list, names: list[str], mean: np.ndarray, sd: np.ndarray,
                  a: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """Each window's ``y``: N(0, 1) when clean, ``w · G`` on average when drifted ``w``."""
    out = []
    for w in wins:
        x = np.column_stack([w.features[f] for f in names])
        z = np.nan_to_num((x - mean) / sd)  # a missing value counts as the mean
        out.append(float(a @ z.mean(axis=0)) / math.sqrt(float(a @ corr @ a) / len(w)))
    return np.asarray(out)


def run_seed(seed: int, trials: int, n: int, intensity: str, span: int, oracle_: tuple,
             w: np.ndarray, monitor: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One seed's trials: the oracle's ``S`` on each ramp and each spike's neighbours, and
    (``monitor``) whether the default monitor missed the ramp / was paged by the spike."""
    h = Harness(EvalConfig(sizes=(n,), seed=seed, gradual_span_windows=span))
    before = h.cfg.windows_before
    ramp: list[float] = []
    spike: list[float] = []
    missed: list[bool] = []
    paged: list[bool] = []
    for t in range(trials):
        for name, out, judged in ((RAMP, ramp, missed), (SPIKE, spike, paged)):
            wins = h.windows(name, intensity, n, t)
            cut = wins[before:before + 2] if name == RAMP else wins[before - 2:before]
            out.append(float(w @ window_scores(cut, *oracle_)) / float(np.linalg.norm(w)))
            if monitor:
                opens, open_ = h.flags(h.monitor(t % h.cfg.references), wins).alerts()
                delay = delay_after(opens, open_, before)
                judged.append(delay is not None and (
                    delay > 3 if name == RAMP else opened_by_burst(opens[before:], 1)))
            else:
                judged.append(False)
    return tuple(np.asarray(x) for x in (ramp, spike, missed, paged))  # type: ignore[return-value]


def random_phase_gap(G: float, span: int, f: np.ndarray, steps: int = 4000) -> np.ndarray:
    """The oracle's ``g`` for a ramp whose onset falls a share ``f`` into its window, judged
    at the end of its window 3 (delay 3) against a spike that begins exactly where that
    window does, the spike's size unknown.

    Every event counts: the ramp's profile ``r(τ) = min(τ / span, 1)`` from its onset
    (``τ`` in windows) up to the decision, less its projection on the spike's profile
    (1 over the last window: what a spike of some size could explain),
    ``g² = G² (∫ r² − (∫ r s)² / ∫ s²)``. With ``f = 0`` and only the two windows' means
    this is the grid's ``g`` above, a little larger (the rise within window 3 helps)."""
    out = np.empty(len(f))
    for i, fi in enumerate(f):
        tau = np.linspace(0.0, 3.0 - fi, steps)
        d = tau[1] - tau[0]
        r = np.minimum(tau / span, 1.0)
        sp = (tau >= 2.0 - fi).astype(float)
        rr, rs, ss = (r * r).sum() * d, (r * sp).sum() * d, sp.sum() * d
        out[i] = G * math.sqrt(max(rr - rs * rs / ss, 0.0))
    return out


def _listed(values: np.ndarray) -> str:
    return ", ".join(f"{v:.1f}" for v in sorted(values)) or "none"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="7,11,13,17")
    ap.add_argument("--trials", type=int, default=400)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--intensity", default="medium")
    ap.add_argument("--monitor", action="store_true",
                    help="also run the default monitor on every trial (slower)")
    ap.add_argument("--span", type=int, default=EvalConfig().gradual_span_windows,
                    help="windows over which a gradual ramp reaches its full drift")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    cfg0 = EvalConfig()
    # a ramp's windows 1 and 2 drift this share of the way on average
    w = np.minimum([(2 * j - 1) / (2 * args.span) for j in (1, 2)], 1.0)
    names, mean, sd, a, corr, delta = oracle(cfg0.source, args.intensity)
    G = math.sqrt(args.n * float(delta @ a))
    g = G * float(np.linalg.norm(w))
    seeds = [int(x) for x in args.seeds.split(",")]
    job = partial(run_seed, trials=args.trials, n=args.n, intensity=args.intensity, span=args.span,
                  oracle_=(names, mean, sd, a, corr), w=w, monitor=args.monitor)
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(job, seeds))
    r = np.concatenate([x[0] for x in runs])
    s = np.concatenate([x[1] for x in runs])
    missed = np.concatenate([x[2] for x in runs])
    paged = np.concatenate([x[3] for x in runs])
    print(f"`python benchmarks/oracle_bound.py {' '.join(argv or sys.argv[1:])}` "
          f"({len(r)} ramp and {len(s)} spike trials, n = {args.n}, {args.intensity}, ramps "
          f"over {args.span} windows; "
          f"{time.perf_counter() - t0:.0f} s)\n")
    print(f"Full drift per window: G = {G:.2f} standard errors; the ramp's windows 1-2 "
          f"together: g = {g:.2f} (measured: ramp S mean {r.mean():.2f}, sd {r.std():.2f}; "
          f"spike neighbours S mean {s.mean():.2f}, sd {s.std():.2f})\n")
    print("| threshold c | ramps missed (expected) | spikes paged (expected) "
          "| P(0 missed and 0 paged) |")
    print("|---|---|---|---|")
    for c in np.arange(2.0, 4.51, 0.25):
        miss, page = norm.cdf(c - g), norm.sf(c)
        both = norm.cdf(g - c) ** len(r) * norm.cdf(c) ** len(s)
        print(f"| {c:.2f} | {int((r < c).sum())} ({miss * len(r):.1f}) "
              f"| {int((s >= c).sum())} ({page * len(s):.1f}) | {both:.3f} |")
    errors = [(int((r < c).sum()) + int((s >= c).sum()), int((r < c).sum()),
               int((s >= c).sum()), c) for c in np.unique(np.concatenate([r, s]))]
    _, m, p, c = min(errors)
    print(f"\nSmallest ramp S {r.min():.2f}, largest spike-neighbour S {s.max():.2f}: the "
          f"oracle's fewest errors over every threshold on these trials are {m} ramps missed "
          f"and {p} spikes paged (c = {c:.2f}).")
    cs = np.linspace(0, g, 2001)
    best = float(np.max(norm.cdf(g - cs) ** len(r) * norm.cdf(cs) ** len(s)))
    if args.monitor:
        print(f"\nThe default monitor on the same trials: {int(missed.sum())} ramps missed "
              f"(oracle S {_listed(r[missed])}), {int(paged.sum())} spikes paged (oracle S of "
              f"their neighbours {_listed(s[paged])}).")
    print(f"\nAt its best threshold the oracle scores 0 missed and 0 paged in these "
          f"{len(r)} + {len(s)} trials with probability {best:.3f}.")
    phases = np.linspace(0.0, 1.0, 201)
    gs = random_phase_gap(G, args.span, phases)
    print("\nOnsets anywhere in a window (computed, not drawn): the ramp's onset a uniform "
          "share into its window, every event's time known, against a spike that begins "
          "where the ramp's window 3 does:\n")
    print("| threshold c | such spikes paged | ramps missed within 3 windows, mean over "
          "the onset's phase | onset on the grid | onset at the window's end |")
    print("|---|---|---|---|---|")
    for c in (2.5, 2.75, 3.0, 3.25):
        print(f"| {c:.2f} | {norm.sf(c):.4f} | {norm.cdf(c - gs).mean():.3f} "
              f"| {norm.cdf(c - gs[0]):.5f} | {norm.cdf(c - gs[-1]):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
