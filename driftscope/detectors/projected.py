"""Drift on projected data: a projection fitted on the reference, then any detector.

With a multivariate detector (MMD, sliced Wasserstein, POT) the projected matrix is scored
as a whole. With a numeric detector (EMD, L-inf …) each projected component is scored
separately; the statistic is then the largest severity (statistic ÷ threshold) over the
components and the threshold is 1, so ``drifted`` means "some component drifted".
An inner detector's ``feature_importance`` ranks projected components, not features: it
is reported as ``component_importance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from driftscope.errors import ConfigError, DetectorInputError
from driftscope.types import Score

from .base import as_matrix, draw_seed, params_repr
from .significance import ThresholdPolicy

LEARNED = frozenset({"autoencoder"})
"""Projections trained on the reference's rows, split from the rows they are scored on."""

MIN_HALF = 50
"""A learned projection needs a reference of twice this: each half would be too small."""


@dataclass(frozen=True)
class FittedProjected:
    """A fitted projection and one fitted detector (or one per component)."""

    projection: Any
    fitted: tuple[Any, ...]
    per_component: bool

    def score(self, current: Any) -> Score:
        z = self.projection.transform(current)
        if not self.per_component:
            inner = self.fitted[0].score(z)
            details = dict(inner.details)
            if "feature_importance" in details:  # (its "features" are the components)
                details["component_importance"] = details.pop("feature_importance")
            return Score(
                inner.statistic,
                inner.threshold,
                inner.policy,
                inner.p_value,
                {**details, "projected_dims": z.shape[1]},
            )
        scores = [f.score(z[:, i]) for i, f in enumerate(self.fitted)]
        sev = np.array([s.severity for s in scores])
        pvals = [s.p_value for s in scores if s.p_value is not None]
        p = min(1.0, min(pvals) * len(scores)) if len(pvals) == len(scores) else None
        worst = int(np.argmax(sev))
        return Score(
            statistic=float(sev[worst]),
            threshold=1.0,
            policy=f"max-severity({scores[worst].policy})",
            p_value=p,
            details={
                "component_severity": [float(v) for v in sev],
                "component_statistic": [s.statistic for s in scores],
                "worst_component": worst,
            },
        )


class ProjectedDetector:
    """Combine a projection with any detector.

    Parameters
    ----------
    projection : str or projection object
        A registry name (``"pca"``, ``"gaussian_random"`` …) or a projection instance.
    detector : str or detector object
    policy : ThresholdPolicy, optional
        Threshold policy of the inner detector (when given by name).
    projection_params, detector_params : dict
        Parameters when names are given.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(400, 8))
    >>> f = ProjectedDetector("pca", "emd").fit(ref, rng=rng)
    >>> f.score(ref).drifted, f.score(ref * 3.0).drifted
    (False, True)
    """

    name: ClassVar[str] = "projected"
    input_kind: ClassVar[str] = "multivariate"

    def __init__(
        self,
        projection: Any = "pca",
        detector: Any = "emd",
        *,
        policy: ThresholdPolicy | None = None,
        projection_params: dict[str, Any] | None = None,
        detector_params: dict[str, Any] | None = None,
    ) -> None:
        from . import registry

        self.projection = (
            registry.get_projection(projection, **(projection_params or {}))
            if isinstance(projection, str)
            else projection
        )
        params = dict(detector_params or {})
        if policy is not None:
            if not isinstance(detector, str):
                raise ConfigError("give the policy to the detector instance itself")
            params["policy"] = policy
        self.detector = registry.get(detector, **params) if isinstance(detector, str) else detector
        if self.detector.input_kind not in ("multivariate", "numeric", "univariate"):
            raise ConfigError(f"cannot score projections with {self.detector.input_kind} data")

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedProjected:
        """Fit the projection, then the detector(s) on the projected reference, projected
        as a fresh window would be: PCA cross-fitted on the reference's halves
        (:meth:`~driftscope.detectors.projections.PCA.fit_held_out`); an autoencoder
        (:data:`LEARNED`) learns from a random half and the detectors are fitted on the
        other half, so it needs ``2 * MIN_HALF`` rows (trained on the rows its detectors
        were fitted on, it flagged 72–92 % of windows without drift). Rows a projection
        learned from look closer to it than fresh rows."""
        local = np.random.default_rng(draw_seed(rng))
        if hasattr(self.projection, "fit_held_out"):
            proj, z = self.projection.fit_held_out(reference, rng=local)
        else:
            ref = reference
            if getattr(self.projection, "name", None) in LEARNED:
                ref = as_matrix(reference, "reference")
                if len(ref) < 2 * MIN_HALF:
                    raise DetectorInputError(
                        f"reference: has {len(ref)} rows; the {self.projection.name} "
                        f"projection needs at least {2 * MIN_HALF} rows (half to learn from, "
                        "half to fit the detectors on)")
                order = local.permutation(len(ref))
                half = len(ref) // 2
                reference, ref = ref[order[:half]], ref[order[half:]]
            proj = self.projection.fit(reference, rng=local)
            z = proj.transform(ref)
        if self.detector.input_kind == "multivariate":
            return FittedProjected(proj, (self.detector.fit(z, rng=local),), False)
        fitted = tuple(self.detector.fit(z[:, i], rng=local) for i in range(z.shape[1]))
        return FittedProjected(proj, fitted, True)

    def __repr__(self) -> str:
        return params_repr(self, {"projection": self.projection, "detector": self.detector})
