"""The performance band on windows of few labels: false alarms and power, exact binomial.

A model of steady accuracy 0.9. (a) History: 24 windows of 1,000 labels; the window
judged has n labels and the same accuracy: P(flagged) by the band (k = 4). (b) History:
24 windows of 25 labels at 0.9, 0.97 or 0.99; the window judged has 1,000 labels at the
same accuracy: P(flagged); or at 0.85 or 0.87: P(found).
Each against the band as it was (no standard errors: ``predicted_range(hist, k)``) and
as it is (the history's and the window's standard errors), in the same process.

Usage::

    .venv/bin/python benchmarks/few_labels.py
"""
from __future__ import annotations

import numpy as np
from scipy.stats import binom

from driftscope.monitor import judge
from driftscope.monitor.performance import binomial_se

K, P, DRAWS = 4.0, 0.9, 2000


def flagged(hist_n: int, n: int, p: float, with_se: bool, rng: np.random.Generator,
            level: float = P) -> float:
    """P(a window of ``n`` labels at true accuracy ``p`` falls below the band learnt
    from 24 windows of ``hist_n`` labels at ``level``)."""
    out = []
    for _ in range(DRAWS):
        hist = list(rng.binomial(hist_n, level, 24) / hist_n)
        if with_se:
            past = [binomial_se(v, hist_n) for v in hist]
            lo, _ = judge.predicted_range(hist, K, binomial_se(float(np.mean(hist)), n), past)
        else:
            lo, _ = judge.predicted_range(hist, K)
        out.append(binom.cdf(np.ceil(lo * n) - 1, n, p))  # P(accuracy < lo)
    return float(np.mean(out))


def main() -> None:
    rng = np.random.default_rng(0)
    print("| case | before | now |")
    print("|---|---|---|")
    for n in (25, 50, 100, 1000):
        a, b = (flagged(1000, n, P, s, rng) for s in (False, True))
        print(f"| steady 0.9, {n} labels after windows of 1,000: flagged | {a:.3f} | {b:.4f} |")
    for steady in (0.9, 0.97, 0.99):
        a, b = (flagged(25, 1000, steady, s, rng, level=steady) for s in (False, True))
        print(f"| steady {steady}, 1,000 labels after windows of 25: flagged | {a:.3f} "
              f"| {b:.4f} |")
    for p in (0.85, 0.87):
        a, b = (flagged(25, 1000, p, s, rng) for s in (False, True))
        print(f"| fall to {p}, 1,000 labels after windows of 25: found | {a:.3f} | {b:.3f} |")
    a, b = (flagged(1000, 1000, 0.87, s, rng) for s in (False, True))
    print(f"| fall to 0.87, 1,000 labels after windows of 1,000: found | {a:.3f} | {b:.3f} |")


if __name__ == "__main__":
    main()
