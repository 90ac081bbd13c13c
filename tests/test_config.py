from __future__ import annotations

from pathlib import Path

import pytest

from driftscope.config import Secrets, kafka_client_options, load_config
from driftscope.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "driftscope.yaml"
    p.write_text(text)
    return p


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./driftscope.yaml
    cfg = load_config(environ={})
    assert cfg.kafka.topic == "driftscope.predictions"
    assert cfg.store.dsn.startswith("chdb://")


def test_a_configuration_named_in_the_environment_must_exist(tmp_path: Path) -> None:
    """It ran on the defaults in silence (another store, no monitors)."""
    with pytest.raises(ConfigError, match=r"absent\.yaml: no such configuration file"):
        load_config(environ={"DRIFTSCOPE_CONFIG": str(tmp_path / "absent.yaml")})


def test_the_models_and_monitors_lists_are_not_set_key_by_key_from_the_environment(
    tmp_path: Path,
) -> None:
    """DRIFTSCOPE_MODELS__0__WINDOW made the list a mapping: 'models = a dict: Input
    should be a valid list'."""
    p = write(tmp_path, "models:\n  - {id: churn}\n")
    with pytest.raises(ConfigError, match="DRIFTSCOPE_MODELS__0__WINDOW: the models list"):
        load_config(p, environ={"DRIFTSCOPE_MODELS__0__WINDOW": "2h"})
    with pytest.raises(ConfigError, match="the monitors list"):
        load_config(p, environ={"DRIFTSCOPE_MONITORS__0__NAME": "x"})


