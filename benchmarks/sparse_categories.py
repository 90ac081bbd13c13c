"""False alarms and power of linf/l1 on categorical features with many values (ids, zip
codes), 10 references x 20 like windows (false alarms, q = 0.99) and x 5 changed windows
(power) per source.

Sources: 10,000 equally likely ids (change: 10 % of the traffic becomes one new value, a
bot); Zipf(a) over k values (change: half of the most frequent value's share moves to the
7th). Run against an older checkout with PYTHONPATH=<tree> for the baseline.

Usage::

    .venv/bin/python benchmarks/sparse_categories.py [--sizes 10000:1000,50000:5000]
    .venv/bin/python benchmarks/sparse_categories.py --sizes 200:200,400:200  # too small to split
"""
import sys

import numpy as np

from driftscope.detectors import registry


def gens():
    u10k = np.array([f"c{i}" for i in range(10_000)], dtype=object)
    def uniform(rng, n, drift=False):
        x = rng.choice(u10k, n)
        if drift:  # 10 % of the traffic becomes one new value (a bot)
            x[rng.random(n) < 0.10] = "bot"
        return x
    def zipf(a, k):
        def g(rng, n, drift=False):
            v = rng.zipf(a, n) % k
            if drift:  # the head changes: value 1's share moves to value 7
                v = np.where((v == 1) & (rng.random(n) < 0.5), 7, v)
            return np.array([f"z{i}" for i in v], dtype=object)
        return g
    return {"uniform10k": uniform, "zipf1.1/100k": zipf(1.1, 100_000),
            "zipf1.5/5k": zipf(1.5, 5000), "zipf2/1k": zipf(2.0, 1000)}

def run(det, n_ref, m, refs=10, wins=20):
    out = {}
    for name, g in gens().items():
        fa = pw = 0
        for r in range(refs):
            rng = np.random.default_rng(100 + r)
            f = registry.get(det).fit(g(rng, n_ref), rng=np.random.default_rng(r))
            fa += sum(f.score(g(rng, m)).drifted for _ in range(wins))
            pw += sum(f.score(g(rng, m, True)).drifted for _ in range(5))
        out[name] = (fa / (refs * wins), pw / (refs * 5))
    return out

sizes = [tuple(int(x) for x in p.split(":")) for p in
         (sys.argv[sys.argv.index("--sizes") + 1] if "--sizes" in sys.argv
          else "10000:1000,50000:5000").split(",")]
for det in ("linf", "l1"):
    for n_ref, m in sizes:
        res = run(det, n_ref, m)
        cells = "  ".join(f"{k}: fa={a:.3f} pow={b:.2f}" for k, (a, b) in res.items())
        print(det, n_ref, m, cells, flush=True)
