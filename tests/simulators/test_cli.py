"""`driftscope simulate --list`, errors as one line, and a quick `evaluate`."""

from __future__ import annotations

from typer.testing import CliRunner

from driftscope.cli import app
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
    assert "sent 100 predictions" in result.output and "lost 0" in result.output
