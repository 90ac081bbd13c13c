"""The demo application: trains, predicts, logs through an injected logger, labels later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest

from driftscope.broker import LocalBroker
from driftscope.client import PredictionLogger
from driftscope.events import FeedbackEvent, PredictionEvent
from driftscope.simulators.app import DemoApp


class Recorder:
    """Validates and records what the app logs."""

    def __init__(self) -> None:
        self.predictions: list[PredictionEvent] = []
        self.feedback: list[tuple[FeedbackEvent, int]] = []

    def log(
        self, model_id: str, features: dict[str, Any], predictions: dict[str, Any], **kw: Any
    ) -> str | None:
        data = {"model_id": model_id, "features": features, "predictions": predictions}
        data.update({k: v for k, v in kw.items() if v is not None})
        ev = PredictionEvent.model_validate(data)
        self.predictions.append(ev)
        return ev.event_id

    def log_feedback(
        self, model_id: str, event_id: str, label: Any, *, timestamp: datetime | None = None
    ) -> None:
        ev = FeedbackEvent.model_validate(
            {
                "kind": "feedback",
                "model_id": model_id,
                "event_id": event_id,
                "label": label,
                "timestamp": timestamp,
            }
        )
        self.feedback.append((ev, len(self.predictions)))


def test_run_logs_predictions_and_delayed_labels() -> None:
    rec = Recorder()
    app = DemoApp("instantaneous-covariate", seed=1, n_reference=2000, label_delay=50)
    counts = app.run(rec, 1000)
    assert counts.predictions == 1000 and counts.feedback == 1000 and counts.invalid == 0
    assert 400 <= counts.drifted <= 600
    assert counts.accuracy > 0.6
    by_id = {p.event_id: p for p in rec.predictions}
    first, logged_before = rec.feedback[0]
    assert logged_before == 51  # sent only after 50 later predictions
    pred = by_id[first.event_id]
    assert first.timestamp > pred.timestamp
    assert {"class", "score"} <= set(pred.predictions)
    assert pred.segments["region"] == pred.features["region"]


def test_reference_is_a_dict_of_arrays_and_deterministic() -> None:
    a = DemoApp("gradual-covariate", seed=5, n_reference=500).reference()
    b = DemoApp("gradual-covariate", seed=5, n_reference=500).reference()
    assert a["age"].dtype == np.float64 and a["plan"].dtype == object
    assert np.array_equal(a["age"], b["age"])


def test_rate_limits_with_injected_clock() -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    app = DemoApp("no-drift", intensity="medium", n_reference=500, label_delay=0)
    app.run(Recorder(), 100, rate=50.0, sleep=sleep, monotonic=lambda: now[0])
    assert now[0] == 99 / 50.0


def test_real_broker(broker: LocalBroker, topic: str) -> None:
    app = DemoApp("temporary-prior", n_reference=500, label_delay=10)
    with PredictionLogger(broker.bootstrap, topic=topic) as logger:
        counts = app.run(logger, 200)
        assert logger.flush(30)
        assert logger.stats.sent == counts.predictions + counts.feedback == 400


def test_a_canary_serves_its_share_from_the_onset_and_is_worse() -> None:
    """``canary=0.1``: version 2 serves a tenth of the events from the onset (none before),
    with a feature-pipeline bug: its accuracy falls, the old version's does not."""
    rec = Recorder()
    app = DemoApp("no-drift", n_reference=2000, label_delay=10, canary=0.1, seed=2)
    counts = app.run(rec, 6000)
    versions = np.array([ev.model_version for ev in rec.predictions])
    assert set(versions[:3000]) == {"1"}
    assert 0.07 < np.mean(versions[3000:] == "2") < 0.13
    assert counts.canary == int(np.sum(versions == "2"))
    old = (counts.correct - counts.canary_correct) / (counts.predictions - counts.canary)
    assert counts.canary_accuracy < old - 0.1, (counts.canary_accuracy, old)


def test_a_canary_sending_other_units_logs_them_and_predicts_on_them() -> None:
    """``canary_bug="units"``: version 2 sends (and logs) its numeric inputs in
    hundredths; the old version's are the stream's own."""
    rec = Recorder()
    app = DemoApp("no-drift", n_reference=2000, label_delay=10, canary=0.1, seed=2,
                  canary_bug="units")
    counts = app.run(rec, 4000)
    sent = app.stream(4000).features
    versions = np.array([ev.model_version for ev in rec.predictions])
    ages = np.array([ev.features["age"] for ev in rec.predictions], dtype=float)
    assert np.allclose(ages[versions == "1"], sent["age"][versions == "1"])
    assert np.allclose(ages[versions == "2"], 100 * sent["age"][versions == "2"])
    assert {type(ev.features["plan"]) for ev in rec.predictions} == {str}  # (text as sent)
    old = (counts.correct - counts.canary_correct) / (counts.predictions - counts.canary)
    assert counts.canary > 150 and counts.canary_accuracy < old - 0.1, (
        counts.canary_accuracy, old)
    with pytest.raises(ValueError, match="canary_bug: one of pipeline, units, got 'unit'"):
        DemoApp("no-drift", canary=0.1, canary_bug="unit")
