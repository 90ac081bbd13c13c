"""Detectors from configuration, fitted on references (cached when static), and projections.

Pure: no store, no I/O (the evaluation harness builds the default detectors from here).

Every result carries a fingerprint of detector, parameters, threshold policy and
reference specification: a changed configuration starts a new series.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from driftscope.detectors.base import robust_standardiser
from driftscope.detectors.significance import (
    Constant,
    Permutation,
    PValue,
    ReferenceQuantile,
    ThresholdPolicy,
)
from driftscope.errors import ConfigError, DetectorInputError, DriftscopeError
from driftscope.monitor.config import (
    DEFAULT_MIN_EFFECT,
    DetectorSpec,
    MonitorConfig,
    ProjectionSpec,
    ReferenceSpec,
    ThresholdSpec,
)
from driftscope.monitor.frame import missing
from driftscope.types import Score


def policy_of(spec: ThresholdSpec) -> ThresholdPolicy:
    """The threshold policy value a :class:`ThresholdSpec` describes."""
    if spec.policy == "permutation":
        return Permutation(n=spec.n, alpha=spec.alpha)
    if spec.policy == "reference-quantile":
        return ReferenceQuantile(q=spec.q, n_boot=spec.n_boot, floor=spec.floor)
    if spec.policy == "p-value":
        return PValue(alpha=spec.alpha)
    return Constant(spec.value)


def build_detector(spec: DetectorSpec) -> Any:
    """A configured detector from the registry (RegistryError lists valid names)."""
    from driftscope.detectors import registry

    return registry.get(spec.name, policy=policy_of(spec.threshold), **spec.params)


def check_detectors(monitors: Sequence[MonitorConfig]) -> None:
    """Make every configured detector once, so that bad parameters or a threshold policy
    it cannot take (``p-value`` for ``emd``) stop the start with one line naming the
    monitor, rather than its first window."""
    for m in monitors:
        for spec in m.detectors:
            try:
                build_detector(spec)
            except DriftscopeError as exc:  # (a projection's unknown name: RegistryError)
                raise ConfigError(f"monitor {m.name}: detector {spec.name}: {exc}") from None


def min_effect(spec: DetectorSpec) -> float:
    """The practical-significance floor of a detector's statistic."""
    if spec.min_effect is not None:
        return spec.min_effect
    return DEFAULT_MIN_EFFECT.get(spec.name, 0.0)


def fingerprint(spec: DetectorSpec, reference: ReferenceSpec) -> str:
    """Hash of detector, parameters, threshold policy and reference specification."""
    from driftscope.monitor.reference import digest, reference_key  # (reads the store)

    det = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
    return digest(det, reference_key(reference))


@dataclass(frozen=True)
class Scored:
    """One detector's verdict on one feature (or projection, or output) of one segment."""

    segment: str
    feature: str
    detector: str
    score: Score
    n_ref: int
    n_cur: int
    fingerprint: str
    min_effect: float


