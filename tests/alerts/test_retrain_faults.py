"""A sustained drift that is a data fault asks no retraining (a model trained on a stuck
sensor or on missing values learns the fault), and a request's evidence lists the
quality findings of its drifted columns for the pipeline to look at (the messages
review, session 26: a unit change and a 34 % missing column each sent a request)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftscope.alerts.config import RetrainPolicy
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.retrain import RetrainRequest, decide

T = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = RetrainPolicy(name="drift", kind="drift_sustained", windows=3)


def _drift(feature: str) -> Finding:
    return Finding("drift", "*", feature, "emd", 1.0, 0.1, "reference-quantile", "fdr")


def _quality(feature: str, metric: str) -> Finding:
    return Finding("quality", "*", feature, metric, 0.3, 0.05, "limit", "limit")


def _decide(*findings: Finding) -> RetrainRequest | None:
    v = WindowVerdict("m", "mon", T, T + timedelta(hours=1), 400, findings)
    return decide(POLICY, v, drift_streak=3, last_request=None)


def test_a_drift_of_broken_columns_asks_no_retraining() -> None:
    assert _decide(_drift("amount"), _quality("amount", "missing_rate")) is None
    assert _decide(_drift("temp"), _quality("temp", "stuck_value")) is None


def test_a_request_lists_the_quality_findings_of_its_drifted_columns() -> None:
    got = _decide(_drift("distance"), _quality("distance", "out_of_range"),
                  _drift("age"), _quality("amount", "missing_rate"))
    assert got is not None  # a large real shift shows values out of range too
    assert got.evidence["drifted"] == ["age", "distance"]
    assert got.evidence["quality"] == [["distance", "out_of_range"]]
    plain = _decide(_drift("age"))
    assert plain is not None and "quality" not in plain.evidence
