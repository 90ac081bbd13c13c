"""Frozen value types shared by every component.

Only plain data lives here: no I/O, no clocks, no random state. Detectors, the
monitor, alerts and dashboards all speak these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

UNBOUNDED_SEVERITY = 10.0
"""The severity of a finding beyond a zero threshold (a column constant in the reference
that moved: any change is drift), where one number must stand for it: alert severity,
``drift_results.severity``, the dashboards' statistic / threshold."""

@dataclass(frozen=True, slots=True)
class Window:
    """A closed event-time window of one model.

    Examples
    --------
    >>> from datetime import datetime, timezone, timedelta
    >>> w = Window("churn", datetime(2026, 1, 1, tzinfo=timezone.utc), timedelta(minutes=5))
    >>> w.end.isoformat()
    '2026-01-01T00:05:00+00:00'
    """

    model_id: str
    start: datetime
    size: timedelta

    @property
    def end(self) -> datetime:
        return self.start + self.size

    def before(self, k: int) -> Window:
        """The window ``k`` windows earlier (this one for 0)."""
        return Window(self.model_id, self.start - k * self.size, self.size)


@dataclass(frozen=True, slots=True)
class Score:
    """The outcome of scoring one production window against a reference.

    ``statistic > threshold`` means drift, for every detector. ``policy`` says how
    the threshold was set (``constant``, ``reference-quantile``, ``permutation``).

    Examples
    --------
    >>> Score(statistic=0.3, threshold=0.1, policy="constant").drifted
    True
    >>> round(Score(statistic=0.05, threshold=0.1, policy="constant").severity, 2)
    0.5
    """

    statistic: float
    threshold: float
    policy: str
    p_value: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return self.statistic > self.threshold

    @property
    def severity(self) -> float:
        """statistic ÷ threshold: one scale across features and metrics (>1 is drift);
        infinite beyond a zero threshold (stored and drawn as :data:`UNBOUNDED_SEVERITY`)."""
        if self.threshold <= 0:
            return float("inf") if self.statistic > 0 else 0.0
        return self.statistic / self.threshold
