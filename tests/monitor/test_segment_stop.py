"""A segment value whose traffic stops is found from the smallest counts the docs promise
(``min_events``, 30 by default): the normal approximation missed a stop under 38."""

from __future__ import annotations

import numpy as np

from driftscope.monitor.config import QualitySpec
from driftscope.monitor.quality import segment_volume


def window(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    return np.where(rng.uniform(size=n) < share, "rare", "main").astype(object)


def test_a_stop_at_thirty_events_a_window_is_flagged_and_chance_dips_are_not() -> None:
    rng = np.random.default_rng(4)
    spec = QualitySpec()
    for expected in (30, 40):
        share = expected / 1000
        ref = window(rng, 12_000, share)  # a `previous` reference of 12 windows of 1,000
        stop = np.array(["main"] * 1000, dtype=object)
        found = {r.feature: r for r in segment_volume("c", ref, stop, spec, 30)}
        assert found["segment:c=rare"].bad, (expected, found["segment:c=rare"])
        flagged = [r.feature for _ in range(200)
                   for r in segment_volume("c", ref, window(rng, 1000, share), spec, 30)
                   if r.bad]
        assert flagged == [], expected  # (200 windows without a change)
