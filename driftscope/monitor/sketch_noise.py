"""How far a profile's sketch error alone can move a drift statistic (profile-only models).

Columns read back from profiles (:mod:`driftscope.monitor.profiled`) carry the KLL
sketch's rank error; above the size the sketch holds whole, it does not shrink with the
window as sampling noise does. :class:`SketchNoise` measures it by simulation, and the
monitor adds it to the thresholds of distances (:data:`METRICS`).
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from driftscope.monitor.profiled import quantile_values

METRICS = frozenset({"emd", "ks", "linf", "l1", "hellinger"})
"""Detectors whose statistic is a distance with the triangle inequality: the sketch's
error can move it by at most the distance between a column and its sketch."""


MAX_SIMULATED = 2**16
"""The largest column :class:`SketchNoise` simulates (65,536 values)."""


def _shape(pool: np.ndarray) -> int:
    """How long the reference's tails are against its middle, in half octaves: a sketch's
    error in a distance scaled by the IQR grows with it (a reference that changes shape
    — a `previous` one after a drift — gets its own allowance)."""
    q = np.quantile(pool, [0.001, 0.25, 0.75, 0.999])
    iqr, span = float(q[2] - q[1]), float(q[3] - q[0])
    if not iqr > 0 or not span > 0:
        return -1
    return round(2 * np.log2(span / iqr))


class SketchNoise:
    """How far a profile's sketch error alone can move a drift statistic.

    A statistic computed from sketches, ``d(R', C')``, differs from the one on the events,
    ``d(R, C)``, by at most ``d(R, R') + d(C, C')`` for a distance (:data:`METRICS`). Each
    term is measured by simulation: ``trials`` samples of the column's size drawn from the
    reference, each passed through a KLL sketch of the same ``k`` and read back as
    :func:`expand` does, scored against itself with the same detector: the ``q``-quantile
    of that error (0 while the sketch holds every value). The allowance combines the two
    sides in quadrature, and the monitor combines it so with the threshold
    (:func:`~driftscope.monitor.detect.score_one`): a KLL sketch's error is random (its
    compactions keep the odd or the even items by a coin), independent of the sampling
    noise the threshold is set for and of the other side's, and adding the worst cases
    cost most of the power it had left (a review: a 0.04 SD shift over 10,000-event
    windows was flagged in 10 of 24 windows from profiles, 19 from raw events; measured
    in ``benchmarks/sketch_allowance.py``, BENCHMARKS.md). Cached per
    detector, column, size (to 1/8 of an octave), k and the reference's shape
    (:func:`_shape`), so a process pays it once per column and size.
    """

    def __init__(self, seed: int, trials: int = 40, q: float = 0.95) -> None:
        self.seed, self.trials, self.q = seed, trials, q
        self._cache: dict[tuple[str, str, int, int, int], float] = {}

    def allowance(self, spec: Any, fp: str, feature: str, ref: np.ndarray, cur: np.ndarray,
                  cur_k: int | None, ref_k: int | None) -> float:
        """The part of ``spec``'s statistic between ``ref`` and ``cur`` that sketch error
        can explain (``cur_k``/``ref_k``: their KLL k when read from profiles, else None)."""
        if spec.name not in METRICS or ref.dtype.kind != "f" or cur.dtype.kind != "f":
            return 0.0
        pool = ref[~np.isnan(ref)]
        if len(pool) < 2:
            return 0.0
        cur_e, ref_e = (self._error(spec, fp, feature, pool, int(np.sum(~np.isnan(v))), k)
                        if k is not None else 0.0 for v, k in ((cur, cur_k), (ref, ref_k)))
        return float(np.hypot(cur_e, ref_e))

    def _error(self, spec: Any, fp: str, feature: str, pool: np.ndarray, n: int,
               k: int) -> float:
        if n <= k:  # the sketch held every value: read back exactly
            return 0.0
        # (a KLL sketch's rank error hardly grows past a few hundred times its k, so
        # larger columns are simulated at that size)
        size = round(2 ** (round(np.log2(min(n, MAX_SIMULATED)) * 8) / 8))
        key = (fp, feature, size, k, _shape(pool))
        if key not in self._cache:
            self._cache[key] = self._simulate(spec, pool, size, k, feature)
        return self._cache[key]

    def _simulate(self, spec: Any, pool: np.ndarray, size: int, k: int, feature: str) -> float:
        import whylogs_sketching as ds

        from driftscope.detectors import registry
        from driftscope.detectors.significance import Constant

        rng = np.random.default_rng([self.seed, zlib.crc32(feature.encode()), size])
        detector = registry.get(spec.name, policy=Constant(0.0), **spec.params)
        errors = []
        for _ in range(self.trials):
            sample = rng.choice(pool, size=size, replace=True)
            sketch = ds.kll_doubles_sketch(k)
            sketch.update(sample)
            back = quantile_values(sketch, size)
            errors.append(detector.fit(sample, rng=rng).score(back).statistic)
        return float(np.quantile(errors, self.q))
