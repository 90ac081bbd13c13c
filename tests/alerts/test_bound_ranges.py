"""A bound that can never, or always, be crossed is refused at load with one line: a
``performance_below`` retraining policy's (``bound: 90``, a percentage, asked for
retraining on every window; an error's, ``mae``, is a ceiling, never negative), and a
fixed rule's on a drift distance of known range (``linf > 5`` never
fired). The check is the fixed rules' own (:func:`driftscope.monitor.config.bound_problem`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from config_errors import load_message
from pydantic import ValidationError

from driftscope.alerts.config import RetrainPolicy
from driftscope.config import Config
from driftscope.monitor.config import MonitorConfig, RuleSpec


def policy(metric: str, bound: Any, **extra: Any) -> RetrainPolicy:
    return RetrainPolicy(name="floor", kind="performance_below", metric=metric, bound=bound,
                         **extra)


def refused_message(make: Any) -> str:
    with pytest.raises(ValidationError) as info:
        make()
    msgs = [e["msg"] for e in info.value.errors()]
    assert len(msgs) == 1 and "\n" not in msgs[0], msgs
    return msgs[0]


# --- a performance_below policy's bound: the range a rule `metric < bound` has ---

@pytest.mark.parametrize(("metric", "bound", "expected"), [
    ("accuracy", 90, "accuracy is a share in [0, 1]; 90 looks like a percentage: 0.9"),
    ("f1", 85, "f1 is a share in [0, 1]; 85 looks like a percentage: 0.85"),
    ("accuracy", 0, "accuracy < 0 never fires: accuracy is a share in [0, 1]"),
    ("roc_auc", 1.5, "roc_auc is a share in [0, 1]; 1.5 looks like a percentage: 0.015"),
    ("roc_auc", 150, "roc_auc is a share in [0, 1]; 150 is outside it"),
    ("accuracy", -0.2, "accuracy is a share in [0, 1]; -0.2 is outside it"),
])
def test_a_policy_bound_outside_its_metric_s_range_is_refused(
        metric: str, bound: float, expected: str) -> None:
    assert refused_message(lambda: policy(metric, bound)) == f"Value error, {expected}"


@pytest.mark.parametrize(("metric", "bound"), [
    ("accuracy", 0.8), ("f1", 0.5), ("roc_auc", 0.7),
    # strict: `accuracy < 1` asks on every window short of perfect, not on every window
    # (as the fixed rule `accuracy < 1`, which is accepted too)
    ("accuracy", 1),
])
def test_a_sensible_policy_bound_is_accepted(metric: str, bound: float) -> None:
    assert policy(metric, bound).bound == bound


@pytest.mark.parametrize("metric", ["mae", "rmse"])
def test_a_policy_on_an_error_metric_takes_its_bound_as_a_ceiling(metric: str) -> None:
    """For an error (lower is better) the policy asks while it is over the bound
    (:func:`driftscope.alerts.retrain.short_of`): a negative bound never asks."""
    assert policy(metric, 5.0).bound == 5.0
    assert policy(metric, 0).bound == 0  # (asks on any error at all: allowed, as `mae > 0`)
    assert refused_message(lambda: policy(metric, -1)) == \
        f"Value error, {metric} is never negative; -1 is below 0"


def test_a_bound_on_another_kind_is_still_named_as_stray() -> None:
    """The range is a performance_below bound's: on another kind the bound itself is the
    mistake, and the message says that, not its range."""
    got = refused_message(lambda: RetrainPolicy(name="d", kind="drift_sustained", bound=90))
    assert "bound does not apply to a drift_sustained policy" in got


# --- a fixed rule on a drift distance: linf in [0, 1], l1 in [0, 2] ---

@pytest.mark.parametrize(("metric", "op", "value", "expected"), [
    ("linf", ">", 5, "linf is a distance in [0, 1]; 5 looks like a percentage: 0.05"),
    ("linf", ">", -0.1, "linf is a distance in [0, 1]; -0.1 is outside it"),
    ("linf", ">", 1, "linf > 1 never fires: linf is a distance in [0, 1]"),
    ("linf", ">=", 0, "linf >= 0 always fires: linf is a distance in [0, 1]"),
    ("linf", "<", 0, "linf < 0 never fires: linf is a distance in [0, 1]"),
    ("l1", ">", 2.5, "l1 is a distance in [0, 2]; 2.5 is outside it"),
    ("l1", ">", 50, "l1 is a distance in [0, 2]; 50 is outside it"),
    ("l1", ">", 2, "l1 > 2 never fires: l1 is a distance in [0, 2]"),
    ("l1", "<=", 2, "l1 <= 2 always fires: l1 is a distance in [0, 2]"),
    ("ks", ">", 120, "ks is a distance in [0, 1]; 120 is outside it"),
    ("hellinger", ">", 1, "hellinger > 1 never fires: hellinger is a distance in [0, 1]"),
    ("jensen_shannon", ">", 10,
     "jensen_shannon is a distance in [0, 1]; 10 looks like a percentage: 0.1"),
    ("psi", ">", -1, "psi is never negative; -1 is below 0"),
    ("emd", "<", 0, "emd < 0 never fires: emd is never negative"),
])
def test_a_rule_bound_outside_a_distance_s_range_is_refused(
        metric: str, op: str, value: float, expected: str) -> None:
    got = refused_message(lambda: RuleSpec(metric=metric, op=op, value=value))
    assert got == f"Value error, {expected}"


@pytest.mark.parametrize(("metric", "op", "value"), [
    ("linf", ">", 0.2), ("linf", ">=", 1), ("linf", ">", 0),
    ("l1", ">", 1.5), ("l1", ">", 1), ("l1", ">=", 2),
    ("ks", ">", 0.3), ("psi", ">", 0.25), ("emd", ">", 2.5),
    ("mmd", ">", -0.01),  # (its unbiased estimate can be negative: no range)
])
def test_a_rule_bound_inside_a_distance_s_range_is_accepted(
        metric: str, op: str, value: float) -> None:
    assert RuleSpec(metric=metric, op=op, value=value).value == value


def test_a_monitor_with_in_range_distance_rules_loads() -> None:
    m = MonitorConfig.model_validate({
        "name": "mon", "model": "m", "features": ["age", "plan"], "categorical": ["plan"],
        "detectors": [{"name": "emd", "on": "numeric"}, {"name": "linf"}, {"name": "l1"}],
        "rules": [{"metric": "linf", "op": ">", "value": 0.3, "feature": "plan"},
                  {"metric": "l1", "op": ">", "value": 1.2}]})
    assert [r.value for r in m.rules] == [0.3, 1.2]


# --- through the whole configuration, as a user's YAML is read ---

YAML = """
models: [{id: churn, window: 1h}]
monitors:
  - name: mon
    model: churn
    features: [age, plan]
    categorical: [plan]
    performance: {task: %s, prediction: pred}
    rules:
      - %s
