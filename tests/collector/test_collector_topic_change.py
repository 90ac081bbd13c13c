"""A store holds the events of one topic: its rows keep partition and offset, not the
topic. Before, a collector pointed at another topic (a change of `kafka.topic`, or a
second topic into the same store) rolled back "an unfinished flush" from offset 0 of each
partition it had never stored, and deleted every event of the first topic (200 stored,
5 left). Now it refuses to start, in one line, and deletes nothing."""

from __future__ import annotations

import uuid

import pytest
from collector_support import event, make_config, produce, run_until, stored_offsets

from driftscope.broker import ensure_topics
from driftscope.collector.service import Collector
from driftscope.errors import ConfigError
from driftscope.store.clickhouse import Store


def test_another_topic_into_the_same_store_is_refused_and_deletes_nothing(
    broker, topic: str, store: Store
) -> None:
    n = produce(broker.bootstrap, topic, [event(i) for i in range(200)], partition=0)
    cfg = make_config(broker.bootstrap, topic,
                      models=[{"id": "m", "logging": ["raw", "profile", "sample"]}])
    options = {"bootstrap_servers": [broker.bootstrap]}
    run_until([Collector(cfg, store, kafka_options=options)],
              lambda: stored_offsets(store, cfg.kafka.group_id) >= n)
    before = {t: store.count(t) for t in ("events", "samples", "profiles", "window_parts")}
    assert before["events"] == 200

    other = f"test.{uuid.uuid4().hex[:10]}"
    ensure_topics(broker.bootstrap, [other, f"{other}.dlq"], partitions=4)
    produce(broker.bootstrap, other, [event(1000 + i) for i in range(5)], partition=0)
    moved = make_config(broker.bootstrap, other,
                        models=[{"id": "m", "logging": ["raw", "profile", "sample"]}])
    with pytest.raises(ConfigError) as info:
        Collector(moved, store, kafka_options=options).start()
    said = str(info.value)
    assert f"topic {topic!r}" in said and "store.database" in said and "\n" not in said
    assert {t: store.count(t) for t in before} == before
