"""The configuration users copy is valid; projections and a multivariate detector run."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from driftscope.alerts.notifiers import CommandNotifier
from driftscope.config import Config, load_config
from driftscope.errors import ConfigError, NotifierError
from driftscope.monitor.commands import EXAMPLE_TEXT
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

ROOT = Path(__file__).resolve().parents[2]


def test_each_commented_reference_of_the_example_loads_as_written() -> None:
    """The commented alternatives (`# kind: fixed,    start: …, end: …`) were not YAML once
    uncommented: `not valid YAML at line 44`."""
    import copy
    import re

    text = (ROOT / "examples" / "driftscope.yaml").read_text()
    alternatives = [line.strip()[2:] for line in text.splitlines()
                    if line.strip().startswith("# reference: {")]
    assert len(alternatives) == 5
    base = yaml.safe_load(text)
    for line in alternatives:
        data = copy.deepcopy(base)
        data["monitors"][0]["reference"] = yaml.safe_load(
            re.sub(r"\s+\(.*$", "", line))["reference"]
        assert Config.model_validate(data).monitors[0].reference.kind in line


def test_the_examples_users_copy_are_valid() -> None:
    full = load_config(ROOT / "examples" / "driftscope.yaml", environ={})
    assert full.monitors[0].reference.kind == "previous"
    assert {p.kind for p in full.alerts.retrain.policies} == {
        "drift_sustained", "performance_below", "periodic"}
    short = Config.model_validate(yaml.safe_load(EXAMPLE_TEXT))
    assert short.monitors[0].performance is not None
    for cfg in (full, short):  # an unquoted YAML `on:` key (read as True) still means `on`
        assert [d.on for d in cfg.monitors[0].detectors] == ["numeric", "categorical"]


def test_the_default_monitor_is_what_the_harness_measures() -> None:
    from driftscope.alerts.config import AlertsConfig
    from driftscope.simulators.evaluate import EvalConfig

    m = Config.model_validate({"monitors": [{"name": "a", "model": "m", "features": ["x"]}]})
    mon = m.monitors[0]
    assert [(d.name, d.on, d.threshold.policy) for d in mon.detectors] == [
        ("emd", "numeric", "reference-quantile"), ("linf", "categorical", "reference-quantile")]
    assert (mon.fdr.method, mon.fdr.alpha) == ("bh", EvalConfig().alpha)
    assert AlertsConfig().min_windows == EvalConfig().consecutive == 2
    seasonal = Config.model_validate({"monitors": [
        {"name": "a", "model": "m", "features": ["x"], "reference": {"kind": "seasonal"}}]})
    assert seasonal.monitors[0].reference.width == EvalConfig().seasonal_width == 3
    assert mon.reference.width == 12  # previous


@pytest.mark.parametrize(("monitor", "message"), [
    ({"reference": {"kind": "fixed"}}, "fixed reference needs start and end"),
    ({"reference": {"kind": "dataset"}}, "dataset reference needs dataset"),
    ({"features": []}, "needs features"),
    ({"fdr": {"method": "holm"}}, "fdr.method"),
    ({"detectors": [{"name": "linf", "threshold": {"policy": "permutation", "n": 50}}]},
     "never gives p <= fdr.alpha=0.01"),
    ({"band": {"history": 8, "min_history": 20}},
     "band.min_history (20) is above band.history (8)"),
    ({"anomaly": {"history": 10, "min_history": 30}},
     "anomaly.min_history (30) is above anomaly.history (10)"),
    ({"performance": {"task": "regression", "prediction": "p", "metrics": ["accuracy"]}},
     "performance.metrics: accuracy not computed for task regression (its metrics: mae, rmse)"),
    ({"performance": {"task": "classification", "prediction": "p", "metrics": ["f1", "mae"]}},
     "performance.metrics: mae not computed for task classification"),
    ({"rules": [{"metric": "acuracy", "op": "<", "value": 0.9}]},
     "rules: metric 'acuracy' is not computed by this monitor (its metrics: emd, linf, "
     "missing_rate,"),
    ({"quality": {"enabled": False}, "rules": [{"metric": "missing_rate", "op": ">",
                                                "value": 0.1}]},
     "rules: metric 'missing_rate' is not computed"),
    # 00:00 UTC is after 2026-01-01T03:00+05:00 (22:00 UTC the day before)
    ({"reference": {"kind": "fixed", "start": "2026-01-01T00:00:00",
                    "end": "2026-01-01T03:00:00+05:00"}}, "needs start before end"),
])
def test_bad_monitor_configuration_is_one_line(tmp_path: Path, monitor: dict[str, Any],
                                               message: str) -> None:
    base = {"name": "a", "model": "m", "features": ["x"], **monitor}
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump({"monitors": [base]}))
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_fixed_reference_mixing_naive_and_aware_times_is_read_in_utc() -> None:
    mon = {"name": "a", "model": "m", "features": ["x"], "performance": {
               "task": "regression", "prediction": "p"},
           "rules": [{"metric": "rmse", "op": ">", "value": 1}, {"metric": "emd", "op": ">",
                                                               "value": 0.5}],
           "reference": {"kind": "fixed", "start": "2026-01-01T00:00:00",
                         "end": "2026-01-02T00:00:00+05:00"}}
    ref = Config.model_validate({"monitors": [mon]}).monitors[0].reference
    assert (ref.start, ref.end) == (datetime(2026, 1, 1, tzinfo=UTC),
                                    datetime(2026, 1, 1, 19, tzinfo=UTC))


def test_duplicate_monitor_names_are_refused() -> None:
    mon = {"name": "a", "model": "m", "features": ["x"]}
    with pytest.raises(ValueError, match="used twice"):
        Config.model_validate({"monitors": [mon, mon]})


def test_projections_and_a_multivariate_detector(store: Store) -> None:
    t0, w = datetime(2026, 6, 1, tzinfo=UTC), timedelta(minutes=5)

    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        z = rng.normal(size=n)  # a shared factor; from window 6 the correlation flips
        sign = -1.0 if i >= 6 else 1.0
        return {"a": z + 0.3 * rng.normal(size=n), "b": sign * z + 0.3 * rng.normal(size=n)}

    write_windows(store, "m", t0, w, 8, 200, gen, seed=3)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "5m"}],
        "monitors": [{"name": "mv", "model": "m", "features": ["a", "b"],
                      "projections": [{"name": "avg", "kind": "mean", "features": ["a", "b"]},
                                      {"name": "rp", "kind": "random", "dim": 2,
                                       "features": ["a", "b"]}],
                      "detectors": [{"name": "linf"},
                                    {"name": "mmd", "threshold": {"n": 100}}],
                      "reference": {"kind": "fixed", "start": t0.isoformat(),
                                    "end": (t0 + 4 * w).isoformat()}}]})
    verdicts = Monitor(store, cfg).run_once()
    feats = {r[0] for r in store.query(f"SELECT DISTINCT {S.DRIFT_RESULTS.feature} "
                                       f"FROM {S.DRIFT_RESULTS}")}
    assert {"projection:avg", "projection:rp.0", "projection:rp.1", "multivariate"} <= feats
    late = {f.feature for v in verdicts[6:] for f in v.findings if f.kind == "drift"}
    assert "projection:avg" in late and "multivariate" in late  # the marginals barely move
    assert not any(v.drifted for v in verdicts[:6])


def test_command_sink_gets_the_request_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    script = f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read() + sys.argv[1])"
    CommandNotifier([sys.executable, "-c", script]).send({"model_id": "m"}, "key-1")
    assert '"model_id": "m"' in out.read_text() and out.read_text().endswith("key-1")
    with pytest.raises(NotifierError, match="exited 3"):
        CommandNotifier([sys.executable, "-c", "raise SystemExit(3)"]).send({}, "k")


def test_one_duration_parser_serves_every_section() -> None:
    from pydantic import ValidationError

    from driftscope import config, durations

    assert config.parse_duration is durations.parse_duration  # still importable there
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "90s"}],
        "monitors": [{"name": "a", "model": "m", "features": ["x"], "window": "1.5m",
                      "reference": {"kind": "seasonal", "period": "1w"}}],
        "alerts": {"cooldown": "250ms", "backoff": 2}})
    assert cfg.models[0].window == timedelta(seconds=90)
    assert cfg.monitors[0].window == timedelta(seconds=90)
    assert cfg.monitors[0].reference.period == timedelta(weeks=1)
    assert cfg.alerts.cooldown == timedelta(milliseconds=250)
    assert cfg.alerts.backoff == timedelta(seconds=2)
    with pytest.raises(ValidationError, match="expected a duration such as 30s"):
        Config.model_validate({"alerts": {"cooldown": "an hour"}})


def test_a_short_history_without_min_history_is_judged_once_full() -> None:
    """`anomaly: {history: 10}` (a volume check needs only 8) loads: the unset
    min_history follows the shorter history instead of making the check never run."""
    from driftscope.monitor.config import AnomalySpec, BandSpec

    assert AnomalySpec.model_validate({"history": 10}).min_history == 10
    assert BandSpec.model_validate({"history": 3}).min_history == 3
    assert AnomalySpec.model_validate({"history": 48}).min_history == 12  # the default


@pytest.mark.parametrize(("policy", "message"), [
    ({"kind": "performance_below", "metric": "acuracy", "bound": 0.8},
     "alerts.retrain.policies: p: metric 'acuracy' is not computed by a monitor of any model "
     "(their performance metrics: accuracy, f1, roc_auc)"),
    ({"kind": "drift_sustained", "model": "chrun"},
     "alerts.retrain.policies: p: model 'chrun' is neither configured nor monitored "
     "(models: churn)"),
    ({"kind": "performance_below", "model": "other", "metric": "accuracy", "bound": 0.8},
     "model 'other' is neither configured"),
    ({"kind": "drift_sustained", "every": "1d", "metric": "accuracy"},
     "every, metric does not apply to a drift_sustained policy"),
    ({"kind": "periodic", "every": "7d", "windows": 5},
     "windows does not apply to a periodic policy"),
])
def test_a_retraining_policy_that_could_never_fire_is_refused(
        tmp_path: Path, policy: dict[str, Any], message: str) -> None:
    """Found in review: a mistyped metric or model, or a field of another kind, loaded
    silently and the policy never asked for retraining."""
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump({
        "models": [{"id": "churn"}],
        "monitors": [{"name": "a", "model": "churn", "features": ["x"], "performance": {
            "task": "classification", "prediction": "p"}}],
        "alerts": {"retrain": {"policies": [{"name": "p", **policy}]}}}))
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert message in str(info.value) and "\n" not in str(info.value)
    good = {"kind": "performance_below", "model": "churn", "metric": "f1", "bound": 0.5}
    Config.model_validate({**yaml.safe_load(path.read_text()),
                           "alerts": {"retrain": {"policies": [{"name": "p", **good}]}}})


def test_a_retraining_policy_read_back_from_its_dump_or_with_nulls_loads() -> None:
    """Found in review: a field of another kind was refused when given at all, so a null
    (``metric: null``) and a configuration dumped and read back were refused."""
    cfg = Config.model_validate({
        "monitors": [{"name": "a", "model": "m", "features": ["x"]}],
        "alerts": {"retrain": {"policies": [
            {"name": "p", "kind": "periodic", "every": "7d"},
            {"name": "q", "kind": "drift_sustained", "metric": None, "every": None}]}}})
    again = Config.model_validate(cfg.model_dump())
    assert [p.kind for p in again.alerts.retrain.policies] == ["periodic", "drift_sustained"]


def test_a_rule_may_name_the_stuck_value_metric() -> None:
    """stuck_value rows were written, but a rule on them was refused."""
    mon = {"name": "a", "model": "m", "features": ["x"],
           "rules": [{"metric": "stuck_value", "op": ">", "value": 0.5}]}
    cfg = Config.model_validate({"monitors": [mon]}).monitors[0]
    assert [r.metric for r in cfg.rules] == ["stuck_value"]
