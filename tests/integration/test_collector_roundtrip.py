"""10,000 events through PredictionLogger and the local broker, counted back exactly once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from driftscope.client import PredictionLogger
from driftscope.collector.service import Collector
from driftscope.config import Config
from driftscope.store.clickhouse import Store


def test_ten_thousand_events_exactly_once(broker, topic: str, store: Store) -> None:
    n = 10_000
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    ids = set()
    with PredictionLogger(broker.bootstrap, topic=topic) as logger:
        for i in range(n):
            eid = logger.log(
                "churn",
                {"age": 20 + i % 50, "plan": ["free", "pro"][i % 2], "score": i / n},
                {"p": (i % 10) / 10},
                event_id=f"e{i}",
                timestamp=t0 + timedelta(milliseconds=100 * i),
            )
            ids.add(eid)
        assert logger.flush(60)
        assert logger.stats.sent == n
    cfg = Config.model_validate(
        {
            "kafka": {
                "bootstrap_servers": broker.bootstrap,
                "topic": topic,
                "dead_letter_topic": f"{topic}.dlq",
                "group_id": f"{topic}.g",
            },
            "collector": {"flush_interval": "0.3s"},
            "models": [{"id": "churn", "window": "60s"}],
        }
    )
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    c.start()
    deadline = time.monotonic() + 90
    while _stored(store) < n and time.monotonic() < deadline:
        c.poll_once()
    c.close()
    assert store.count("events") == n
    assert store.query("SELECT uniqExact(event_id) FROM events")[0][0] == n
    assert store.count("dead_letters") == 0
    ages = store.query("SELECT sum(features_num['age']) FROM events")[0][0]
    assert ages == sum(20 + i % 50 for i in range(n))


def _stored(store: Store) -> int:
    rows = store.query(
        "SELECT sum(o) FROM (SELECT kafka_partition, max(next_offset) AS o "
        "FROM consumer_offsets GROUP BY kafka_partition)"
    )
    return int(rows[0][0] or 0)
