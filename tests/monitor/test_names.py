"""A monitor whose model or features no event has (a typo, most likely) says so, once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _config(**monitor: Any) -> Config:
    return Config.model_validate({
        "models": [{"id": "loan", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "loan", "features": ["age"], **monitor}],
        "alerts": {"console": False}})


def _learned(store: Store, model: str, *names: str) -> None:
    store.insert(S.MODEL_FEATURES, [(model, n, "numeric", T0) for n in names],
                 S.MODEL_FEATURES.columns)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and r.name == "driftscope.monitor"]


def test_a_misspelt_model_is_named_with_the_models_that_have_events(
    store: Store, caplog: pytest.LogCaptureFixture,
) -> None:
    _learned(store, "loan", "age", "income")
    with caplog.at_level(logging.WARNING):
        Monitor(store, _config(model="loans")).run_once()
    assert _warnings(caplog) == [
        "monitor mon: model 'loans' has no event in the store (models with events: loan)"]


def test_a_misspelt_feature_or_output_is_named_once(
    store: Store, caplog: pytest.LogCaptureFixture,
) -> None:
    _learned(store, "loan", "age", "income", "prediction.score")
    monitor = Monitor(store, _config(features=["age", "incme"], outputs=["score", "proba[1]"]))
    with caplog.at_level(logging.WARNING):
        monitor.run_once()
        monitor.run_once()
    assert _warnings(caplog) == [  # (as the configuration spells them: before, the line
        # offered `prediction.score`, which as an output is `score`)
        "monitor mon: no event of model 'loan' has a value for feature incme, output proba "
        "(its features: age, income; outputs: score)"]


def test_nothing_collected_yet_says_nothing_until_it_is(
    store: Store, caplog: pytest.LogCaptureFixture,
) -> None:
    monitor = Monitor(store, _config(features=["agee"]))
    with caplog.at_level(logging.WARNING):
        monitor.run_once()
        assert _warnings(caplog) == []  # a model not deployed yet: no events, no names
        _learned(store, "loan", "age")
        monitor.run_once()
    assert _warnings(caplog) == [
        "monitor mon: no event of model 'loan' has a value for feature agee (its features: "
        "age)"]


def test_names_every_event_has_say_nothing(
    store: Store, caplog: pytest.LogCaptureFixture,
) -> None:
    _learned(store, "loan", "age", "prediction.proba")
    with caplog.at_level(logging.WARNING):
        Monitor(store, _config(outputs=["proba[0]"])).run_once()
    assert _warnings(caplog) == []