class Fitter:
    """Fits detectors; with a static reference each fit is made once and reused.

    A sliding reference (``previous``, ``seasonal``) is refitted for every window, but its
    bootstrap nulls — most of a fit's cost — are shared from one fit to the next
    (:meth:`~driftscope.detectors.base.FittedBase.join_nulls`) while the reference still
    overlaps more than half of the one that started sharing and kept its shape; then the
    next fit draws afresh and starts sharing again. Which fit drew a null depends on where
    the process started: a backfill started at another window can set a borderline
    window's threshold differently (within the Monte Carlo error of 200 resamples).

    A static reference's fits are kept while it holds what they were fitted on
    (:meth:`hold`): a dataset uploaded again beside ``serve``, a pass that read one half
    uploaded, or a fixed range still filling up is fitted afresh.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._cache: dict[tuple[str, str, str], Any] = {}
        self._version: str | None = None  # the static reference's the fits were made on
        self._pools: dict[tuple[str, str, str], tuple[tuple[datetime, datetime], Any]] = {}
        self._started = 0  # pools started: every 256th, those no reference can join go

    def rng(self, fp: str, key: tuple[str, str],
            span: tuple[datetime, datetime] | None = None) -> np.random.Generator:
        """The generator of one fit: its own for each segment and feature, and for each
        span of a sliding reference. (One for all drew every feature's bootstrap null from
        the same resamples, and every refit's too: whatever luck a draw of 200 resamples
        had, every feature and window shared it — ten normal features at windows of 200
        against 2,400 were over their 99 % thresholds in 2 % of windows, not 1 %.)"""
        at = [] if span is None else [int(span[0].timestamp() * 1000) & 0xFFFFFFFFFFFF]
        return np.random.default_rng([self.seed, int(fp[:8], 16),
                                      *(zlib.crc32(k.encode()) for k in key), *at])

    def hold(self, version: str | None) -> None:
        """The static reference is now ``version`` (its content's digest, None when none
        was read): the fits made on another are dropped. (Keyed by configuration alone they
        outlived the data they were fitted on for the process's life, while the quality
        checks read the reference afresh each pass.)"""
        if version is not None and version != self._version:
            self._cache.clear()
            self._version = version

    def fitted(
        self, spec: DetectorSpec, fp: str, key: tuple[str, str], ref: np.ndarray, static: bool,
        span: tuple[datetime, datetime] | None = None,
    ) -> Any:
        """The detector fitted on ``ref``; ``span``: the time range a sliding reference
        covers (its nulls are shared with the previous fits' while they overlap)."""
        ck = (fp, *key)
        if static and ck in self._cache:
            return self._cache[ck]
        fitted = build_detector(spec).fit(ref, rng=self.rng(fp, key, span))
        if static:
            self._cache[ck] = fitted
        elif span is not None and hasattr(fitted, "join_nulls"):
            held = self._pools.get(ck)
            if held is None or overlap(held[0], span) <= renewal(ck) \
                    or not fitted.join_nulls(held[1]):
                self._pools[ck] = (span, fitted.null_pool)
                self._started += 1
                if self._started % 256 == 0:  # a segment value no longer seen (a campaign)
                    self._pools = {k: v for k, v in self._pools.items() if v[0][1] > span[0]}
        return fitted


RENEWED = (0.35, 0.65)
"""A sliding reference's pool of nulls is drawn afresh once the reference covers less than
this share of the span it began on: a share between these bounds, each fit its own (by
its key). At one share for all (a half), every feature and segment of a monitor drew its
nulls in the same pass, every sixth of a 12-window reference (the slowest pass by far);
now a pool serves 5 to 8 windows, about a quarter of them renewed in any one pass."""


def renewal(key: tuple[str, ...]) -> float:
    """The share of its first span under which the pool of fit ``key`` is renewed."""
    lo, hi = RENEWED
    return lo + (hi - lo) * zlib.crc32("\x1f".join(key).encode()) / 2**32


def overlap(first: tuple[datetime, datetime], then: tuple[datetime, datetime]) -> float:
    """The share of ``then`` that ``first`` covers too."""
    length = then[1] - then[0]
    shared = min(first[1], then[1]) - max(first[0], then[0])
    return max(shared / length, 0.0) if length > timedelta(0) else 0.0


def usable(values: np.ndarray) -> int:
    """Number of non-missing entries."""
    return len(values) - int(np.count_nonzero(missing(values)))


def score_one(
    fitter: Fitter,
    spec: DetectorSpec,
    fp: str,
    segment: str,
    feature: str,
    ref: np.ndarray,
    cur: np.ndarray,
    static: bool,
    allowance: float = 0.0,
    span: tuple[datetime, datetime] | None = None,
    key: str | None = None,
) -> Scored | None:
    """Score ``cur`` against ``ref`` with one detector; None when the input cannot be scored.

    ``key``: what its fit is kept by, when not the feature's name (a multivariate matrix
    whose columns left out differ is another fit).

    ``allowance``: how much of the statistic error in the inputs alone can explain (a
    profile's sketches, :class:`driftscope.monitor.sketch_noise.SketchNoise`): combined with
    the threshold in quadrature (independent noises), and the p-value is that of the
    statistic less what that added."""
    from driftscope.detectors import registry

    kind = getattr(registry.DETECTORS.cls(spec.name), "input_kind", "univariate")
    if (kind == "multivariate") != (ref.ndim == 2):
        return None
    numeric = ref.dtype.kind == "f"
    if (kind == "numeric" and not numeric) or (kind == "categorical" and numeric):
        return None
    if spec.on != "all" and (spec.on == "numeric") != numeric:
        return None
    try:
        fitted = fitter.fitted(spec, fp, (segment, key or feature), ref, static, span)
        score = fitted.score(cur)
        if allowance > 0:
            score = _allowing(score, fitted, cur, allowance)
    except DetectorInputError:
        return None
    return Scored(segment, feature, spec.name, score, len(ref), len(cur), fp, min_effect(spec))


def _allowing(score: Score, fitted: Any, cur: np.ndarray, allowance: float) -> Score:
    """``score`` with its threshold raised to ``hypot(threshold, allowance)``, and what that
    added taken off its statistic for the p-value (from the same bootstrap null when there
    is one)."""
    allowance = (float(np.hypot(score.threshold, allowance)) - score.threshold
                 if np.isfinite(score.threshold) else 0.0)  # (inf - inf: no NaN threshold)
    p = (fitted.null_p_value(max(score.statistic - allowance, 0.0), cur,
                             score.details.get("null") == "permutation")
         if hasattr(fitted, "null_p_value") else None)
    if p is None:
        p = score.p_value
    return replace(score, threshold=score.threshold + allowance, p_value=p,
                   details={**score.details, "sketch_allowance": allowance})


def project(
    spec: ProjectionSpec, ref: np.ndarray, cur: np.ndarray
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Project (rows × features) matrices, standardised on the reference (median and IQR,
    held within its fences: :func:`~driftscope.detectors.base.robust_standardiser`). NaN
    rows stay NaN."""
    standard = robust_standardiser(ref)
    zr, zc = standard.apply(ref), standard.apply(cur)
    name = f"projection:{spec.name}"
    if spec.kind == "mean":
        return [(name, zr.mean(axis=1), zc.mean(axis=1))]
    if spec.kind == "norm":
        return [(name, np.linalg.norm(zr, axis=1), np.linalg.norm(zc, axis=1))]
    rng = np.random.default_rng(spec.seed)
    dirs = rng.normal(size=(spec.dim, ref.shape[1]))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    return [(f"{name}.{i}", zr @ d, zc @ d) for i, d in enumerate(dirs)]
