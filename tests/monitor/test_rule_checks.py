"""Fixed rules: a rule that can never fire (a misspelt feature, a feature on a performance
metric, a bound that is not a finite number, a percentage for a share) is refused at load
with one line; a performance rule fires when its bound is crossed by more than sampling
noise (``beyond_noise`` standard errors)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from driftscope.config import load_config
from driftscope.errors import ConfigError
from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.evaluate import Row, apply_rules

PERF = {"task": "classification", "prediction": "pred"}


def monitor(rule: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "mon", "model": "m", "features": ["age", "plan"], "performance": PERF,
            "rules": [rule], **extra}


def refused(tmp_path: Path, mon: dict[str, Any]) -> str:
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump({"monitors": [mon]}))
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    got = str(info.value)
    assert "\n" not in got
    return got


def refused_yaml(tmp_path: Path, rule: str) -> str:
    """A rule written as YAML (``.nan``, ``true``, ``90%`` as a user types them)."""
    path = tmp_path / "driftscope.yaml"
    path.write_text("monitors:\n  - name: mon\n    model: m\n    features: [age]\n"
                    "    performance: {task: classification, prediction: pred}\n"
                    f"    rules:\n      - {rule}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    got = str(info.value)
    assert "\n" not in got
    return got


# --- A: the feature a rule names is one the monitor's rows of that metric carry ---

@pytest.mark.parametrize(("rule", "extra", "needles"), [
    ({"metric": "missing_rate", "op": ">", "value": 0.01, "feature": "agee"}, {},
     ["rules.0.feature = 'agee'", "no missing_rate row", "did you mean age?"]),
    ({"metric": "missing_rate", "op": ">", "value": 0.01, "feature": "pred"},
     {"outputs": ["pred"]}, ["did you mean output:pred?"]),
    ({"metric": "emd", "op": ">", "value": 0.1, "feature": "mix"},
     {"projections": [{"name": "mix", "features": ["age"]}]},
     ["did you mean projection:mix?"]),
    ({"metric": "missing_rate", "op": ">", "value": 0.01, "feature": "zzz"}, {},
     ["rules.0.feature = 'zzz'", "its missing_rate rows: age, plan"]),
    ({"metric": "accuracy", "op": "<", "value": 0.8, "feature": "age"}, {},
     ["rules.0.feature = 'age'", "accuracy", "takes no feature"]),
    ({"metric": "mmd", "op": ">", "value": 0.1, "feature": "age"},
     {"detectors": [{"name": "mmd"}]}, ["no mmd row", "multivariate"]),
    ({"metric": "volume", "op": ">", "value": 6, "feature": "segment:country=FR"}, {},
     ["no volume row"]),
    ({"metric": "out_of_range", "op": ">", "value": 0.1, "feature": "plan"},
     {"categorical": ["plan"]}, ["no out_of_range row"]),
])
def test_a_feature_no_row_carries_is_refused(tmp_path: Path, rule: dict[str, Any],
                                              extra: dict[str, Any], needles: list[str]) -> None:
    got = refused(tmp_path, monitor(rule, **extra))
    for needle in needles:
        assert needle in got, got


@pytest.mark.parametrize(("rule", "extra"), [
    ({"metric": "missing_rate", "op": ">", "value": 0.01, "feature": "age"}, {}),
    ({"metric": "missing_rate", "op": ">", "value": 0.01, "feature": "output:pred"},
     {"outputs": ["pred"]}),
    ({"metric": "emd", "op": ">", "value": 0.1, "feature": "projection:mix"},
     {"projections": [{"name": "mix", "features": ["age"]}]}),
    ({"metric": "emd", "op": ">", "value": 0.1, "feature": "projection:r.1"},
     {"projections": [{"name": "r", "kind": "random", "dim": 2, "features": ["age"]}]}),
    ({"metric": "mmd", "op": ">", "value": 0.1, "feature": "multivariate"},
     {"detectors": [{"name": "mmd"}]}),
    ({"metric": "new_categories", "op": ">", "value": 0.1, "feature": "segment:country"},
     {"segments": ["country"]}),
    ({"metric": "volume", "op": ">", "value": 6, "feature": "segment:country=FR"},
     {"segments": ["country"]}),
    ({"metric": "volume", "op": ">", "value": 6}, {}),
    ({"metric": "accuracy", "op": "<", "value": 0.8, "feature": "*"}, {}),
])
def test_a_feature_the_rows_carry_is_accepted(rule: dict[str, Any],
                                              extra: dict[str, Any]) -> None:
    cfg = MonitorConfig.model_validate(monitor(rule, **extra))
    assert cfg.rules[0].feature == rule.get("feature", "*")


def test_the_detector_kinds_are_the_registry_s() -> None:
    from driftscope.detectors import registry
    from driftscope.monitor.config import DETECTOR_INPUT_KINDS

    assert DETECTOR_INPUT_KINDS == {
        n: getattr(registry.DETECTORS.cls(n), "input_kind", "univariate")
        for n in registry.names()}


# --- B: a bound is a finite number, in [0, 1] for a share, and can both fire and not ---

@pytest.mark.parametrize(("rule", "needles"), [
    ("{metric: accuracy, op: '<', value: 90}",
     ["rules.0.value = 90", "accuracy is a share in [0, 1]; 90 looks like a percentage: 0.9"]),
    ("{metric: accuracy, op: '<', value: 90%}", ["90%", "a percentage: write the share, 0.9"]),
    ("{metric: accuracy, op: '<', value: true}", ["rules.0.value = True", "boolean"]),
    ("{metric: accuracy, op: '<', value: .nan}", ["rules.0.value", "finite"]),
    ("{metric: missing_rate, op: '>', value: .inf}", ["rules.0.value", "finite"]),
    ("{metric: accuracy, op: '<', value: '0.9'}", ["rules.0.value = '0.9'", "unquoted"]),
    ("{metric: missing_rate, op: '>', value: -0.1}",
     ["missing_rate is a share in [0, 1]; -0.1 is outside it"]),
    ("{metric: missing_rate, op: '>', value: 250}", ["missing_rate is a share in [0, 1]"]),
    ("{metric: accuracy, op: '<', value: 0}", ["accuracy < 0 never fires"]),
    ("{metric: accuracy, op: '<=', value: 1}", ["accuracy <= 1 always fires"]),
    ("{metric: missing_rate, op: '>', value: 1}", ["missing_rate > 1 never fires"]),
    # volume's value is a z of the count against its expectation, either way: `< 50` read
    # as a floor on the count fired on every healthy window (29 of 29)
    ("{metric: volume, op: '<', value: 50}", ["volume < 50", "not the count", "volume > 4"]),
])
def test_a_bound_that_makes_no_sense_is_refused(tmp_path: Path, rule: str,
                                                needles: list[str]) -> None:
    got = refused_yaml(tmp_path, rule)
    for needle in needles:
        assert needle in got, got


def test_a_regression_error_is_never_negative(tmp_path: Path) -> None:
    mon = {"name": "mon", "model": "m", "performance": {"task": "regression",
                                                         "prediction": "p"},
           "rules": [{"metric": "mae", "op": ">", "value": -1}]}
    assert "mae is never negative" in refused(tmp_path, mon)


@pytest.mark.parametrize("rule", [
    {"metric": "accuracy", "op": "<", "value": 0.9},
    {"metric": "accuracy", "op": "<", "value": 1},
    {"metric": "missing_rate", "op": ">", "value": 0},
    {"metric": "emd", "op": ">", "value": 2.5},
    {"metric": "volume", "op": ">", "value": 8},
])
def test_sensible_bounds_are_accepted(rule: dict[str, Any]) -> None:
    assert MonitorConfig.model_validate(monitor(rule)).rules[0].value == rule["value"]


# --- C: a performance rule fires beyond sampling noise ---

def perf_row(value: float, labels: int, metric: str = "accuracy") -> Row:
    se = math.sqrt(value * (1 - value) / labels)
    return Row("performance", "*", "*", metric, value, math.nan, "none", False,
               details={"labels": labels, "standard_error": se})


def rules(*rs: dict[str, Any]) -> MonitorConfig:
    return MonitorConfig.model_validate({"name": "mon", "model": "m", "features": ["age"],
                                         "performance": PERF, "rules": list(rs)})


def test_a_crossing_within_sampling_noise_does_not_fire_and_is_recorded() -> None:
    """0.80 on 25 labels is within one standard error (0.071 at 0.85) of the bound."""
    row = perf_row(0.80, 25)
    apply_rules(rules({"metric": "accuracy", "op": "<", "value": 0.85}), [row])
    assert not row.bad
    assert row.details["rule_within_noise"]["bound"] == 0.85
    assert row.details["rule_within_noise"]["noise"] == pytest.approx(0.0714, abs=1e-4)


def test_beyond_noise_zero_is_the_plain_bound() -> None:
    row = perf_row(0.80, 25)
    apply_rules(rules({"metric": "accuracy", "op": "<", "value": 0.85, "beyond_noise": 0}),
                [row])
    assert row.bad and row.reason == "rule" and row.policy == "rule < 0.85"


@pytest.mark.parametrize(("value", "labels"), [(0.60, 25), (0.83, 1000)])
def test_a_crossing_beyond_noise_fires(value: float, labels: int) -> None:
    """Many labels: the margin is small (0.011 at 0.85 on 1,000): 0.83 fires."""
    row = perf_row(value, labels)
    apply_rules(rules({"metric": "accuracy", "op": "<", "value": 0.85}), [row])
    assert row.bad and row.threshold == 0.85 and row.reason == "rule"


def test_a_rule_above_a_bound_fires_beyond_noise_too() -> None:
    low, high = perf_row(0.22, 100, "rmse"), perf_row(0.40, 100, "rmse")
    low.details["standard_error"] = high.details["standard_error"] = 0.05
    apply_rules(rules({"metric": "f1", "op": "<", "value": 0.5}), [])  # (no row: nothing)
    cfg = MonitorConfig.model_validate({
        "name": "mon", "model": "m", "performance": {"task": "regression", "prediction": "p"},
        "rules": [{"metric": "rmse", "op": ">", "value": 0.2}]})
    apply_rules(cfg, [low, high])
    assert not low.bad and high.bad


def test_beyond_noise_on_a_rule_without_noise_is_refused(tmp_path: Path) -> None:
    """It would do nothing there: quality and drift rows carry no standard error."""
    got = refused(tmp_path, monitor({"metric": "missing_rate", "op": ">", "value": 0.1,
                                     "beyond_noise": 2}))
    assert "rules.0.beyond_noise" in got and "performance rules only" in got


def test_rows_without_a_standard_error_fire_at_the_bound() -> None:
    """Quality rows have no sampling error on them: their rule is the plain bound, on the
    feature it names only."""
    rows = [Row("quality", "*", f, "missing_rate", 0.03, 0.05, "limit", False)
            for f in ("age", "plan")]
    cfg = MonitorConfig.model_validate(monitor(
        {"metric": "missing_rate", "op": ">", "value": 0.01, "feature": "age"}))
    apply_rules(cfg, rows)
    assert [r.bad for r in rows] == [True, False]


def test_false_alarms_and_detection_on_25_labels() -> None:
    """accuracy < 0.85 on 25 labels a window: a steady 0.90 flagged 232 of 1,000 windows
    (reviewer); a fall to 0.75 must still be flagged most of the time."""
    rng = np.random.default_rng(9)
    cfg = rules({"metric": "accuracy", "op": "<", "value": 0.85})

    def flagged(acc: float, labels: int, n: int = 1000) -> int:
        rows = [perf_row(float(v), labels) for v in rng.binomial(labels, acc, n) / labels]
        apply_rules(cfg, rows)
        return sum(r.bad for r in rows)

    assert flagged(0.90, 25) <= 40  # ~22 (0 alerts of two windows in a row)
    assert flagged(0.75, 25) >= 550  # ~63 %
    assert flagged(0.80, 1000) >= 990
