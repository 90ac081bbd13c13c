"""A broker whose log was replaced under the stored offsets (the embedded broker keeps its
log in memory: a restart starts every partition at offset 0 again).

Before: the collector sought to the stored offset, beyond the new log's end, and skipped
every new event until the new log grew past it. Now it reads the new log from its start,
stores it after what it stored before, and keeps every earlier row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest
from collector_support import event, make_config, produce, run_until
from prometheus_client import CollectorRegistry

from driftscope.broker import LocalBroker, ensure_topics, free_port
from driftscope.collector.service import Collector
from driftscope.config import Config
from driftscope.store.clickhouse import Store

TOPIC = "preds"


def _collector(cfg: Config, store: Store, registry: CollectorRegistry | None = None) -> Collector:
    return Collector(
        cfg,
        store,
        kafka_options={"bootstrap_servers": [cfg.kafka.bootstrap_servers]},
        registry=registry or CollectorRegistry(),
    )


def _broker(port: int) -> LocalBroker:
    b = LocalBroker(port=port).start()
    ensure_topics(b.bootstrap, [TOPIC, f"{TOPIC}.dlq"], partitions=1)
    return b


def _ids(store: Store) -> list[str]:
    return [r[0] for r in store.query("SELECT event_id FROM events ORDER BY kafka_offset")]


def _offsets(store: Store, group: str) -> tuple[int, int]:
    rows = store.query(
        "SELECT max(next_offset), argMax(log_base, (next_offset, committed_at)) "
        "FROM consumer_offsets WHERE group_id = {g:String}",
        {"g": group},
    )
    return int(rows[0][0]), int(rows[0][1])


def _wait(cond: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _restarted(store: Store, first: int) -> tuple[Config, LocalBroker]:
    """``first`` events collected from a broker, which is then restarted on its address
    (an empty log): the configuration and the new broker."""
    port = free_port()
    b = _broker(port)
    cfg = make_config(b.bootstrap, TOPIC)
    try:
        produce(b.bootstrap, TOPIC, [event(i) for i in range(first)])
        run_until([_collector(cfg, store)], lambda: len(_ids(store)) == first)
    finally:
        b.stop()
    return cfg, _broker(port)


def test_restarted_broker_is_read_from_its_start(store: Store) -> None:
    cfg, b = _restarted(store, 30)
    group = cfg.kafka.group_id
    try:
        produce(b.bootstrap, TOPIC, [event(i) for i in range(100, 110)])
        registry = CollectorRegistry()
        run_until([_collector(cfg, store, registry)], lambda: len(_ids(store)) == 40)
        ids = _ids(store)
        assert ids == [f"m-{i}" for i in [*range(30), *range(100, 110)]]
        assert registry.get_sample_value("driftscope_collector_new_logs_total") == 1
        # the new log's offset 0 is stored at 30: store offsets go on increasing
        assert _offsets(store, group) == (40, 30)
        assert [r[0] for r in store.query(
            "SELECT kafka_offset FROM events WHERE event_id = 'm-100'")] == [30]

        # the same log again, read on where it was left: nothing read twice, nothing skipped
        produce(b.bootstrap, TOPIC, [event(i) for i in range(110, 115)])
        registry = CollectorRegistry()
        run_until([_collector(cfg, store, registry)], lambda: len(_ids(store)) >= 45)
        time.sleep(1)
        assert registry.get_sample_value("driftscope_collector_new_logs_total") == 0
        assert _ids(store) == [f"m-{i}" for i in [*range(30), *range(100, 115)]]
        assert _offsets(store, group) == (45, 30)
    finally:
        b.stop()


def test_replaced_log_longer_than_the_old_one_is_found(store: Store) -> None:
    """A new log that already holds more records than were read from the old one: the
    record before the stored offset is another one (its fingerprint differs)."""
    cfg, b = _restarted(store, 10)
    try:
        produce(b.bootstrap, TOPIC, [event(i) for i in range(200, 225)])
        run_until([_collector(cfg, store)], lambda: len(_ids(store)) == 35)
        assert _ids(store) == [f"m-{i}" for i in [*range(10), *range(200, 225)]]
        assert _offsets(store, cfg.kafka.group_id) == (35, 10)
    finally:
        b.stop()


def test_a_new_group_id_reads_on_where_the_store_ends(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A collector whose ``kafka.group_id`` changed (a group with no offsets of its own)
    reads on from the offsets another group stored, and says so. Before, it read the topic
    from the log's start and first rolled back every stored row of it: with the broker
    restarted in between, the 30 events stored before were gone for good."""
    cfg, b = _restarted(store, 30)
    renamed = make_config(b.bootstrap, TOPIC)
    assert renamed.kafka.group_id != cfg.kafka.group_id
    try:
        produce(b.bootstrap, TOPIC, [event(i) for i in range(100, 110)])
        with caplog.at_level(logging.WARNING, logger="driftscope.collector"):
            run_until([_collector(renamed, store)], lambda: "m-109" in _ids(store))
        assert _ids(store) == [f"m-{i}" for i in [*range(30), *range(100, 110)]]
        assert _offsets(store, renamed.kafka.group_id) == (40, 30)
        assert any(cfg.kafka.group_id in r.getMessage() and "left it" in r.getMessage()
                   for r in caplog.records)
    finally:
        b.stop()


def test_running_collector_survives_a_broker_restart(store: Store) -> None:
    port = free_port()
    b = _broker(port)
    cfg = make_config(b.bootstrap, TOPIC)
    stop = threading.Event()
    registry = CollectorRegistry()
    c = _collector(cfg, store, registry)
    thread = threading.Thread(target=c.run, args=(stop,), daemon=True)
    thread.start()
    try:
        produce(b.bootstrap, TOPIC, [event(i) for i in range(30)])
        _wait(lambda: len(_ids(store)) == 30)
        b.stop()
        b = _broker(port)
        produce(b.bootstrap, TOPIC, [event(i) for i in range(100, 110)])
        _wait(lambda: len(_ids(store)) == 40, timeout=90)
        assert _ids(store) == [f"m-{i}" for i in [*range(30), *range(100, 110)]]
        assert registry.get_sample_value("driftscope_collector_new_logs_total") == 1
        _wait(lambda: _offsets(store, cfg.kafka.group_id) == (40, 30))
    finally:
        stop.set()
        thread.join(30)
        b.stop()


def test_dead_letters_of_a_new_log_name_the_record_in_the_broker(store: Store) -> None:
    """Rows keep the store's offsets (after the earlier log's); the dead-letter topic's
    ``source`` header names where the record is in the broker's current log."""
    from kafka import KafkaConsumer

    cfg, b = _restarted(store, 5)
    try:
        produce(b.bootstrap, TOPIC, [event(100), b"not json"])
        run_until([_collector(cfg, store)],
                  lambda: store.count("dead_letters") == 1 and len(_ids(store)) == 6)
        assert store.query("SELECT kafka_offset FROM dead_letters") == [(6,)]
        consumer = KafkaConsumer(f"{TOPIC}.dlq", bootstrap_servers=b.bootstrap,
                                 auto_offset_reset="earliest", consumer_timeout_ms=10_000)
        headers = [dict(m.headers) for m in consumer]
        consumer.close()
        assert [h["source"] for h in headers] == [f"{TOPIC}/0/1".encode()]
    finally:
        b.stop()