alerts:
  retrain:
    policies:
      - {name: floor, kind: performance_below, metric: %s, bound: %s}
"""


def config_text(rule: str = "{metric: linf, op: '>', value: 0.3}", metric: str = "accuracy",
                bound: str = "0.8", task: str = "classification") -> str:
    return YAML % (task, rule, metric, bound)


def refused_both_ways(tmp_path: Path, text: str, expected: str) -> str:
    """``expected`` in the error of ``Config`` on ``text``, and in the one line
    ``load_config`` gives for it (returned)."""
    with pytest.raises(ValidationError) as info:
        Config.model_validate(yaml.safe_load(text))
    assert expected in str(info.value)
    got = load_message(tmp_path, text)
    assert expected in got, got
    return got


def test_a_sensible_configuration_loads() -> None:
    cfg = Config.model_validate(yaml.safe_load(config_text()))
    assert cfg.alerts.retrain.policies[0].bound == 0.8
    assert cfg.monitors[0].rules[0].value == 0.3


def test_a_percentage_policy_bound_is_refused_by_the_whole_configuration(
        tmp_path: Path) -> None:
    got = refused_both_ways(tmp_path, config_text(bound="90"),
                            "accuracy is a share in [0, 1]; 90 looks like a percentage: 0.9")
    assert "alerts.retrain.policies.0.bound = 90" in got, got


def test_an_error_metric_policy_loads_with_the_whole_configuration() -> None:
    cfg = Config.model_validate(yaml.safe_load(config_text(
        rule="{metric: mae, op: '>', value: 3}", metric="mae", bound="5", task="regression")))
    assert cfg.alerts.retrain.policies[0].metric == "mae"


def test_an_out_of_range_linf_rule_is_refused_by_the_whole_configuration(
        tmp_path: Path) -> None:
    got = refused_both_ways(tmp_path, config_text(rule="{metric: linf, op: '>', value: 5}"),
                            "linf is a distance in [0, 1]; 5 looks like a percentage: 0.05")
    assert "monitors.0.rules.0.value = 5" in got, got
