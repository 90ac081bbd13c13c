"""False alarms and detection of `projected` (PCA + EMD, the default projection) on
isotropic normal features, the figures docs/detectors.md quotes: windows without drift
flagged, and windows with a small shift of a few features flagged. Data seeded
``[25, n, d, t]``, fits ``default_rng(t)``; the 64-feature rows as in
``tests/detectors/test_projections.py``. Run an older checkout with ``PYTHONPATH=<tree>``
for the baseline.

Usage::

    .venv/bin/python benchmarks/projected_power.py
"""

from __future__ import annotations

import warnings

import numpy as np

from driftscope.detectors import registry
from driftscope.detectors.projected import ProjectedDetector
from driftscope.detectors.significance import ReferenceQuantile

warnings.simplefilter("ignore")


def rate(n: int, m: int, d: int, shift_feats: int, shift: float, trials: int) -> int:
    hits = 0
    for t in range(trials):
        rng = np.random.default_rng([25, n, d, t])
        ref, cur = rng.normal(size=(n, d)), rng.normal(size=(m, d))
        cur[:, :shift_feats] += shift
        hits += registry.get("projected").fit(ref, rng=np.random.default_rng(t)).score(cur).drifted
    return hits


def main() -> None:
    print("no drift 2000->200 x 8:", rate(2000, 200, 8, 0, 0, 150), "/150", flush=True)
    print("no drift 500->100 x 20:", rate(500, 100, 20, 0, 0, 150), "/150", flush=True)
    print("0.25 SD on 2 of 8, 2000->200:", rate(2000, 200, 8, 2, 0.25, 150), "/150", flush=True)
    print("0.4 SD on 2 of 20, 500->100:", rate(500, 100, 20, 2, 0.4, 150), "/150", flush=True)
    for k in (2, 10):
        flagged = low = 0
        for i in range(100):
            rng = np.random.default_rng(i * 31 + 7)
            ref, cur = rng.normal(size=(1000, 64)), rng.normal(size=(500, 64))
            s = ProjectedDetector("pca", "emd", policy=ReferenceQuantile(q=0.99),
                                  projection_params={"k": k}).fit(
                ref, rng=np.random.default_rng(i)).score(cur)
            flagged += s.drifted
            low += s.p_value is not None and s.p_value <= 0.01
        print(f"no drift 1000->500 x 64, k={k}: flagged {flagged}/100, p<=0.01 {low}/100",
              flush=True)


if __name__ == "__main__":
    main()
