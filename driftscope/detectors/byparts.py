"""Multivariate by parts: one detector per column, corrections, and a severity ranking.

Each column gets the detector chosen for its kind (``numeric`` or ``categorical``,
inferred from the reference's dtype) unless a column-specific one is given. Severity
(statistic ÷ threshold) puts an L-inf on a categorical and an EMD on a float on one
scale, so the ranking of the features that drive a drift means something.

With ``correction="bh"`` or ``"bonferroni"``, columns whose scores carry a p-value are
decided by the corrected test across those columns; the others by ``statistic >
threshold``. Per-feature tests miss changes in correlation: pair this with MMD or a
projection when that matters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from driftscope.errors import ConfigError, DetectorInputError
from driftscope.types import Score

from . import registry
from .base import draw_seed, is_categorical
from .significance import benjamini_hochberg, bonferroni, rank_by_severity

CORRECTIONS = ("none", "bonferroni", "bh")
DEFAULTS: dict[str, str] = {"numeric": "emd", "categorical": "linf"}


@dataclass(frozen=True)
class TableScore:
    """Per-column scores, the drifted columns after correction, and the ranking.

    Examples
    --------
    >>> from driftscope.types import Score
    >>> t = TableScore({"a": Score(0.3, 0.1, "constant")}, ("a",), (("a", 3.0),), "none")
    >>> t.share_drifted, t.summary().drifted
    (1.0, True)
    """

    scores: Mapping[str, Score]
    drifted: tuple[str, ...]
    ranking: tuple[tuple[str, float], ...]
    correction: str

    @property
    def share_drifted(self) -> float:
        return len(self.drifted) / max(len(self.scores), 1)

    def summary(self) -> Score:
        """One Score for the table: the worst severity against 1."""
        worst = self.ranking[0] if self.ranking else ("", 0.0)
        return Score(
            statistic=float(worst[1]) if self.drifted or worst[1] <= 1 else 1.0,
            threshold=1.0,
            policy=f"max-severity({self.correction})",
            details={"drifted": list(self.drifted), "top": list(self.ranking[:5])},
        )


def _columns(table: Any, what: str) -> dict[str, np.ndarray]:
    if not hasattr(table, "keys"):
        raise DetectorInputError(f"{what}: expected a mapping of column name → array")
    return {str(k): np.asarray(table[k]) for k in table.keys()}


@dataclass(frozen=True)
class FittedByParts:
    """One fitted detector per column."""

    fitted: Mapping[str, Any]
    kinds: Mapping[str, str]
    correction: str
    alpha: float

    def score(self, current: Any) -> TableScore:
        """Score every column; mismatched columns are a DetectorInputError."""
        cols = _columns(current, "current window")
        missing = sorted(set(self.fitted) - set(cols))
        extra = sorted(set(cols) - set(self.fitted))
        if missing or extra:
            raise DetectorInputError(
                f"columns differ from the reference: missing {missing}, unexpected {extra}"
            )
        scores = {name: self.fitted[name].score(cols[name]) for name in sorted(self.fitted)}
        drifted = {name for name, s in scores.items() if s.drifted}
        tested = [name for name, s in scores.items() if s.p_value is not None]
        if self.correction != "none" and tested:
            p = np.array([scores[n].p_value for n in tested], dtype=float)
            rule = benjamini_hochberg if self.correction == "bh" else bonferroni
            reject = rule(p, self.alpha)
            drifted -= set(tested)
            drifted |= {n for n, r in zip(tested, reject, strict=True) if r}
        ranking = tuple(rank_by_severity(scores))
        order = [n for n, _ in ranking if n in drifted]
        return TableScore(scores, tuple(order), ranking, self.correction)


class ByParts:
    """Per-column drift for a table (a mapping of column name → 1-D array).

    Parameters
    ----------
    by_kind : mapping
        Detector (name or instance) per kind; default ``{"numeric": "emd",
        "categorical": "linf"}``.
    columns : mapping, optional
        Detector (name or instance) for specific columns, overriding ``by_kind``.
    correction : {"none", "bonferroni", "bh"}
    alpha : float
        Family level for the corrections.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = {"age": rng.normal(40, 10, 500),
    ...        "plan": rng.choice(np.array(["a", "b"], dtype=object), 500)}
    >>> cur = {"age": rng.normal(55, 10, 300),
    ...        "plan": rng.choice(np.array(["a", "b"], dtype=object), 300)}
    >>> result = ByParts().fit(ref, rng=rng).score(cur)
    >>> result.drifted
    ('age',)
    """

    def __init__(
        self,
        by_kind: Mapping[str, Any] | None = None,
        columns: Mapping[str, Any] | None = None,
        *,
        correction: str = "none",
        alpha: float = 0.05,
    ) -> None:
        if correction not in CORRECTIONS:
            raise ConfigError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
        self.by_kind = {**DEFAULTS, **(by_kind or {})}
        self.columns = dict(columns or {})
        self.correction, self.alpha = correction, alpha

    @staticmethod
    def _build(spec: Any) -> Any:
        return registry.get(spec) if isinstance(spec, str) else spec

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedByParts:
        """Fit one detector per column of ``reference``."""
        cols = _columns(reference, "reference")
        if not cols:
            raise DetectorInputError("reference has no columns")
        seed = draw_seed(rng)
        fitted: dict[str, Any] = {}
        kinds: dict[str, str] = {}
        for i, name in enumerate(sorted(cols)):
            kind = "categorical" if is_categorical(cols[name]) else "numeric"
            det = self._build(self.columns.get(name, self.by_kind[kind]))
            if det.input_kind not in (kind, "univariate"):
                raise ConfigError(f"column {name!r} is {kind}; {det.name} needs {det.input_kind}")
            fitted[name] = det.fit(cols[name], rng=np.random.default_rng([seed, i]))
            kinds[name] = kind
        return FittedByParts(fitted, kinds, self.correction, self.alpha)
