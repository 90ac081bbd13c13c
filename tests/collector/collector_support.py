"""Shared helpers for the collector tests: configuration, producing, running."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaProducer

from driftscope.collector.service import Collector
from driftscope.config import Config
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def make_config(bootstrap: str, topic: str, **sections: Any) -> Config:
    """A collector configuration for a test topic (dead letters go to ``<topic>.dlq``)."""
    data: dict[str, Any] = {
        "kafka": {
            "bootstrap_servers": bootstrap,
            "topic": topic,
            "dead_letter_topic": f"{topic}.dlq",
            "group_id": f"g-{uuid.uuid4().hex[:8]}",
        },
        "collector": {"batch_size": 2000, "flush_interval": "0.2s"},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Config.model_validate(data)


def event(i: int, model: str = "m", seconds: float | None = None, **extra: Any) -> dict[str, Any]:
    """A valid prediction event as a dict."""
    ev: dict[str, Any] = {
        "model_id": model,
        "event_id": f"{model}-{i}",
        "timestamp": (T0 + timedelta(seconds=i if seconds is None else seconds)).isoformat(),
        "features": {"x": float(i % 17), "n": i % 5, "color": ["red", "blue"][i % 2]},
        "predictions": {"score": (i % 10) / 10, "cls": ["a", "b"][i % 2]},
    }
    ev.update(extra)
    return ev


def produce(
    bootstrap: str, topic: str, values: Iterable[bytes | dict[str, Any]], partition: int | None = 0
) -> int:
    """Send raw values (dicts are JSON-encoded) to one partition, in order."""
    producer = KafkaProducer(bootstrap_servers=[bootstrap], max_request_size=4_000_000, linger_ms=5)
    n = 0
    for v in values:
        raw = json.dumps(v).encode() if isinstance(v, dict) else v
        producer.send(topic, value=raw, partition=partition)
        n += 1
    producer.flush()
    producer.close()
    return n


def stored_offsets(store: Store, group_id: str) -> int:
    """Sum over partitions of the next offset recorded with the data."""
    rows = store.query(
        "SELECT sum(o) FROM (SELECT kafka_partition, max(next_offset) AS o "
        "FROM consumer_offsets WHERE group_id = {g:String} GROUP BY kafka_partition)",
        {"g": group_id},
    )
    return int(rows[0][0] or 0)


def run_until(collectors: list[Collector], done: Callable[[], bool], timeout: float = 60) -> None:
    """Run collectors in threads until ``done()`` holds, then stop them gracefully."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target(c: Collector) -> None:
        try:
            c.run(stop)
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(c,), daemon=True) for c in collectors]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    try:
        while not done():
            assert not errors, errors
            assert time.monotonic() < deadline, "collectors did not finish in time"
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors
