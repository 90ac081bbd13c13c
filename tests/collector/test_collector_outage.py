"""Store outage mid-stream: consumption pauses, retries back off, nothing is lost or doubled.

chDB runs in this process, so the outage is made real by detaching a table the collector
uses (``DETACH TABLE``): statements then fail with the engine's own error. ``samples`` is
written by a flush after its raw rows, so the first failure is always a partial write that
the retry must roll back; ``window_parts`` is also read when windows close, so there the
outage may first be met by closing windows instead. ``ATTACH TABLE`` brings the store back.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from collector_support import event, make_config, produce, stored_offsets
from prometheus_client import CollectorRegistry

from driftscope.collector import reader
from driftscope.collector.service import Collector
from driftscope.store.clickhouse import Store


@pytest.mark.parametrize("table", ["samples", "window_parts"])
def test_store_outage_pauses_and_resumes(
    broker, topic: str, store: Store, caplog: pytest.LogCaptureFixture, table: str
) -> None:
    caplog.set_level(logging.INFO, logger="driftscope.collector")
    cfg = make_config(
        broker.bootstrap,
        topic,
        models=[
            {"id": "m", "logging": ["raw", "profile", "sample"], "window": "60s", "sample_size": 10}
        ],
    )
    registry = CollectorRegistry()
    c = Collector(
        cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]}, registry=registry
    )
    stop = threading.Event()
    thread = threading.Thread(target=c.run, args=(stop,), daemon=True)
    thread.start()
    try:
        first = produce(broker.bootstrap, topic, [event(i) for i in range(500)], partition=None)
        _wait(lambda: stored_offsets(store, cfg.kafka.group_id) >= first)
        store.command(f"DETACH TABLE {table}")
        total = first + produce(
            broker.bootstrap, topic, [event(i) for i in range(500, 1500)], partition=None
        )
        # the state change is logged once; the gauge itself is sampled and may be missed
        _wait(lambda: any("store unavailable" in r.getMessage() for r in caplog.records))
        assert registry.get_sample_value("driftscope_collector_store_up") == 0
        time.sleep(1.5)  # several failed retries while the store is down
        consumed_during = registry.get_sample_value("driftscope_collector_consumed_total")
        time.sleep(0.5)
        assert registry.get_sample_value("driftscope_collector_consumed_total") == consumed_during
        store.command(f"ATTACH TABLE {table}")
        _wait(lambda: stored_offsets(store, cfg.kafka.group_id) >= total)
    finally:
        stop.set()
        thread.join(30)
    assert store.count("events") == total
    assert store.query("SELECT uniqExact(event_id) FROM events")[0][0] == total
    assert store.query("SELECT sum(n) FROM window_parts")[0][0] == total
    assert store.query("SELECT sum(n) FROM profiles")[0][0] == total
    assert store.query("SELECT count() - uniqExact(event_id) FROM samples")[0][0] == 0
    prof = reader.load_window_profile(store, "m", 1772323200000)  # 2026-03-01T00:00Z
    assert prof.get_column("x").get_metric("counts").n.value == 60
    if table == "samples":  # the outage met a flush half-way: its rows were rolled back
        assert any("rolled back" in r.getMessage() for r in caplog.records)
    lines = [r.getMessage() for r in caplog.records if "store" in r.getMessage()]
    assert sum("store unavailable" in m for m in lines) == 1, lines
    assert sum("store available again" in m for m in lines) == 1, lines


def _wait(cond, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
