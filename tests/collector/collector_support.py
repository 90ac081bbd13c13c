"""Shared helpers for the collector tests: configuration, producing, running."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from driftscope.collector.service import Collector
from driftscope.config import Config
from driftscope.store.clickhouse import Store


def make_config(bootstrap: str, topic: str, **overrides: Any) -> Config:
    """A collector configuration for a test topic (its dead letters go to ``<topic>.dlq``)."""
    data: dict[str, Any] = {
        "kafka": {
            "bootstrap_servers": bootstrap,
            "topic": topic,
            "dead_letter_topic": f"{topic}.dlq",
            "group_id": f"g-{uuid.uuid4().hex[:8]}",
        },
        "collector": {"batch_size": 2000, "flush_interval": "0.3s"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Config.model_validate(data)


def kafka_options(bootstrap: str) -> dict[str, Any]:
    return {"bootstrap_servers": [bootstrap]}


def run_until(
    collectors: list[Collector],
    done: Callable[[], bool],
    timeout: float = 60.0,
) -> None:
    """Run collectors in threads until ``done()`` holds (checked between polls)."""
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in collectors]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    try:
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError("collectors did not finish in time")
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(30)


def stored_offsets_total(store: Store, group_id: str) -> int:
    rows = store.query(
        "SELECT sum(o) FROM (SELECT kafka_partition, max(next_offset) AS o "
        "FROM consumer_offsets WHERE group_id = {g:String} GROUP BY kafka_partition)",
        {"g": group_id},
    )
    return int(rows[0][0] or 0)
