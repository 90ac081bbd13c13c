"""PredictionLogger through a broker outage, and the inputs a review found mishandled: the
queue bounds held only the logger's own queue (kafka-python's buffer grew without limit),
kafka-python expired an outage's events after 120 s, the sender flushed once per event,
a NaN prediction dropped its event, a pandas Series of segments raised into the caller,
kafka-python filled the app's log while the broker was down, and log_feedback() said
nothing of what became of the label."""

from __future__ import annotations

import gc
import json
import logging
import time
import tracemalloc
from typing import Any

import pandas as pd
import pytest
from kafka import KafkaProducer

from driftscope.broker import LocalBroker, free_port
from driftscope.client import PredictionLogger


def _down_after_first_event(**options: Any) -> tuple[PredictionLogger, LocalBroker]:
    """A logger whose broker acknowledged one event, then stopped."""
    local = LocalBroker().start()
    logger = PredictionLogger(local.bootstrap, topic="outage", **options)
    try:
        logger.log("m", {"x": 0.0}, {"p": 0.5})
        assert logger.flush(30) and logger.stats.sent == 1
    finally:
        local.stop()
    return logger, local


def test_max_queue_bounds_what_kafka_python_holds_once_the_broker_goes_down() -> None:
    """The count limit held the logger's queue only: the sender kept handing events to
    kafka-python, where 284,830 piled up against max_queue=100,000."""
    logger, _ = _down_after_first_event(max_queue=200,
                                        client_options={"request_timeout_ms": 1000})
    for round_ in range(8):  # the app goes on; the sender has time to hand events over
        for i in range(150):
            logger.log("m", {"x": float(i)}, {"p": 0.5})
        time.sleep(0.3)
        s = logger.stats
        assert s.queued - s.sent - s.failed - s.dropped <= 200, (round_, s)
    s = logger.stats
    assert s.queued <= 201 and s.queued + s.rejected == 1201, s
    logger.close(1.0)
    assert s.sent == 1 and s.sent + s.failed + s.dropped == s.queued, s


def test_max_queue_bytes_bounds_the_memory_an_outage_holds() -> None:
    """max_queue_bytes counted the events' JSON only: what kafka-python holds per event
    (its future, callbacks, batch entry) made an outage hold several times the budget
    (RSS +433 MiB against the documented 64 MiB)."""
    budget = 2 << 20
    logger, _ = _down_after_first_event(max_queue_bytes=budget,
                                        client_options={"request_timeout_ms": 1000})
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(20_000):
            logger.log("m", {"x": float(i), "plan": "pro", "n": i}, {"p": 0.5})
        time.sleep(1.5)  # (everything admitted handed over to kafka-python)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    s = logger.stats
    assert s.rejected > 0, s
    assert held <= budget * 1.1, (held, s)
    logger.close(0.5)
    assert s.sent + s.failed + s.dropped == s.queued, s


def test_events_kafka_python_expires_are_counted_dropped_and_expired_not_failed() -> None:
    """With a short delivery_timeout_ms of the caller's (the logger's own is weeks, so
    that the queue bounds decide what an outage loses), what kafka-python gives up on is
    dropped for time, counted apart as expired, not failed (Kafka refused nothing)."""
    logger, _ = _down_after_first_event(client_options={
        "request_timeout_ms": 500, "delivery_timeout_ms": 1000})
    for i in range(20):
        logger.log("m", {"x": float(i)}, {"p": 0.5})
    deadline = time.monotonic() + 20
    while logger.stats.expired < 20 and time.monotonic() < deadline:
        time.sleep(0.1)
    logger.close(1.0)
    s = logger.stats
    assert s.expired == 20 and s.dropped == 20 and s.failed == 0, s
    assert s.sent + s.failed + s.dropped == s.queued == 21, s


