"""Options of `simulate`, `evaluate` and benchmarks/accuracy.py are checked before any
work, each bad one a one-line error (found in review: an unknown detector was refused
only after the suite before it had run, a negative seed was a traceback, an onset past
the stream's end gave no drift, and a zero seasonal width ran against no cycle)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from driftscope.cli import app
from driftscope.errors import ConfigError, DriftscopeError
from driftscope.simulators.evaluate import EvalConfig, Harness, run_suite
from driftscope.simulators.report import suite
from driftscope.simulators.scenarios import get_scenario

from .test_cli import _one_line_error

runner = CliRunner()
ACCURACY = Path(__file__).parents[2] / "benchmarks" / "accuracy.py"


def _no_work(*_: Any, **__: Any) -> Any:
    raise AssertionError("work began before every option was checked")


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any scenario run, or any attempt to reach Kafka, fails the test."""
    monkeypatch.setattr(Harness, "drift", _no_work)
    monkeypatch.setattr(Harness, "silent", _no_work)
    monkeypatch.setattr("driftscope.simulators.delivery.deliver", _no_work)


def _accuracy() -> ModuleType:
    spec = importlib.util.spec_from_file_location("accuracy", ACCURACY)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _accuracy_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What benchmarks/accuracy.py ARGS says: exit code 2 and one line on stderr."""
    assert _accuracy().main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# 1. detector names


def test_run_suite_checks_every_detector_name_before_running_any() -> None:
    drift, silent = suite("quick")
    for names, says in ((["default", "nosuch"], "'nosuch'"), (["default", ""], "empty")):
        with pytest.raises(DriftscopeError, match=says):
            run_suite(EvalConfig(), names, drift, silent, _no_work)


def test_detector_names_strips_and_refuses_empty_unknown_and_multivariate() -> None:
    from driftscope.simulators.evaluate import detector_names

    assert detector_names("default, ks") == ["default", "ks"]
    for text, says in (("default,", "empty"), (",ks", "empty"), ("nosuch", "'nosuch'"),
                       ("mmd", "multivariate")):
        with pytest.raises(ConfigError, match=says) as exc:
            detector_names(text)
        assert "valid names: default, " in str(exc.value)


@pytest.mark.parametrize(("detectors", "says"), [("default,nosuch", "'nosuch'"),
                                                 ("default,", "empty")])
@pytest.mark.usefixtures("no_work")
def test_evaluate_refuses_a_bad_detector_before_any_work(detectors: str, says: str) -> None:
    message = _one_line_error(["evaluate", "--detectors", detectors, "--suite", "silent",
                               "--sizes", "1000"])
    assert says in message and message.startswith("--detectors")


@pytest.mark.parametrize(("detectors", "says"), [("default,nosuch", "'nosuch'"),
                                                 ("default,", "empty")])
@pytest.mark.usefixtures("no_work")
def test_accuracy_refuses_a_bad_detector_before_any_work(
    detectors: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert says in _accuracy_error(["--detectors", detectors, "--suite", "quick"], capsys)


# 2. negative seeds


@pytest.mark.usefixtures("no_work")
def test_a_negative_seed_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--seed" in _one_line_error(["simulate", "no-drift", "--events", "10", "--rate",
                                        "0", "--seed", "-1"])
    assert "--seed" in _one_line_error(["evaluate", "--suite", "quick", "--seed", "-1"])
    assert "seed" in _accuracy_error(["--suite", "quick", "--seed", "-1"], capsys)


@pytest.mark.parametrize("args", [["--rate", "1e12", "--duration", "2s"],
                                  ["--events", "1000000000000", "--rate", "0"]])
@pytest.mark.usefixtures("no_work")
def test_a_stream_too_large_to_build_is_a_one_line_error(args: list[str]) -> None:
    """The stream is built in memory before it is sent: a typo in --rate was a traceback
    (numpy's allocation error for 14.6 TiB), or a machine brought to its knees."""
    says = _one_line_error(["simulate", "no-drift", *args])
    assert "2,000,000,000,000 events" in says or "1,000,000,000,000 events" in says
    assert "GiB" in says and "send fewer per run" in says


def test_stream_bytes_covers_what_a_stream_took() -> None:
    """The estimate against ru_maxrss measured over 200,000 to 1,000,000 events."""
    from driftscope.simulators.commands import stream_bytes

    for columns, measured in ((8, 482), (30, 882), (64, 1692)):
        assert measured <= stream_bytes(columns) <= 1.3 * measured


# 3. onsets, bursts and ramps that the stream does not hold


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["no-drift", "--events", "100", "--onset", "100"], None),  # no-drift ignores it
        (["instantaneous-covariate", "--events", "600", "--onset", "600"], "no drift"),
        (["instantaneous-covariate", "--events", "600", "--onset", "1.0"], "no drift"),
        (["temporary-covariate", "--events", "600"], "burst of 1000 events"),
        # a --rate × --duration stream has its number of events too: 10 × 60 s
        (["temporary-covariate", "--rate", "10", "--duration", "60s"], "600 events"),
        (["gradual-covariate", "--events", "1000", "--onset", "0.9"], "ramp of 200 events"),
    ],
)
@pytest.mark.usefixtures("no_work")
def test_simulate_refuses_an_onset_the_stream_does_not_hold(
    args: list[str], says: str | None
) -> None:
    result = runner.invoke(app, ["simulate", *args])
    if says is None:  # it went on to send: the fixture stopped it there
        assert isinstance(result.exception, AssertionError), repr(result.exception)
        assert "before every option was checked" in str(result.exception)
    else:
        assert says in _one_line_error(["simulate", *args])


