"""PredictionLogger when kafka-python has no metadata for the topic: the broker gone (or
hung) after the producer was made but before the first event was sent. kafka-python's
``producer.send`` then waits for the metadata for ``max_block_ms``, 60 s by its default: the
sender stayed stuck there for 50 s after close(5) had returned, and each wait that ran out
failed an event ("Failed to update metadata after 60.0 secs") that an outage should only
have delayed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaProducer

from driftscope.broker import LocalBroker
from driftscope.client import PredictionLogger


@pytest.fixture
def producer_made(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Set once a logger's sender has made its producer (reached the broker)."""
    made = threading.Event()
    real = KafkaProducer.__init__

    def init(self: KafkaProducer, **configs: Any) -> None:
        real(self, **configs)
        made.set()

    monkeypatch.setattr(KafkaProducer, "__init__", init)
    yield made


def _gone_before_the_first_event(
    made: threading.Event, **options: Any
) -> tuple[PredictionLogger, LocalBroker]:
    """A logger whose producer reached the broker, which then stopped: no event was sent,
    so kafka-python has no metadata for the topic."""
    local = LocalBroker().start()
    try:
        logger = PredictionLogger(local.bootstrap, topic="no-metadata", **options)
        assert made.wait(20)
    finally:
        local.stop()
    return logger, local


def test_a_sender_waiting_for_metadata_does_not_outlive_close(
    producer_made: threading.Event,
) -> None:
    """close(2) returned in time, but its sender sat in producer.send's metadata wait for
    another ~55 s (kafka-python's 60-s max_block_ms)."""
    logger, _ = _gone_before_the_first_event(producer_made)
    worst = 0.0
    for i in range(5):
        started = time.monotonic()
        logger.log("m", {"x": float(i)}, {"p": 0.5})
        worst = max(worst, time.monotonic() - started)
    assert worst < 1.0, worst
    time.sleep(1.5)  # (the sender is waiting for the topic's metadata)
    started = time.monotonic()
    assert not logger.flush(1)
    logger.close(2)
    assert time.monotonic() - started < 10
    thread = logger._thread
    assert thread is not None
    thread.join(15)  # (it used to take about 55 s more)
    assert not thread.is_alive()
    s = logger.stats
    assert (s.queued, s.sent, s.failed, s.dropped) == (5, 0, 0, 5), s


def test_events_waiting_for_metadata_through_an_outage_are_delivered_not_failed(
    producer_made: threading.Event,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each metadata wait that ran out (max_block_ms: 60 s by default, 0.5 s here) counted
    an event failed, "Kafka did not take an event: KafkaTimeoutError". The events wait,
    are delivered once the broker is back, and the logger says what it waits for."""
    monkeypatch.setattr("driftscope.client.STALLED_AFTER", 1.0)
    with caplog.at_level(logging.WARNING, logger="driftscope.client"):
        logger, local = _gone_before_the_first_event(
            producer_made, client_options={"max_block_ms": 500})
        for i in range(10):
            logger.log("m", {"x": float(i)}, {"p": 0.5})
        time.sleep(3.5)  # (several of kafka-python's metadata waits run out)
        assert logger.stats.lost == 0, logger.stats
        again = LocalBroker(port=local.port).start()
        try:
            assert logger.flush(45), logger.stats
            logger.close(5)
        finally:
            again.stop()
    s = logger.stats
    assert (s.sent, s.lost) == (10, 0), s
    ours = [r.getMessage() for r in caplog.records if r.name == "driftscope.client"]
    assert not any("did not take an event" in m for m in ours), ours
    assert any("no metadata for topic 'no-metadata'" in m for m in ours), ours