def test_an_outage_is_ridden_out_told_once_and_delivered_after(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events logged while the broker is down wait (none counted lost), the logger says
    once that Kafka acknowledges nothing, and once that it does again."""
    monkeypatch.setattr("driftscope.client.STALLED_AFTER", 1.0)
    with caplog.at_level(logging.WARNING):
        logger, local = _down_after_first_event(client_options={"request_timeout_ms": 1000})
        for i in range(30):
            logger.log("down", {"x": float(i)}, {"p": 0.5})
            time.sleep(0.1)
        time.sleep(1.5)
        assert logger.stats.lost == 0 and logger.stats.sent == 1, logger.stats
        again = LocalBroker(port=local.port).start()
        try:  # (acknowledged by the broker back on its port)
            assert logger.flush(60), logger.stats
            logger.close(5)
        finally:
            again.stop()
    assert logger.stats.sent == 31 and logger.stats.lost == 0, logger.stats
    ours = [r.getMessage() for r in caplog.records if r.name == "driftscope.client"]
    assert sum("acknowledged nothing for" in m for m in ours) == 1, ours
    assert sum("acknowledges events again" in m for m in ours) == 1, ours


def test_kafka_pythons_loggers_are_quiet_while_a_logger_is_open(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker down from the start: kafka-python wrote about 20 ERROR lines a minute
    beside driftscope's one. They are silenced while a logger is open, and kafka-python's
    loggers are as the app set them once every logger is closed."""
    monkeypatch.setattr("driftscope.client.STALLED_AFTER", 1.0)
    kafka_log = logging.getLogger("kafka")
    kafka_log.setLevel(logging.INFO)
    try:
        dead = f"127.0.0.1:{free_port()}"
        with caplog.at_level(logging.WARNING):
            first = PredictionLogger(dead, client_options={"reconnect_backoff_ms": 10})
            second = PredictionLogger(dead, client_options={"reconnect_backoff_ms": 10})
            for i in range(30):
                first.log("m", {"x": float(i)}, {"p": 0.5})
                time.sleep(0.1)
            first.close(0.2)
            assert kafka_log.level != logging.INFO  # (the second is still open)
            second.close(0.2)
            for logger in (first, second):  # (given back when the last sender has ended:
                assert logger._thread is not None  # one may still be in a first contact)
                logger._thread.join(8.0)
        assert kafka_log.level == logging.INFO
        kafka_lines = [r for r in caplog.records if r.name.startswith("kafka")]
        assert kafka_lines == [], [(r.name, r.getMessage()) for r in kafka_lines[:3]]
        ours = [r.getMessage() for r in caplog.records if r.name == "driftscope.client"]
        assert sum(f"Kafka ({dead}) acknowledged nothing" in m for m in ours) == 1, ours
    finally:
        kafka_log.setLevel(logging.NOTSET)


def test_the_sender_leaves_batching_to_linger_and_flush_still_delivers_at_once(
    broker: LocalBroker, topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender called producer.flush() each time its queue was empty: once per event at
    a few hundred a second (a produce request each, 2-3× the CPU). It flushes only for
    flush() and close(), which still deliver without waiting for linger_ms."""
    calls = []
    real = KafkaProducer.flush

    def counted(self: KafkaProducer, timeout: float | None = None) -> None:
        calls.append(timeout)
        real(self, timeout)

    monkeypatch.setattr(KafkaProducer, "flush", counted)
    logger = PredictionLogger(broker.bootstrap, topic=topic)
    logger.log("m", {"x": 0.0}, {"p": 0.5})
    assert logger.flush(30)
    calls.clear()
    for i in range(100):
        logger.log("m", {"x": float(i)}, {"p": 0.5})
        time.sleep(0.005)
    time.sleep(0.5)  # (kafka-python sent them after linger_ms)
    assert calls == [] and logger.stats.sent == 101, (len(calls), logger.stats)
    logger.close()
    # a long linger_ms: flush() and close() do not wait for it
    with PredictionLogger(broker.bootstrap, topic=topic, linger_ms=120_000) as slow:
        slow.log("m", {"x": 1.0}, {"p": 0.5})
        assert slow.flush(20) and slow.stats.sent == 1
        slow.log("m", {"x": 2.0}, {"p": 0.5})
    assert slow.stats.sent == 2 and slow.stats.lost == 0


def test_a_missing_prediction_is_left_out_and_the_event_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A NaN prediction made the whole event invalid, with advice ("send null when
    missing") that was itself refused: None is no prediction value."""
    sent: list[Any] = []
    logger = PredictionLogger("127.0.0.1:9", close_timeout=0.1)
    logger.send = lambda event: sent.append(event) or True  # type: ignore[method-assign]
    import numpy as np

    with caplog.at_level(logging.WARNING, "driftscope.client"):
        for missing in (float("nan"), np.float64("nan"), None, pd.NA):
            assert logger.log("m", {"x": 1.0}, {"score": missing, "label": "yes"},
                              label="no") is not None
        assert logger.log("m", {"x": 1.0}, {"score": float("inf")}) is None
    logger.close()
    assert logger.stats.invalid == 1
    for event in sent:
        body = json.loads(event.model_dump_json())
        assert body["predictions"] == {"label": "yes"} and body["features"] == {"x": 1.0}
        assert body["label"] == "no"
    warning = next(r.getMessage() for r in caplog.records if "invalid event" in r.getMessage())
    assert "predictions.score: NaN or infinity is not allowed" in warning
    assert "send null" not in warning and "leave a missing prediction out" in warning


def test_segments_as_a_pandas_series_and_odd_inputs_never_raise() -> None:
    """``segments or {}`` raised ValueError (a Series has no truth value) into the
    request path."""
    sent: list[Any] = []
    logger = PredictionLogger("127.0.0.1:9", close_timeout=0.1)
    logger.send = lambda event: sent.append(event) or True  # type: ignore[method-assign]
    assert logger.log("m", {"x": 1.0}, {"p": 0.5},
                      segments=pd.Series({"country": "fr", "device": "ios"})) is not None
    assert logger.log("m", {"x": 1.0}, {"p": 0.5}, segments=pd.Series(dtype=str)) is not None

    class Broken(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            raise RuntimeError("boom")

    assert logger.log("m", {"x": 1.0}, {"p": 0.5}, segments=Broken()) is None
    assert logger.log("m", Broken(), {"p": 0.5}) is None
    logger.close()
    assert logger.stats.invalid == 2
    assert json.loads(sent[0].model_dump_json())["segments"] == {"country": "fr",
                                                                 "device": "ios"}
    assert json.loads(sent[1].model_dump_json())["segments"] == {}


def test_log_feedback_says_what_became_of_the_label() -> None:
    """log_feedback() returned None whatever happened: queued, refused or invalid."""
    logger = PredictionLogger(f"127.0.0.1:{free_port()}", close_timeout=0.1, max_queue=1)
    assert logger.log_feedback("m", "e-1", label=1) is True
    assert logger.log_feedback("m", "e-2", label=1) is False  # the queue is full
    assert logger.log_feedback("m", "", label=1) is None  # no event_id: invalid
    logger.close()
    assert logger.log_feedback("m", "e-3", label=1) is False  # closed
    s = logger.stats
    assert (s.queued, s.rejected, s.invalid) == (1, 2, 1), s


def test_a_logger_closed_while_kafka_is_unreachable_leaves_nothing_running_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its thread sat in kafka-python's 30-s first contact after close() had returned, and
    with kafka-python's loggers given back, wrote its reconnect ERRORs into the app's log
    (and into whichever test ran next)."""
    with caplog.at_level(logging.WARNING):
        logger = PredictionLogger(f"127.0.0.1:{free_port()}", close_timeout=0.5)
        logger.log("m", {"x": 1.0}, {"p": 0.5})
        time.sleep(1.0)  # (the sender is trying to reach the broker)
        logger.close()
        thread = logger._thread
        assert thread is not None
        thread.join(8.0)
        assert not thread.is_alive()
        time.sleep(0.5)
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("kafka")]
    assert logger.stats.dropped == 1


def test_what_close_counted_lost_is_not_reported_again_when_kafka_python_fails_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After close() had counted the unacknowledged events as dropped, kafka-python's
    forced close failed them, and the app read 'Kafka did not take an event: Producer is
    closed forcefully' after the summary."""
    logger, _ = _down_after_first_event(client_options={"request_timeout_ms": 1000})
    for i in range(50):
        logger.log("m", {"x": float(i)}, {"p": 0.5})
    time.sleep(0.5)
    with caplog.at_level(logging.WARNING, logger="driftscope.client"):
        logger.close(1.0)
        time.sleep(1.0)
    ours = [r.getMessage() for r in caplog.records if r.name == "driftscope.client"]
    assert len(ours) == 1 and "50 of 51 queued events not delivered" in ours[0], ours
    s = logger.stats
    assert (s.sent, s.dropped, s.failed) == (1, 50, 0), s
