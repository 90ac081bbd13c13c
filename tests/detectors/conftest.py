"""Shared data makers for the detector tests: one generator per input kind."""

from __future__ import annotations

import numpy as np


def make_data(kind: str, n: int, seed: int, shift: float = 0.0) -> np.ndarray:
    """A window of ``kind`` data; ``shift`` moves its distribution."""
    rng = np.random.default_rng(seed)
    if kind == "numeric":
        x = rng.normal(loc=shift, size=n)
        x[rng.random(n) < 0.05] = np.nan
        return x
    if kind == "categorical":
        p = np.array([0.5, 0.3, 0.15, 0.05])
        if shift:
            p = np.array([0.1, 0.2, 0.3, 0.4])
        vals = rng.choice(np.array(["a", "b", "c", "d"], dtype=object), size=n, p=p)
        vals[rng.random(n) < 0.05] = None
        return vals
    if kind == "multivariate":
        return rng.normal(loc=shift, size=(n, 4))
    raise ValueError(kind)


def kinds_of(input_kind: str) -> list[str]:
    return ["numeric", "categorical"] if input_kind == "univariate" else [input_kind]
