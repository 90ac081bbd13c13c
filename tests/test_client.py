from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta, timezone

import pytest
from kafka import KafkaConsumer

from driftscope.broker import LocalBroker, free_port
from driftscope.client import PredictionLogger


def test_logged_events_arrive_keyed_by_event_id(broker: LocalBroker, topic: str) -> None:
    with PredictionLogger(broker.bootstrap, topic=topic) as logger:
        ids = [logger.log("m", {"x": i}, {"p": 0.5}) for i in range(200)]
        logger.log_feedback("m", str(ids[0]), label=1)
    assert logger.stats.sent == 201 and logger.stats.lost == 0
    consumer = KafkaConsumer(
        topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    seen: dict[str, set[int]] = {}
    received = 0
    for msg in consumer:
        body = json.loads(msg.value)
        assert msg.key.decode() == body["event_id"]
        seen.setdefault(body["event_id"], set()).add(msg.partition)
        received += 1
        if received == 201:
            break
    consumer.close()
    assert set(seen) == set(ids)
    assert len(seen[str(ids[0])]) == 1  # prediction and feedback share a partition


def test_invalid_input_is_counted_not_raised(
    broker: LocalBroker, topic: str, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("driftscope.client.WARN_EVERY", 0.0)  # each warning, to read them
    year1 = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    with caplog.at_level(logging.WARNING, "driftscope.client"):
        with PredictionLogger(broker.bootstrap, topic=topic) as logger:
            assert logger.log("m", {"x": [1, 2]}, {}) is None
            assert logger.log("", {"x": 1}, {}) is None
            assert logger.log("m", {"c": "\udcff"}, {}) is None  # UTF-8 cannot encode it
            assert logger.log("m", {}, {}, timestamp=year1) is None  # out of range
            logger.log_feedback("m", "e-1", label="\udcff")
    assert logger.stats.invalid == 5 and logger.stats.sent == 0
    warnings = [r.getMessage() for r in caplog.records if r.name == "driftscope.client"]
    assert len(warnings) == 5
    assert "features.x: expected a number" in warnings[0]
    assert "features.c: a lone surrogate" in warnings[2]
    assert "timestamp: " in warnings[3] and "1900" in warnings[3]
    assert "label: a lone surrogate" in warnings[4]


def test_nan_features_are_sent_as_missing_and_invalid_events_warn_once_a_minute(
    broker: LocalBroker, topic: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Found live: a DataFrame's NaN (pandas' missing value) made every such prediction
    invalid (dropped), with one warning line per request."""
    import numpy as np

    with caplog.at_level(logging.WARNING, "driftscope.client"):
        with PredictionLogger(broker.bootstrap, topic=topic) as logger:
            import pandas as pd

            ok = [logger.log("m", {"age": v, "plan": "a"}, {"p": 0.5})
                  for v in (float("nan"), np.float32("nan"), pd.NA, 41.0)]
            for _ in range(48):
                logger.log("m", {"age": [1]}, {})
            for bad in (None, [("age", 1.0)]):  # not a mapping: invalid, never raised
                assert logger.log("m", bad, {}) is None  # type: ignore[arg-type]
    assert None not in ok and logger.stats.sent == 4 and logger.stats.invalid == 50
    warnings = [r.getMessage() for r in caplog.records if r.name == "driftscope.client"]
    assert len(warnings) == 1 and "features.age: expected a number" in warnings[0]
    consumer = KafkaConsumer(topic, bootstrap_servers=broker.bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000)
    ages = sorted((json.loads(m.value)["features"]["age"] for m in consumer),
                  key=lambda a: -1 if a is None else a)
    consumer.close()
    assert ages == [None, None, None, 41.0]


def test_an_unreachable_broker_never_blocks_or_raises() -> None:
    dead = f"127.0.0.1:{free_port()}"
    logger = PredictionLogger(dead, max_queue=100, client_options={"request_timeout_ms": 1000})
    start = time.monotonic()
    for i in range(500):
        logger.log("m", {"x": i}, {"p": 0.1})
    elapsed = time.monotonic() - start
    assert elapsed < 2.0  # 500 calls: none waited on the broker
    assert logger.stats.dropped >= 400  # the bounded queue filled and counted the rest
    assert logger.flush(timeout=0.5) is False
    start = time.monotonic()
    logger.close(timeout=1.0)
    assert time.monotonic() - start < 3.0
    assert logger.stats.sent == 0
    assert logger.stats.lost == 500  # every event is accounted for as lost, none vanished


def test_leaving_the_with_block_waits_at_most_close_timeout() -> None:
    """An app shutting down while the broker does not answer: ``close_timeout`` bounds the
    wait (30 s by default), and what was not sent is counted as lost."""
    dead = f"127.0.0.1:{free_port()}"
    start = time.monotonic()
    with PredictionLogger(dead, close_timeout=1.0,
                          client_options={"request_timeout_ms": 1000}) as logger:
        logger.log("m", {"x": 1.0}, {"p": 0.1})
    assert time.monotonic() - start < 5.0
    assert logger.stats.sent == 0 and logger.stats.lost == 1


def test_kafka_pythons_network_loop_warns_of_stalls_not_of_busy_moments(
    broker: LocalBroker, caplog: pytest.LogCaptureFixture
) -> None:
    # kafka-python 3 warned of each network-loop step over 0.1 s: a busy app's log filled
    # with "Task … ran for 0.13 s … blocking the event loop"; one second is a stall
    import logging
    import time

    from kafka.net.compat import KafkaNetClient

    from driftscope.kafka_quiet import quieter

    async def busy() -> None:
        time.sleep(0.3)  # the app's threads held the interpreter this long

    def warned(options: dict) -> bool:
        # the client a producer or consumer builds from these options (`kafka_client`)
        client = options.get("kafka_client", KafkaNetClient)(**options)
        caplog.clear()
        try:
            with caplog.at_level(logging.WARNING, logger="kafka"):
                client._net.run(busy)
        finally:
            client.close()
        return any("blocking the event loop" in r.getMessage() for r in caplog.records)

    assert warned({"bootstrap_servers": broker.bootstrap})  # kafka-python's own default
    assert not warned(quieter({"bootstrap_servers": broker.bootstrap}))
