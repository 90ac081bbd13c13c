"""Per-feature detectors with reference-bootstrap p-values, for the evaluation harness.

Each feature gets a registry detector fitted on the reference. For a window of ``m``
rows, the statistic's null distribution is that between the reference and ``n_null``
bootstrap resamples of it of the effective size ``n·m/(n+m)`` — the same calibration as
:class:`~driftscope.detectors.significance.ReferenceQuantile`, kept whole so that it gives
a p-value, which the model-level Benjamini–Hochberg step needs. Nulls are cached per
window size.

Below the null's 90 % quantile ``u`` the p-value is the empirical
``(1 + #{null ≥ s}) / (1 + n_null)``; above it, the tail is modelled as exponential
(peaks over threshold: ``p = 0.1·exp(-(s - u)/β)`` with ``β`` the mean excess over
``u``), which resolves the small p-values a multiple-testing step needs without tens of
thousands of resamples, and is conservative for the light-tailed statistics used here.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> ref = {"x": rng.normal(size=2000), "c": rng.choice(np.array(["a", "b"], object), 2000)}
>>> fm = FeatureMonitor(n_null=100).fit(ref, rng=rng)
>>> p = fm.p_values({"x": rng.normal(1.0, 1.0, 500), "c": ref["c"][:500]})
>>> p["x"] < 0.02, p["c"] > 0.02
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from driftscope.detectors import registry
from driftscope.detectors.significance import Constant
from driftscope.errors import DetectorInputError

DEFAULT_DETECTORS = {"numeric": "emd", "categorical": "linf"}
"""The default monitor configuration: EMD on numeric features, L-inf on categorical ones."""

_NUMERIC_OK = ("numeric", "univariate")
TAIL = 0.1
"""Share of the null above which the p-value comes from the exponential tail model."""


def is_numeric(values: np.ndarray) -> bool:
    """Float arrays are numeric (NaN missing); object/str arrays are categorical."""
    return np.asarray(values).dtype.kind in "fiub"


def detectors_for(name: str) -> dict[str, str]:
    """Feature kind → detector for a harness configuration name.

    ``default`` is :data:`DEFAULT_DETECTORS`; any registry name is used for the feature
    kinds it accepts, with L-inf on categorical features when it accepts only numbers.
    """
    if name == "default":
        return dict(DEFAULT_DETECTORS)
    kind = registry.DETECTORS.cls(name).input_kind
    if kind not in _NUMERIC_OK:
        raise DetectorInputError(f"detector {name!r} is {kind}; the harness scores features")
    return {"numeric": name, "categorical": name if kind == "univariate" else "linf"}


@dataclass
class FittedFeature:
    """One feature's fitted detector, its reference and its nulls by window size."""

    fitted: Any
    reference: np.ndarray
    seed: int
    n_null: int
    nulls: dict[int, np.ndarray] = field(default_factory=dict)

    def null(self, m: int) -> np.ndarray:
        """Sorted null statistics for windows of ``m`` rows (cached)."""
        if m not in self.nulls:
            n = len(self.reference)
            m_eff = max(1, round(n * m / (n + m)))
            rng = np.random.default_rng([self.seed, m])
            out = np.empty(self.n_null)
            for b in range(self.n_null):
                sample = self.reference[rng.integers(0, n, size=m_eff)]
                out[b] = self.fitted.score(sample).statistic
            self.nulls[m] = np.sort(out)
        return self.nulls[m]

    def p_value(self, window: np.ndarray) -> tuple[float, float]:
        """(statistic, bootstrap p-value) of a window."""
        try:
            stat = float(self.fitted.score(window).statistic)
        except DetectorInputError:
            return 0.0, 1.0
        null = self.null(len(window))
        u = float(np.quantile(null, 1.0 - TAIL))
        if stat > u:
            beta = float(np.mean(null[null > u] - u)) if np.any(null > u) else 0.0
            if beta <= 0:
                return stat, 0.0
            return stat, TAIL * float(np.exp(-(stat - u) / beta))
        exceed = len(null) - int(np.searchsorted(null, stat - 1e-12, side="left"))
        return stat, (1 + exceed) / (1 + len(null))


@dataclass
class FittedMonitor:
    """Fitted per-feature detectors; :meth:`p_values` scores a window."""

    features: dict[str, FittedFeature]
    detectors: dict[str, str]

    def scores(self, window: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float]]:
        """Feature → (statistic, p-value)."""
        return {k: f.p_value(np.asarray(window[k])) for k, f in self.features.items()}

    def p_values(self, window: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Feature → bootstrap p-value of its statistic."""
        return {k: p for k, (_, p) in self.scores(window).items()}


@dataclass(frozen=True)
class FeatureMonitor:
    """Configuration: which detector per feature kind and how many null resamples.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> fm = FeatureMonitor("ks", n_null=50).fit({"x": rng.normal(size=500)}, rng=rng)
    >>> fm.detectors, 0 < fm.p_values({"x": rng.normal(size=100)})["x"] <= 1
    ({'numeric': 'ks', 'categorical': 'linf'}, True)
    """

    detector: str = "default"
    n_null: int = 500
    features: tuple[str, ...] | None = None

    def fit(
        self, reference: Mapping[str, np.ndarray], *, rng: np.random.Generator
    ) -> FittedMonitor:
        """Fit one detector per feature on ``reference`` (name → 1-D array)."""
        kinds = detectors_for(self.detector)
        names = self.features or tuple(reference)
        out: dict[str, FittedFeature] = {}
        for name in names:
            ref = np.asarray(reference[name])
            kind = "numeric" if is_numeric(ref) else "categorical"
            det = registry.get(kinds[kind], policy=Constant(0.0))
            seed = int(rng.integers(0, 2**63 - 1))
            fitted = det.fit(ref, rng=np.random.default_rng(seed))
            out[name] = FittedFeature(fitted, ref, seed, self.n_null)
        return FittedMonitor(out, kinds)
