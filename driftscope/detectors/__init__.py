"""Drift detectors: pure math over numpy arrays (see docs/detectors.md).

Use :mod:`driftscope.detectors.registry` to build a detector by name::

    from driftscope.detectors import registry
    fitted = registry.get("emd").fit(reference, rng=np.random.default_rng(0))
    score = fitted.score(current)
"""

from __future__ import annotations

from .significance import Constant, Permutation, PValue, ReferenceQuantile

__all__ = ["Constant", "PValue", "Permutation", "ReferenceQuantile"]
