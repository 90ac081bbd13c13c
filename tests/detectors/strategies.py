"""Shared hypothesis strategies for the metric axioms."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


def samples(min_size: int = 1, max_size: int = 40) -> st.SearchStrategy[np.ndarray]:
    """1-D float samples, ties likely (values rounded)."""
    return hnp.arrays(np.float64, st.integers(min_size, max_size), elements=finite).map(
        lambda a: np.round(a, 1)
    )


def prob_vectors(k: int) -> st.SearchStrategy[np.ndarray]:
    """Probability vectors of length ``k`` with some exact zeros."""
    w = hnp.arrays(np.float64, k, elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.0]))
    return w.filter(lambda a: a.sum() > 0).map(lambda a: a / a.sum())


categories = hnp.arrays(
    object, st.integers(1, 40), elements=st.sampled_from(["a", "b", "c", "d", None])
)
