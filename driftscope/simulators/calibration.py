"""Per-feature scoring for the evaluation harness: the monitor's own detectors and code.

Each feature is scored by :func:`driftscope.monitor.detect.score_one` — the function the
monitor calls — with the monitor's default detectors
(:data:`driftscope.monitor.config.DEFAULT_DETECTORS`: EMD on numeric features, L-inf on
categorical ones, reference-quantile thresholds). A reference-quantile score carries a
p-value from the same bootstrap null as its threshold
(:func:`driftscope.detectors.significance.p_value_from_null`), cached per window size
inside each fitted detector; the model-level step
(:func:`driftscope.monitor.judge.model_level`) needs it.

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

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from driftscope.detectors import registry
from driftscope.errors import DetectorInputError
from driftscope.monitor.config import DEFAULT_DETECTORS, DetectorSpec
from driftscope.monitor.detect import Fitter, Scored, score_one

_NUMERIC_OK = ("numeric", "univariate")
SEGMENT = "*"


def is_numeric(values: np.ndarray) -> bool:
    """Float arrays are numeric (NaN missing); object/str arrays are categorical."""
    return np.asarray(values).dtype.kind in "fiub"


def detector_specs(name: str = "default", n_boot: int | None = None) -> list[DetectorSpec]:
    """The monitor's detector specifications for a harness configuration name.

    ``default`` is the monitor's default (:data:`~driftscope.monitor.config.DEFAULT_DETECTORS`);
    any registry name is used on the feature kinds it accepts, with L-inf on categorical
    features when it accepts only numbers. Thresholds are the monitor's default
    (reference-quantile); ``n_boot`` overrides its number of bootstrap resamples.
    """
    if name == "default":
        specs = list(DEFAULT_DETECTORS)
    else:
        kind = registry.DETECTORS.cls(name).input_kind
        if kind not in _NUMERIC_OK:
            raise DetectorInputError(f"detector {name!r} is {kind}; the harness scores features")
        specs = [DetectorSpec(name=name, on="all" if kind == "univariate" else "numeric")]
        if kind != "univariate":
            specs.append(DetectorSpec(name="linf", on="categorical"))
    if n_boot is not None:
        specs = [
            s.model_copy(update={"threshold": s.threshold.model_copy(update={"n_boot": n_boot})})
            for s in specs
        ]
    return specs


def harness_detectors() -> list[str]:
    """The names :func:`detector_specs` accepts: ``default``, and each registry detector
    that scores one feature at a time.

    >>> harness_detectors()[:3]
    ['default', 'chi2', 'emd']
    """
    return ["default", *(name for name in registry.DETECTORS.names()
                         if registry.DETECTORS.cls(name).input_kind in _NUMERIC_OK)]


def detectors_for(name: str) -> dict[str, str]:
    """Feature kind → detector name for a harness configuration name.

    Examples
    --------
    >>> detectors_for("default")
    {'numeric': 'emd', 'categorical': 'linf'}
    """
    out: dict[str, str] = {}
    for spec in detector_specs(name):
        for kind in ("numeric", "categorical"):
            if spec.on in ("all", kind):
                out.setdefault(kind, spec.name)
    return out


def _fingerprint(spec: DetectorSpec) -> str:
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()


@dataclass
class FittedMonitor:
    """The monitor's detectors fitted on one fixed reference; :meth:`scores` scores a window."""

    specs: list[DetectorSpec]
    reference: dict[str, np.ndarray]
    fitter: Fitter

    def scores(self, window: Mapping[str, np.ndarray]) -> list[Scored]:
        """Every (detector, feature) test of a window, as the monitor scores it."""
        out: list[Scored] = []
        for spec in self.specs:
            fp = _fingerprint(spec)
            for name, ref in self.reference.items():
                cur = _column(window[name])
                s = score_one(self.fitter, spec, fp, SEGMENT, name, ref, cur, static=True)
                if s is not None:
                    out.append(s)
        return out

    def p_values(self, window: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Feature → p-value of its (first) test; 1 where there is none."""
        out: dict[str, float] = {}
        for s in self.scores(window):
            p = s.score.p_value
            out.setdefault(s.feature, 1.0 if p is None else float(p))
        return out


@dataclass(frozen=True)
class FeatureMonitor:
    """Configuration: which detectors, and how many bootstrap resamples per null.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> fm = FeatureMonitor("ks", n_null=50).fit({"x": rng.normal(size=500)}, rng=rng)
    >>> [s.name for s in fm.specs], 0 < fm.p_values({"x": rng.normal(size=100)})["x"] <= 1
    (['ks', 'linf'], True)
    """

    detector: str = "default"
    n_null: int | None = None
    features: tuple[str, ...] | None = None

    def fit(
        self, reference: Mapping[str, np.ndarray], *, rng: np.random.Generator
    ) -> FittedMonitor:
        """Prepare the detectors on ``reference`` (name → 1-D array); fitted on first use."""
        names = self.features or tuple(reference)
        ref = {name: _column(reference[name]) for name in names}
        seed = int(rng.integers(0, 2**63 - 1))
        return FittedMonitor(detector_specs(self.detector, self.n_null), ref, Fitter(seed))


def _column(values: np.ndarray) -> np.ndarray:
    """Numbers as float64 (what the monitor's frames hold), categories as they are."""
    arr = np.asarray(values)
    return arr.astype(np.float64) if is_numeric(arr) and arr.dtype.kind != "f" else arr
