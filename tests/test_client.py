from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from driftscope.broker import LocalBroker, free_port
from driftscope.client import PredictionLogger
from driftscope.events import MAX_EVENT_BYTES, is_missing


def test_logged_events_arrive_keyed_by_event_id(broker: LocalBroker, topic: str) -> None:
    with PredictionLogger(broker.bootstrap, topic=topic) as logger:
        ids = [logger.log("m", {"x": i}, {"p": 0.5}) for i in range(200)]
        logger.log_feedback("m", str(ids[0]), label=1)
    assert logger.stats.sent == 201 and logger.stats.lost == 0
    consumer = KafkaConsumer(
        topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
        consumer_timeout_ms=20_000,  # (ends once it has all 201)
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
    assert logger.stats.rejected >= 400  # the bounded queue filled and counted the rest
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


def test_refused_events_are_counted_apart_from_queued_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``dropped`` mixed events refused at the door (queue full, logger closed: never
    queued) with queued ones never delivered, so close() said "3000 of 1000 events not
    sent", and events logged after close() were dropped without a word."""
    dead = f"127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING, "driftscope.client"):
        logger = PredictionLogger(dead, max_queue=10, client_options={"request_timeout_ms": 1000})
        for i in range(50):
            logger.log("m", {"x": float(i)}, {"p": 0.1})
        logger.close(timeout=1.0)
        closing = [r.getMessage() for r in caplog.records if "closed:" in r.getMessage()]
        for i in range(3):
            assert logger.log("m", {"x": float(i)}, {"p": 0.1}) is not None  # (keeps its id)
    s = logger.stats
    assert 10 <= s.queued <= 12 and s.queued + s.rejected == 53, s
    assert s.sent + s.failed + s.dropped == s.queued and s.lost == 53, s
    assert len(closing) == 1, closing
    assert (f"{s.queued} of {s.queued} queued events not delivered" in closing[0]
            and f"{50 - s.queued} refused (queue full / logger closed)" in closing[0]), closing
    warnings = [r.getMessage() for r in caplog.records]
    assert any("the PredictionLogger is closed" in w for w in warnings), warnings


def test_an_event_larger_than_the_collector_takes_is_invalid_not_sent(
    broker: LocalBroker, topic: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An event between the collector's 1,000,000 bytes and Kafka's 1 MiB was counted sent,
    then dead-lettered by the collector as oversized."""
    with caplog.at_level(logging.WARNING, "driftscope.client"):
        with PredictionLogger(broker.bootstrap, topic=topic) as logger:
            assert logger.log("m", {"note": "a" * 1_010_000}, {"p": 0.5}) is None
            assert logger.send_raw(b"k", b"{" + b" " * MAX_EVENT_BYTES + b"}") is None
            assert logger.log("m", {"note": "a" * 1000}, {"p": 0.5}) is not None
    s = logger.stats
    assert s.invalid == 2 and s.queued == 1 and s.sent == 1, s
    warnings = [r.getMessage() for r in caplog.records if r.name == "driftscope.client"]
    assert len(warnings) == 1 and "over the collector's limit of 1,000,000" in warnings[0]
    assert "\n" not in warnings[0]


def test_a_decimal_nan_feature_is_sent_as_missing() -> None:
    """``Decimal('NaN')`` made the whole prediction invalid, whereas a float NaN is null."""
    assert is_missing(Decimal("NaN")) and is_missing(Decimal("sNaN"))
    assert not is_missing(Decimal("1.5")) and not is_missing(Decimal("Infinity"))
    sent: list = []
    logger = PredictionLogger("127.0.0.1:9", close_timeout=0.1)
    logger.send = lambda event: sent.append(event) or True  # type: ignore[method-assign]
    assert logger.log("m", {"amount": Decimal("NaN"), "n": 2.0}, {"p": 0.5}) is not None
    logger.close()
    assert logger.stats.invalid == 0
    assert json.loads(sent[0].model_dump_json())["features"] == {"amount": None, "n": 2.0}


def test_a_missing_segment_value_is_left_out_and_the_prediction_sent() -> None:
    """A pandas row whose segment is unknown (NaN) or a ``None`` segment made the whole
    prediction invalid ("segments.device: NaN or infinity is not allowed"), though a
    missing feature is sent as null and a missing prediction left out."""
    import numpy as np
    import pandas as pd

    sent: list = []
    logger = PredictionLogger("127.0.0.1:9", close_timeout=0.1)
    logger.send = lambda event: sent.append(event) or True  # type: ignore[method-assign]
    row = pd.Series({"age": 41.0, "spend": np.nan})
    for segments in (pd.Series({"country": "fr", "device": np.nan}),
                     {"country": "fr", "device": None}, {"country": "fr", "device": pd.NA}):
        assert logger.log("churn", row, {"p": 0.8}, segments=segments) is not None
    logger.close()
    assert logger.stats.invalid == 0
    assert [e.segments for e in sent] == [{"country": "fr"}] * 3


def test_an_integer_no_float_holds_is_invalid_naming_its_field() -> None:
    """``10**400`` was counted queued, and dead-lettered by the collector with "int too
    large to convert to float", naming no field."""
    logger = PredictionLogger("127.0.0.1:9", close_timeout=0.1)
    logger.send = lambda event: True  # type: ignore[method-assign]
    warned: list[str] = []
    logger._warn = lambda kind, text: warned.append(text)  # type: ignore[method-assign]
    assert logger.log("m", {"account": 2**1024}, {"p": 0.5}) is None
    assert logger.log("m", {"x": 1}, {"score": 10**400}) is None
    logger.close()
    assert logger.stats.invalid == 2
    assert warned[0].startswith("invalid event not logged: features.account: an integer")
    assert warned[1].startswith("invalid event not logged: predictions.score: an integer")


def test_optional_arguments_take_none_model_version_too() -> None:
    """``label``, ``segments``, ``event_id`` and ``timestamp`` took None for "none";
    ``model_version=None`` made the whole event invalid (an optional variable passed as
    it is), and the prediction was lost."""
    sent: list = []
    logger = PredictionLogger("127.0.0.1:9", close_timeout=0.1)
    logger.send = lambda event: sent.append(event) or True  # type: ignore[method-assign]
    assert logger.log("m", {"x": 1.0}, {"p": 0.5}, model_version=None, label=None,
                      segments=None, event_id=None, timestamp=None) is not None
    logger.close()
    assert logger.stats.invalid == 0
    assert json.loads(sent[0].model_dump_json())["model_version"] == ""


def test_the_docs_state_the_200_character_limits_the_code_enforces() -> None:
    """docs/events.md stated a limit for model_id only; model_version, event_id and a
    segment's value over 200 characters make the prediction invalid too."""
    table = (Path(__file__).parents[1] / "docs" / "events.md").read_text()
    for field in ("model_id", "model_version", "event_id", "segments"):
        row = re.search(rf"^\| `{field}` \|.*$", table, re.M)
        assert row is not None and "200" in row.group(0), field
    logger = PredictionLogger("127.0.0.1:9", close_timeout=0.1)
    logger.send = lambda event: True  # type: ignore[method-assign]
    assert logger.log("m", {}, {}, model_version="v" * 200) is not None
    assert logger.log("m", {}, {}, model_version="v" * 201) is None
    assert logger.log("m", {}, {}, event_id="e" * 201) is None
    assert logger.log("m", {}, {}, segments={"s" * 201: "x"}) is None
    assert logger.log("m", {}, {}, segments={"url": "u" * 201}) is None
    logger.close()
    assert logger.stats.invalid == 4


def test_the_queue_is_bounded_in_bytes_too(broker: LocalBroker, topic: str) -> None:
    """``max_queue`` bounds a count: 100,000 events of 500 KB each, the broker down, held
    50 GB. ``max_queue_bytes`` refuses what would pass it, and frees what is delivered."""
    big = {"note": "a" * 400_000}
    dead = f"127.0.0.1:{free_port()}"
    logger = PredictionLogger(dead, max_queue_bytes=2_000_000,
                              client_options={"request_timeout_ms": 1000})
    for _ in range(10):
        logger.log("m", big, {"p": 0.5})
    s = logger.stats
    assert 1 <= s.queued <= 4 and s.rejected == 10 - s.queued, s
    logger.close(timeout=1.0)
    assert s.sent + s.failed + s.dropped == s.queued and s.lost == 10, s
    with PredictionLogger(broker.bootstrap, topic=topic, max_queue_bytes=2_000_000) as live:
        for _ in range(12):  # 4.8 MB in all: what Kafka acknowledges makes room again
            assert live.log("m", big, {"p": 0.5}) is not None
            assert live.flush(30)
    assert live.stats.sent == 12 and live.stats.rejected == 0, live.stats
    # with max_block, log() waits for room in bytes as it does for room in count (found
    # in review: it refused at once, and `simulate` said Kafka took nothing for max_block)
    with PredictionLogger(broker.bootstrap, topic=topic, max_queue_bytes=1_000_000,
                          max_block=30) as waiting:
        for _ in range(12):  # no flush: each waits for acknowledgements to make room
            waiting.log("m", big, {"p": 0.5})
    assert waiting.stats.sent == 12 and waiting.stats.rejected == 0, waiting.stats
