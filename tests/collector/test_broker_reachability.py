"""A broker outage shows: ``driftscope_collector_broker_up`` is 1 while the collector
holds a connection, 0 once it has had none for ``GRACE`` seconds, 1 again when the broker
answers, with a WARNING at each change (before, the gauges stood still at their last
values and an outage looked like an application that stopped sending)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest
from collector_support import make_config
from prometheus_client import CollectorRegistry

from driftscope.broker import LocalBroker, ensure_topics, free_port
from driftscope.collector.service import Collector
from driftscope.store.clickhouse import Store

TOPIC = "reach"


def _broker(port: int) -> LocalBroker:
    b = LocalBroker(port=port).start()
    ensure_topics(b.bootstrap, [TOPIC, f"{TOPIC}.dlq"], partitions=1)
    return b


def _wait(cond: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_broker_up_follows_an_outage(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    b = _broker(port)
    cfg = make_config(b.bootstrap, TOPIC)
    registry = CollectorRegistry()
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [b.bootstrap]},
                  registry=registry)

    def up() -> float | None:
        return registry.get_sample_value("driftscope_collector_broker_up")

    stop = threading.Event()
    thread = threading.Thread(target=c.run, args=(stop,), daemon=True)
    with caplog.at_level(logging.WARNING, logger="driftscope"):
        thread.start()
        try:
            _wait(lambda: up() == 1)
            b.stop()
            went = time.monotonic()
            _wait(lambda: up() == 0)
            assert time.monotonic() - went >= 4  # (the grace: 5 s, less a poll)
            b = _broker(port)
            _wait(lambda: up() == 1, timeout=90)
        finally:
            stop.set()
            thread.join(30)
            b.stop()
    said = [r.getMessage() for r in caplog.records if "broker at" in r.getMessage()]
    assert len(said) == 2, said
    assert said[0].startswith(f"broker at {b.bootstrap} unreachable for ")
    assert said[1].startswith(f"broker at {b.bootstrap} reachable again after ")
