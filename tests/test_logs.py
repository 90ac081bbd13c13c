"""A Kafka client retrying a broker that does not answer logs one line a minute, not one
per attempt; every other logger is left alone."""

from __future__ import annotations

import logging

from typer.testing import CliRunner

from driftscope.cli import app
from driftscope.logs import OncePerInterval


def _record(name: str, msg: str = "Connection lost: %s") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, "", 0, msg, ("refused",), None)


def test_the_same_kafka_error_passes_once_a_minute() -> None:
    t = [0.0]
    f = OncePerInterval(60.0, "kafka", clock=lambda: t[0])
    seen = []
    for second in range(0, 150, 1):  # an attempt a second for 150 s
        t[0] = float(second)
        seen.append(f.filter(_record("kafka.net.connection")))
    assert sum(seen) == 3  # at 0, 60 and 120 s
    assert f.filter(_record("kafka.net.connection", "another error %s"))  # its own line
    assert all(f.filter(_record("driftscope.collector")) for _ in range(5))


def test_the_command_line_installs_it_on_the_log_handlers() -> None:
    assert CliRunner().invoke(app, ["version"]).exit_code == 0
    assert any(isinstance(f, OncePerInterval) and f.prefix == "kafka"
               for h in logging.getLogger().handlers for f in h.filters)
