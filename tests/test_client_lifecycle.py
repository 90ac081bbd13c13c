"""PredictionLogger where an application's life gets in the way: a fork after it was made,
options Kafka refuses, a broker that stops answering before close(), an interpreter that
exits without close(), and values straight from numpy and pandas (a review's findings)."""

from __future__ import annotations

import json
import logging
import multiprocessing
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pandas as pd
import pytest
from kafka import KafkaConsumer

from driftscope.broker import LocalBroker
from driftscope.client import PredictionLogger
from driftscope.events import PredictionEvent


def _received(bootstrap: str, topic: str, want: int) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=5000)
    out = []
    for msg in consumer:
        out.append(json.loads(msg.value))
        if len(out) == want:
            break
    consumer.close()
    return out


def _child(logger: PredictionLogger) -> None:
    for i in range(20):
        logger.log("forked", {"x": float(i)}, {"p": 0.5})
    logger.close(30)
    sys.exit(0 if logger.stats.sent == 20 else 1)


def test_a_logger_made_before_a_fork_sends_from_the_child(broker: LocalBroker, topic: str) -> None:
    """gunicorn --preload, uwsgi, multiprocessing: the parent's sender thread does not
    come along into the child. Before, the child's events were queued and never sent."""
    logger = PredictionLogger(broker.bootstrap, topic=topic)
    logger.log("parent", {"x": 1.0}, {"p": 0.5})
    assert logger.flush(30)
    child = multiprocessing.get_context("fork").Process(target=_child, args=(logger,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    logger.close()
    models = [e["model_id"] for e in _received(broker.bootstrap, topic, 21)]
    assert models.count("forked") == 20 and models.count("parent") == 1


def test_options_kafka_refuses_count_every_event_as_failed(
    caplog: pytest.LogCaptureFixture
) -> None:
    """A typo in client_options (or a codec not installed) killed the sender thread: the
    logger went on accepting events it never sent, counted nowhere but ``queued``."""
    with caplog.at_level(logging.ERROR, logger="driftscope.client"):
        logger = PredictionLogger("127.0.0.1:9", client_options={"compresion_type": "gzip"})
        for i in range(3):
            logger.log("m", {"x": float(i)}, {"p": 0.5})
        assert logger.flush(10)
        logger.close(5)
    assert logger.stats.failed == 3 and logger.stats.sent == 0
    assert any("cannot create the Kafka producer" in r.getMessage() for r in caplog.records)


def test_what_kafka_never_acknowledged_is_counted_lost_at_close() -> None:
    """The broker stops after the first events: close() returns within its timeout and
    every event is sent or counted lost. Before, events handed to kafka-python but never
    acknowledged were counted nowhere (``lost`` said 0)."""
    local = LocalBroker().start()
    logger = PredictionLogger(local.bootstrap, topic="lifecycle",
                              client_options={"request_timeout_ms": 1000})
    try:
        for i in range(3):
            logger.log("m", {"x": float(i)}, {"p": 0.5})
        assert logger.flush(30) and logger.stats.sent == 3
    finally:
        local.stop()
    for i in range(20):
        logger.log("m", {"x": float(i)}, {"p": 0.5})
    logger.close(3)
    s = logger.stats
    assert s.queued == 23 and s.sent + s.failed + s.dropped == 23 and s.lost == 20, s


def test_an_interpreter_exiting_without_close_sends_what_it_holds(
    broker: LocalBroker, topic: str
) -> None:
    """A module-level logger is rarely closed: at exit it sends what it holds (for at most
    a few seconds). Before, the daemon thread died with the queue: 0 of 200 arrived."""
    code = textwrap.dedent(f"""
        from driftscope.client import PredictionLogger
        logger = PredictionLogger({broker.bootstrap!r}, topic={topic!r})
        for i in range(200):
            logger.log("exiting", {{"x": float(i)}}, {{"p": 0.5}})
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert len(_received(broker.bootstrap, topic, 200)) == 200


def test_numpy_and_pandas_values_are_sent_as_python_ones() -> None:
    """A row from a data frame: np.bool_ became 1.0 (then the same feature as a Python bool
    was a type change, and a label "1" never matched feedback "true"), a NaN label dropped
    the whole prediction, a Series of features was refused."""
    sent: list[PredictionEvent] = []
    logger = PredictionLogger("127.0.0.1:9", close_timeout=0.1)
    logger.send = lambda event: sent.append(event) or True  # type: ignore[method-assign]
    row = pd.DataFrame({"age": [41], "vip": [True], "plan": ["pro"]}).iloc[0]
    assert logger.log("m", row, {"churn": np.bool_(True), "proba": np.array([0.2, 0.8])},
                      label=np.float64("nan")) is not None
    assert logger.log("m", {"n": np.int64(3)}, {"p": np.float32(0.5)}, label=np.bool_(False))
    logger.close()
    first, second = (json.loads(e.model_dump_json()) for e in sent)
    assert first["features"] == {"age": 41, "vip": True, "plan": "pro"}
    assert first["predictions"] == {"churn": True, "proba": [0.2, 0.8]}
    assert first.get("label") is None
    assert second["features"] == {"n": 3} and second["label"] is False
