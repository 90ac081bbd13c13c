"""The default monitor on a sliding (``previous``, 12 windows) reference: cost per window and
false alarms, each fit drawing its own bootstrap nulls (the baseline: what the monitor did
before session 13, ``span=None``) against nulls shared while the reference overlaps and
keeps its shape (``Fitter.fitted(..., span)``), side by side in one process on the same
windows.

The model: 20 numeric + 5 categorical features (BENCHMARKS' per-column case), plus, on
``--drifting``, a 0/1 flag whose rate climbs from 5 % to 35 % and a numeric feature whose
spread doubles over the stream (slow changes the sliding reference follows: their nulls
must follow too). Detectors and policy are the defaults (EMD on numeric, L-inf on
categorical, reference-quantile q = 0.99, 200 resamples). A false alarm is a feature's
score above its threshold in a window like its reference (for the drifting features:
drawn from the same slowly moving process: flagged against a reference that lags it, so
not false alarms; for them the table compares the thresholds of both ways).

Usage::

    .venv/bin/python benchmarks/sliding_nulls.py [--size 5000] [--windows 48] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta

import numpy as np

from driftscope.monitor.config import DEFAULT_DETECTORS, ReferenceSpec
from driftscope.monitor.detect import Fitter, fingerprint, score_one

WIDTH = 12
CATS = np.array(list("abcdefgh"), dtype=object)


def stream(size: int, windows: int, drifting: bool, seed: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for w in range(windows):
        n = size + int(rng.integers(-size // 50, size // 50 + 1))  # ±2 %: Poisson-like
        d = {f"x{i}": rng.normal(size=n) for i in range(20)}
        for j in range(5):
            d[f"c{j}"] = rng.choice(CATS, size=n)
        if drifting:
            t = w / max(windows - 1, 1)
            d["flag"] = (rng.random(n) < 0.05 + 0.30 * t).astype(float)
            d["spread"] = rng.normal(size=n) * (1.0 + t)
        out.append(d)
    return out


def run(wins: list[dict[str, np.ndarray]], share: bool) -> tuple[float, dict, dict]:
    """Seconds per window; per feature, scores over threshold and thresholds."""
    fitter = Fitter(1)
    spec = ReferenceSpec()
    fps = {d.name: fingerprint(d, spec) for d in DEFAULT_DETECTORS}
    t0 = datetime(2026, 1, 1)
    over: dict[str, int] = {}
    thresholds: dict[str, list[float]] = {}
    start = time.perf_counter()
    for i in range(WIDTH, len(wins)):
        span = (t0 + timedelta(minutes=i - WIDTH), t0 + timedelta(minutes=i)) if share else None
        for name in wins[i]:
            ref = np.concatenate([w[name] for w in wins[i - WIDTH:i]])
            for d in DEFAULT_DETECTORS:
                s = score_one(fitter, d, fps[d.name], "", name, ref, wins[i][name], False,
                              span=span)
                if s is not None:
                    over[name] = over.get(name, 0) + (s.score.statistic > s.score.threshold)
                    thresholds.setdefault(name, []).append(s.score.threshold)
    return (time.perf_counter() - start) / (len(wins) - WIDTH), over, thresholds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--windows", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"windows of ~{args.size} events, reference {WIDTH} windows, "
          f"{args.windows - WIDTH} windows scored per run, {args.repeats} runs per case")
    print("| stream | own nulls: s/window | shared: s/window | ratio (median) "
          "| steady features over threshold: own / shared | drifting features' thresholds, "
          "shared ÷ own: median [min, max] |")
    print("|---|---:|---:|---:|---|---|")
    for drifting in (False, True):
        times: dict[bool, list[float]] = {False: [], True: []}
        over = {False: 0, True: 0}
        scores = 0
        ratios: list[float] = []
        for r in range(args.repeats):
            wins = stream(args.size, args.windows, drifting, seed=r)
            got = {}
            for share in (False, True) if r % 2 == 0 else (True, False):
                sec, o, thr = run(wins, share)
                times[share].append(sec)
                over[share] += sum(v for k, v in o.items() if k[0] in "xc")
                got[share] = thr
            scores += sum(len(v) for k, v in got[False].items() if k[0] in "xc")
            for k in ("flag", "spread"):
                if k in got[False]:
                    ratios += list(np.array(got[True][k]) / np.array(got[False][k]))
        ratio = np.median(np.array(times[False]) / np.array(times[True]))
        name = "steady + flag 5→35 %, spread ×2" if drifting else "steady (25 features)"
        spread = (f"{np.median(ratios):.3f} [{min(ratios):.3f}, {max(ratios):.3f}]"
                  if ratios else "–")
        print(f"| {name} | {np.median(times[False]):.3f} | {np.median(times[True]):.3f} | "
              f"{ratio:.1f}× | {over[False]}/{scores} / {over[True]}/{scores} | {spread} |",
              flush=True)


if __name__ == "__main__":
    main()
