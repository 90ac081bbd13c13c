"""The consumer-group join on the real broker: a join that kafka-python 3.0 finishes
unseen (a ``poll`` that timed out during its SyncGroup) is started again, so the collector
goes on reading instead of staying joined to nothing."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

import pytest
from collector_support import event, make_config, produce
from kafka.admin import KafkaAdminClient
from prometheus_client import CollectorRegistry

from driftscope.broker import ensure_topics
from driftscope.collector.service import Collector
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store


def _poll_until(c: Collector, done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the collector stopped reading"
        c.poll_once()


def _busy_polls(c: Collector, seconds: float) -> None:
    """Polls of 1 ms with 50 ms of other work between them, as on a busy machine: a join
    in flight is awaited 2 % of the time, so it almost surely finishes unseen."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        c.poll_once(timeout_ms=1)
        time.sleep(0.05)


def test_a_rejoin_for_a_recreated_topic_is_finished(
    broker, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The topic is deleted and made again with more partitions while the collector runs
    (its metadata says so within a second): the leader rejoins. Its polls end while the
    join is in flight, and before, the collector then stayed in a rebalance for good:
    nothing produced afterwards was stored, and nothing said so. Now the lost join is
    started again, with a WARNING, and the new events are stored."""
    topic = f"test.{uuid.uuid4().hex[:10]}"
    ensure_topics(broker.bootstrap, [topic, f"{topic}.dlq"], partitions=1)
    cfg = make_config(broker.bootstrap, topic)
    c = Collector(cfg, store, registry=CollectorRegistry(), kafka_options={
        "bootstrap_servers": [broker.bootstrap], "metadata_max_age_ms": 500})
    produce(broker.bootstrap, topic, [event(i) for i in range(5)], partition=0)
    try:
        _poll_until(c, lambda: store.count(S.EVENTS) == 5)
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        try:
            admin.delete_topics([topic])
        finally:
            admin.close()
        ensure_topics(broker.bootstrap, [topic], partitions=3)
        produce(broker.bootstrap, topic, [event(i) for i in range(100, 105)], partition=0)
        with caplog.at_level(logging.WARNING, logger="driftscope.collector"):
            _busy_polls(c, 8)  # the metadata (0.5 s), then the join (about 3 s here)
            _poll_until(c, lambda: store.count(S.EVENTS) == 10, timeout=30)
    finally:
        c.close()
    logging.getLogger(__name__).info("lost joins: %d", caplog.text.count("finished unseen"))
