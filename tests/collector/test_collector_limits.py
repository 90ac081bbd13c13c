"""Limits of the store and of Kafka: a flush never turns valid events into an endless retry,
and a dead letter Kafka refuses never stops the collector."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from collector_support import event, make_config, produce, run_until, stored_offsets
from kafka import KafkaConsumer, KafkaProducer

from driftscope.collector.batch import Batch, DeadLetter, publish_dead_letters
from driftscope.collector.service import Collector
from driftscope.config import load_config
from driftscope.errors import ConfigError
from driftscope.store.clickhouse import Store


def test_events_spanning_more_than_100_months_are_stored(broker, topic: str, store: Store) -> None:
    """ClickHouse refuses an insert touching over 100 partitions (months) by default."""
    stream = [event(i, seconds=i * 31 * 86400) for i in range(110)] + [event(1000)]
    n = produce(broker.bootstrap, topic, stream, partition=0)
    cfg = make_config(broker.bootstrap, topic, models=[{"id": "m"}])
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    run_until([c], lambda: stored_offsets(store, cfg.kafka.group_id) >= n, timeout=30)
    assert store.count("events") == n
    assert store.count("dead_letters") == 0


def test_a_dead_letter_max_bytes_kafka_cannot_send_is_a_config_error(tmp_path: Path) -> None:
    """Refused when the configuration loads, not when the collector starts."""
    path = tmp_path / "driftscope.yaml"
    path.write_text("collector:\n  dead_letter_max_bytes: 1048576\n")
    with pytest.raises(ConfigError, match=r"collector.dead_letter_max_bytes.*1044480"):
        load_config(path, environ={})
    path.write_text("collector:\n  dead_letter_max_bytes: 1044480\n")
    assert load_config(path, environ={}).collector.dead_letter_max_bytes == 1_044_480


def test_a_dead_letter_the_topic_refuses_is_skipped_not_raised(
    broker, topic: str, caplog: pytest.LogCaptureFixture
) -> None:
    def letter(offset: int, size: int) -> DeadLetter:
        return DeadLetter(topic, 0, offset, "m", "schema", "x: bad", b"y" * size, size)

    batch = Batch(dead=[letter(0, 50_000), letter(1, 10)])
    producer = KafkaProducer(bootstrap_servers=[broker.bootstrap], max_request_size=10_000)
    with caplog.at_level(logging.WARNING, logger="driftscope.collector"):
        publish_dead_letters(producer, f"{topic}.dlq", batch)
    producer.close()
    assert any(f"{topic}/0/0 not sent" in r.getMessage() for r in caplog.records)
    dlq = KafkaConsumer(
        f"{topic}.dlq",
        bootstrap_servers=[broker.bootstrap],
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    sources = [dict(m.headers)["source"].decode() for m in dlq]
    dlq.close()
    assert sources == [f"{topic}/0/1"]  # the letters after the refused one still go out

