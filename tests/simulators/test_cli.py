"""`driftscope simulate --list`, errors as one line, and a quick `evaluate`."""

from __future__ import annotations

import re
import time

import pytest
from typer.testing import CliRunner

from driftscope.broker import free_port
from driftscope.cli import app
from driftscope.errors import DriftscopeError
from driftscope.simulators.scenarios import list_scenarios

runner = CliRunner()


def test_simulate_list() -> None:
    for args in (["simulate", "--list"], ["simulate", "list"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        for name in list_scenarios():
            assert name in result.output
        assert "sources: breast_cancer" in result.output


def test_simulate_without_scenario_explains() -> None:
    result = runner.invoke(app, ["simulate"])
    assert result.exit_code != 0
    assert "name a scenario" in str(result.exception)


def test_simulate_sends_to_the_broker(broker, topic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "driftscope.yaml"
    cfg.write_text(f"kafka:\n  topic: {topic}\n")
    result = runner.invoke(
        app,
        [
            "simulate",
            "instantaneous-unit",
            "--events",
            "100",
            "--rate",
            "0",
            "--seed",
            "1",
            "--bootstrap",
            broker.bootstrap,
            "--config",
            str(cfg),
        ],
    )
    assert result.exit_code == 0, result.output
    # (one count of one thing: "100 events", then "delivered 200 events", read as twice)
    assert "100 predictions and their labels, as fast as Kafka takes them" in result.output
    assert "delivered 100 predictions (" in result.output, result.output
    assert "and 100 labels to" in result.output
    assert "by version" not in result.output  # (no canary unless asked)


def test_simulate_a_canary_says_what_it_served(broker, topic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "driftscope.yaml"
    cfg.write_text(f"kafka:\n  topic: {topic}\n")
    result = runner.invoke(app, ["simulate", "no-drift", "--events", "2000", "--rate", "0",
                                 "--canary", "0.2", "--bootstrap", broker.bootstrap,
                                 "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    said = re.search(r"\((\d+) by version 2, accuracy (0\.\d+)\).*; accuracy (0\.\d+)",
                     result.output)
    assert said, result.output
    served, canary, overall = int(said[1]), float(said[2]), float(said[3])
    assert 150 < served < 250  # (a fifth of the 1,000 events from the onset)
    assert canary < overall - 0.1, result.output


def test_simulate_ending_now_places_the_stream_before_the_current_time(  # type: ignore[no-untyped-def]
    broker, topic, tmp_path
) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from kafka import KafkaConsumer, TopicPartition

    cfg = tmp_path / "driftscope.yaml"
    cfg.write_text(f"kafka:\n  topic: {topic}\n")
    args = ["simulate", "no-drift", "--events", "50", "--rate", "0",
            "--bootstrap", broker.bootstrap, "--config", str(cfg)]
    bad = runner.invoke(app, [*args, "--start", "yesterday"])
    assert bad.exit_code != 0 and "--start: expected an ISO time" in str(bad.exception)
    result = runner.invoke(app, [*args, "--start", "ending-now"])
    assert result.exit_code == 0, result.output
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=3000)
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    events = [json.loads(m.value) for m in consumer]
    consumer.close()
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in events if "features" in e]
    assert len(stamps) == 50
    now = datetime.now(UTC)
    # 1,000 events per simulated hour: 50 events span 3 minutes, ending now
    assert now - timedelta(minutes=4) < min(stamps) < now - timedelta(minutes=2)
    assert now - timedelta(minutes=1) < max(stamps) <= now


def test_evaluate_quick_reports_the_bar_columns_and_refuses_a_bad_period(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "eval.md"
    result = runner.invoke(app, ["evaluate", "--suite", "quick", "--sizes", "500", "--trials",
                                 "1", "--span", "2", "--output", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("Onsets and bursts at the start of their window (the best case); "
                           "gradual ramps 2 windows; seed 0.")
    assert "| instantaneous-covariate | high | default | 1 | 2/2 | 1 | 1 |" in text
    assert "| no-drift | none | default | fixed | 500 |" in text
    bad = runner.invoke(app, ["evaluate", "--period", "2d"])
    assert str(bad.exception) == "--period: 1d or 1w, got '2d'"  # (it named --span too)


def _one_line_error(args: list[str]) -> str:
    """The error `driftscope ARGS` reports: a DriftscopeError is what main() prints as one
    line with exit code 2; anything else would be a traceback."""
    result = runner.invoke(app, args)
    assert isinstance(result.exception, DriftscopeError), (args, repr(result.exception))
    message = str(result.exception)
    assert message and "\n" not in message
    return message


def test_simulate_rate_0_needs_a_count_of_events() -> None:
    message = _one_line_error(["simulate", "no-drift", "--rate", "0"])
    assert "--rate 0" in message and "--events" in message
    help_text = runner.invoke(app, ["simulate", "--help"]).output
    assert "needs --events" in help_text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["simulate", "no-drift", "--duration", "abc"], "--duration"),
        (["simulate", "no-drift", "--events", "10", "--duration", "abc"], "--duration"),
        (["simulate", "no-drift", "--rate", "inf"], "--rate"),
        (["simulate", "no-drift", "--speed", "0"], "--speed"),
        (["simulate", "no-drift", "--rate", "-5"], "--rate"),
        (["simulate", "no-drift", "--events", "0"], "--events"),
        (["simulate", "no-drift", "--label-delay", "-1"], "--label-delay"),
        (["simulate", "no-drift", "--canary", "1.5"], "--canary: a share of the events"),
        (["simulate", "no-drift", "--canary", "nan"], "--canary: a share of the events"),
        (["simulate", "no-drift", "--canary", "0.1", "--canary-bug", "unit"],
         "--canary-bug: one of pipeline, units, got 'unit'"),
        (["simulate", "no-drift", "--canary-bug", "units"],
         "--canary-bug units: there is no canary; set --canary SHARE"),
        (["simulate", "no-drift", "--events", "100", "--onset", "100", "--canary", "0.1"],
         "the canary would serve none"),
        (["simulate", "no-drift", "--rate", "0.001", "--duration", "1s"], "no events"),
        (["evaluate", "--suite", "nope"], "--suite"),
        (["evaluate", "--sizes", "0"], "--sizes"),
        (["evaluate", "--sizes", "100,-5"], "--sizes"),
        (["evaluate", "--trials", "0"], "--trials"),
    ],
)
def test_bad_numbers_and_names_are_one_line_errors(args: list[str], says: str) -> None:
    assert says in _one_line_error(args)


def test_evaluate_help_lists_every_suite() -> None:
    text = " ".join(runner.invoke(app, ["evaluate", "--help"]).output.split())
    for name in ("bar", "full", "silent", "quick"):
        assert name in text


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (["--intensity", "extreme"], "unknown intensity"),
        (["--onset", "1.5"], "onset"),
        (["--source", "nope"], "unknown source"),
    ],
)
def test_simulate_checks_its_options_before_connecting_to_kafka(
    option: list[str], says: str
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    start = time.monotonic()
    message = _one_line_error(["simulate", "no-drift", "--events", "10", "--rate", "0",
                               "--bootstrap", dead, *option])
    assert says in message
    assert time.monotonic() - start < 10  # not after the logger gave up on the broker


def test_ctrl_c_says_what_kafka_acknowledged(broker, topic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """It exited 130 with nothing said, though what it had handed over was sent."""
    import signal
    import subprocess
    import sys

    cfg = tmp_path / "driftscope.yaml"
    cfg.write_text(f"kafka:\n  topic: {topic}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "driftscope.cli", "simulate", "no-drift", "--rate", "200",
         "--duration", "10m", "--bootstrap", broker.bootstrap, "--config", str(cfg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(8)  # started, and sending
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out + err
    line = [s for s in err.splitlines() if s.startswith("interrupted:")]
    assert len(line) == 1 and "Traceback" not in err, err
    sent, queued = (int(v) for v in re.findall(r"acknowledged (\d+) of the (\d+) events",
                                               line[0])[0])
    assert 0 < sent == queued, line