def test_a_full_file_and_environment_overrides(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "kafka:\n  partitions: 8\nmodels:\n  - id: churn\n    logging: [raw, sample]\n"
        "    window: 10m\n    sample_size: 500\n",
    )
    cfg = load_config(
        p,
        environ={
            "DRIFTSCOPE_KAFKA__BOOTSTRAP_SERVERS": "k1:9092,k2:9092",
            "DRIFTSCOPE_COLLECTOR__BATCH_SIZE": "250",
        },
    )
    assert cfg.kafka.partitions == 8
    assert cfg.kafka.bootstrap_servers == "k1:9092,k2:9092"
    assert cfg.collector.batch_size == 250
    model = cfg.model("churn")
    assert model is not None and model.window.total_seconds() == 600
    assert model.logging == ["raw", "sample"]


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("kafka:\n  partitions: lots\n", ["kafka.partitions", "'lots'", "integer"]),
        ("models:\n  - id: m\n    window: 5 fortnights\n", ["models.0.window", "duration"]),
        ("kafka:\n  topik: x\n", ["kafka.topik", "unknown key; did you mean topic?"]),
        ("models:\n  - id: m\n    logging: [everything]\n", ["models.0.logging.0", "raw"]),
        ("kafka: [1\n", ["not valid YAML", "line"]),
        ("models:\n  - id: m\nmonitors:\n  - name: d\n    model: m\n"
         "    persistence: {alpha: 0.05}\n",
         ["persistence", "directed_alpha (0.01) is below alpha (0.05)"]),
        ("models:\n  - id: m\n    window: 500ms\n",
         ["models.0.window", "whole number of seconds, at least 1 s"]),
        ("models:\n  - id: m\n    window: 1.5s\n", ["models.0.window", "whole number"]),
        # a misspelt key names the one it most likely is, at its own level
        ("monitor:\n  - {name: d, model: m, features: [x]}\n",
         ["monitor = a list", "did you mean monitors?"]),
        ("monitors:\n  - {name: d, model: m, features: [x], reference: {knd: initial}}\n",
         ["monitors.0.reference.knd", "did you mean kind?"]),
        ("alerts:\n  slak: true\n", ["alerts.slak", "did you mean slack?"]),
        # one not close to any: the keys it could be (pydantic said "Extra inputs are not
        # permitted")
        ("store:\n  dnss: x\n", ["store.dnss = 'x': unknown key; expected one of dsn, "
                                 "database"]),
        ("models:\n  - {id: m, allowed_lateness: -60}\n",
         ["models.0.allowed_lateness = -60: must not be negative"]),
        ("models:\n  - {id: m, window: 1m}\n  - {id: m, window: 5m}\n",
         ["models", "model id 'm' is listed twice; ids must be unique"]),
        # a DSN of another kind, or without its scheme, is not a server on localhost:8123
        ("store: {dsn: 'chdb:/tmp/x'}\n", ["store.dsn", "expected chdb:///path"]),
        ("store: {dsn: 'postgres://u@h/db'}\n", ["store.dsn", "http(s)://host:8123"]),
        ("store: {dsn: /var/lib/driftscope}\n", ["store.dsn", "expected chdb:///path"]),
        ("store: {dsn: 'clickhouse://h:9000'}\n", ["store.dsn", "expected chdb:///path"]),
        ("monitors:\n  - {name: d, model: m, features: [x], window: 90.5s}\n",
         ["monitors.0.window", "whole number"]),
        # the monitor processes the model's closed windows; an unlisted model's are 5m
        ("models:\n  - id: m\n    window: 5m\nmonitors:\n"
         "  - {name: d, model: m, features: [x], window: 1h}\n",
         ["monitor 'd'", "window = 1h but model 'm' closes 5m windows"]),
        ("monitors:\n  - {name: d, model: m, features: [x], window: 1h}\n",
         ["monitor 'd'", "window = 1h but model 'm' closes 5m windows"]),
        ("models:\n  - id: m\n    window: 1h\nmonitors:\n  - {name: d, model: m, "
         "features: [x], reference: {kind: seasonal, period: 90m}}\n",
         ["monitor 'd'", "reference.period = 90m is not a whole number of 1h windows"]),
        ("models:\n  - id: m\n    window: 1h\nmonitors:\n  - {name: d, model: m, "
         "features: [x], reference: {kind: seasonal, period: 1h}}\n",
         ["monitor 'd'", "reach the current window", "period of at least 2h"]),
        ("models:\n  - id: m\n    window: 1h\nmonitors:\n  - {name: d, model: m, "
         "features: [x], reference: {kind: seasonal, period: 1d, windows: 49}}\n",
         ["monitor 'd'", "49 seasonal windows", "period of at least 25h"]),
        # the default seasonal reference (1d, 3 windows) with weekly windows
        ("models:\n  - id: m\n    window: 7d\nmonitors:\n  - {name: d, model: m, "
         "features: [x], reference: {kind: seasonal}}\n",
         ["monitor 'd'", "reference.period = 1d is not a whole number of 1w windows"]),
        ("models:\n  - id: m\n    window: 7d\nmonitors:\n  - {name: d, model: m, "
         "features: [x], reference: {kind: seasonal, period: 1w}}\n",
         ["monitor 'd'", "reach the current window", "period of at least 2w"]),
    ],
)
def test_invalid_files_stop_with_one_line(tmp_path: Path, text: str, needles: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message


def test_secrets_in_the_file_are_refused_and_not_echoed(tmp_path: Path) -> None:
    url = "https://hooks.slack.com/services/T000/B000/SECRET"
    p = write(tmp_path, f"alerts:\n  slack_webhook_url: {url}\n")
    with pytest.raises(ConfigError) as info:
        load_config(p, environ={})
    assert "SECRET" not in str(info.value)
    assert "DRIFTSCOPE_SLACK_WEBHOOK_URL" in str(info.value)


def test_secrets_from_the_environment_never_print() -> None:
    s = Secrets.from_env({"DRIFTSCOPE_KAFKA_SASL_PASSWORD": "hunter2"})
    assert "hunter2" not in repr(s) and "hunter2" not in str(s)
    assert s.kafka_sasl_password is not None
    assert s.kafka_sasl_password.get_secret_value() == "hunter2"


def test_kafka_security_passes_through(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "kafka:\n  security_protocol: SASL_SSL\n  sasl_mechanism: SCRAM-SHA-512\n"
        "  ssl_cafile: /etc/ca.pem\n",
    )
    cfg = load_config(p, environ={})
    secrets = Secrets.from_env(
        {"DRIFTSCOPE_KAFKA_SASL_USERNAME": "u", "DRIFTSCOPE_KAFKA_SASL_PASSWORD": "p"}
    )
    opts = kafka_client_options(cfg.kafka, secrets)
    assert opts["security_protocol"] == "SASL_SSL"
    assert opts["sasl_mechanism"] == "SCRAM-SHA-512"
    assert opts["sasl_plain_username"] == "u" and opts["sasl_plain_password"] == "p"
    assert opts["ssl_cafile"] == "/etc/ca.pem"


def test_seasonal_references_that_fit_the_window_load(tmp_path: Path) -> None:
    p = write(tmp_path, "models:\n  - id: m\n    window: 1h\nmonitors:\n"
                        "  - {name: d, model: m, features: [x], window: 1h,\n"
                        "     reference: {kind: seasonal, period: 1d, windows: 47}}\n")
    assert load_config(p, environ={}).monitors[0].reference.width == 47


def test_an_empty_driftscope_config_is_unset(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """It named the directory ".": every command failed with 'Is a directory'."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "kafka: {topic: mine}\n")  # ./driftscope.yaml
    assert load_config(environ={"DRIFTSCOPE_CONFIG": ""}).kafka.topic == "mine"


def test_a_models_task_is_its_monitors_performance_task() -> None:
    """`task: regression` on a model was read by nothing: its monitors computed accuracy,
    and `metrics: [mae]` was refused as "not computed for task classification"."""
    from driftscope.config import Config

    def load(perf: dict[str, object]) -> Config:
        return Config.model_validate({
            "models": [{"id": "m", "task": "regression"}],
            "monitors": [{"name": "a", "model": "m", "features": ["x"], "performance": perf}]})

    assert load({"prediction": "y"}).monitors[0].performance.chosen() == ["mae", "rmse"]
    assert load({"prediction": "y", "metrics": ["mae"]}).monitors[0].performance.task \
        == "regression"
    with pytest.raises(ValueError, match=r"performance\.task is classification, but model .m. "
                                         "is a regression model"):
        load({"prediction": "y", "task": "classification"})