def test_check_fits_names_the_numbers_and_the_fix() -> None:
    temporary = get_scenario("temporary-covariate")
    temporary.check_fits(4000, 0.5)  # burst 2000 to 3000: ends inside
    temporary.check_fits(1500, 500)  # ends with the last event
    with pytest.raises(ConfigError) as exc:
        temporary.check_fits(600, 0.5)
    message = str(exc.value)
    assert "(event 300)" in message and "600 events" in message
    assert message.endswith("send at least 2000 events")  # at onset 0.5, 1000 + 1000
    with pytest.raises(ConfigError, match="event 100 at the latest or send at least 800 "):
        temporary.with_(burst=500).check_fits(600, 300)
    gradual = get_scenario("gradual-covariate")
    gradual.check_fits(1000, 0.8)  # the ramp of 200 events reaches 1 at the last event
    with pytest.raises(ConfigError, match="never reaches full weight") as exc:
        gradual.check_fits(1000, 801)
    assert str(exc.value).endswith("event 800 at the latest or send at least 1001 events")
    with pytest.raises(ConfigError, match=r"event 800 at the latest$"):  # both fractions
        gradual.check_fits(1000, 0.9)
    get_scenario("periodic-covariate").check_fits(10, 10)  # the onset is ignored


# 4. harness settings below 1


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"seasonal_width": 0}, "seasonal_width"),
        ({"gradual_span_windows": 0}, "gradual_span_windows"),
        ({"sizes": (0,)}, "sizes"),
        ({"sizes": (500, -1)}, "sizes"),
        ({"sizes": ()}, "sizes"),
        ({"trials": 0}, "trials"),
        ({"seed": -1}, "seed"),
        ({"source": "nosuch"}, "unknown source 'nosuch'"),
    ],
)
def test_eval_config_refuses_settings_below_their_minimum(
    change: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigError, match=says) as exc:
        EvalConfig(**change)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--seasonal-width", "0"], "seasonal_width"),
        (["--span", "0"], "gradual_span_windows"),
        (["--sizes", "0"], "sizes"),
        (["--sizes", "100,x"], "--sizes"),
        (["--trials", "0"], "trials"),
        (["--source", "nosuch"], "unknown source 'nosuch'"),
    ],
)
@pytest.mark.usefixtures("no_work")
def test_accuracy_refuses_settings_below_their_minimum(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert says in _accuracy_error(["--suite", "quick", *args], capsys)


# 5. the drift's shape: --span, --burst, --period


class _Sent(Exception):
    """What simulate would have sent: the app it built."""


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    apps: list[Any] = []

    def record(app_: Any, *_: Any, **__: Any) -> Any:
        apps.append(app_)
        raise _Sent

    monkeypatch.setattr("driftscope.simulators.delivery.deliver", record)
    return apps


@pytest.mark.parametrize(("args", "onset", "weights"), [
    # a ramp of 300 events from event 100: half way at event 249, whole from 399 on
    (["gradual-covariate", "--span", "300"], 100, {99: 0.0, 249: 0.5, 399: 1.0, 999: 1.0}),
    # a burst of a tenth of the stream from its middle
    (["temporary-covariate", "--burst", "0.1"], 0.5, {499: 0.0, 500: 1.0, 599: 1.0, 600: 0.0}),
])
def test_simulate_shapes_the_drift_as_asked(sent: list[Any], args: list[str], onset: float,
                                            weights: dict[int, float]) -> None:
    result = runner.invoke(app, ["simulate", *args, "--onset", str(onset), "--events", "1000",
                                 "--rate", "0"])
    assert isinstance(result.exception, _Sent), repr(result.exception)
    w = sent[0].scenario.weights(1000, onset)
    assert {i: round(float(w[i]), 3) for i in weights} == weights


def test_simulate_takes_a_weekly_cycle(sent: list[Any]) -> None:
    result = runner.invoke(app, ["simulate", "periodic-covariate", "--period", "1w",
                                 "--events", "100", "--rate", "0"])
    assert isinstance(result.exception, _Sent), repr(result.exception)
    assert sent[0].scenario.period.days == 7


@pytest.mark.parametrize(("args", "says"), [
    (["instantaneous-covariate", "--span", "300"],
     "--span shapes gradual scenarios; instantaneous-covariate is instantaneous"),
    (["gradual-covariate", "--burst", "10"], "--burst shapes temporary scenarios"),
    (["gradual-covariate", "--span", "abc"], "--span: expected a fraction like 0.5 or a num"),
    (["gradual-covariate", "--span", "0"], "--span: the ramp must last at least one event"),
    (["temporary-covariate", "--burst", "-3"], "--burst: the burst must last at least one"),
    (["temporary-covariate", "--burst", "0.0001"], "is no event"),  # (0.1 of 1,000 events)
    (["periodic-covariate", "--period", "0s"], "--period: must be more than 0"),
    (["periodic-covariate", "--period", "weekly"], "--period: expected a duration"),
    # the ramp asked for must end within the stream: 600 events from event 500 of 1,000
    (["gradual-covariate", "--span", "600"], "ramp of 600 events"),
])
@pytest.mark.usefixtures("no_work")
def test_simulate_refuses_a_shape_it_cannot_give(args: list[str], says: str) -> None:
    assert says in _one_line_error(["simulate", *args, "--events", "1000", "--rate", "0"])
