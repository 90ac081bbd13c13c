"""``drift_results.severity`` of a drift beyond a zero threshold (a column constant in the
reference that moved) is the alerts' unbounded severity, not 0 (the Overview's worst
severity left out the drift the monitor alerted on)."""

from __future__ import annotations

from driftscope.monitor.evaluate import Row
from driftscope.monitor.results import _severity
from driftscope.types import UNBOUNDED_SEVERITY


def _row(statistic: float, threshold: float) -> Row:
    return Row("drift", "*", "plan", "linf", statistic, threshold, "reference-quantile",
               statistic > threshold)


def test_severity_beyond_a_zero_threshold() -> None:
    assert _severity(_row(0.3, 0.0)) == UNBOUNDED_SEVERITY
    assert _severity(_row(0.0, 0.0)) == 0.0  # nothing moved
    assert _severity(_row(0.3, float("inf"))) == 0.0  # no threshold reachable: no drift
    assert _severity(_row(0.3, 0.25)) == 1.2
