"""A batch dropped in a rebalance is replayed as if it had never been read: real Kafka
(a second group member joins while the store cannot take the batch) and chDB."""

from __future__ import annotations

import threading
import time

from collector_support import event, make_config, produce, stored_offsets
from kafka import KafkaConsumer

from driftscope.broker import ensure_topics
from driftscope.collector import reader
from driftscope.collector.service import Collector
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store


def test_a_batch_dropped_in_a_rebalance_is_replayed_as_if_never_read(
    broker, topic: str, store: Store
) -> None:
    # one partition: every other one would be unread after the rebalance, and a partition
    # nothing was read from holds the watermark back entirely
    topic = f"{topic}.single"
    ensure_topics(broker.bootstrap, [topic, f"{topic}.dlq"], partitions=1)
    cfg = make_config(
        broker.bootstrap,
        topic,
        models=[
            {"id": "m", "logging": ["raw", "profile"], "window": "10s", "allowed_lateness": "1s"}
        ],
        collector={"flush_interval": "1h"},  # flushed by the test (or a rebalance) only
    )
    n = produce(broker.bootstrap, topic, [event(i) for i in range(30)])  # 30 s: 3 windows
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    stop, joined = threading.Event(), threading.Event()

    def other_member() -> None:
        b = KafkaConsumer(
            bootstrap_servers=[broker.bootstrap],
            group_id=cfg.kafka.group_id,
            enable_auto_commit=False,
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
        )
        b.subscribe([topic])
        while not stop.is_set():
            b.poll(timeout_ms=100)
            if b.assignment():
                joined.set()
        b.close(autocommit=False)

    member = threading.Thread(target=other_member, daemon=True)
    try:
        _poll(c, lambda: len(c.batch) == n)  # every event read and windowed, none flushed
        store.command(f"DETACH TABLE {S.MODEL_FEATURES}")  # the flush fails after window_parts
        member.start()
        _poll(c, lambda: joined.is_set() and len(c.batch) == 0)  # dropped, not written
        store.command(f"ATTACH TABLE {S.MODEL_FEATURES}")
        stop.set()
        member.join(30)  # it leaves: the partition comes back, replayed from offset 0
        _poll(
            c,
            lambda: (
                len(c._consumer.assignment()) == 1
                and not c._recovering
                and not c._backoff.down
                and len(c.batch) in (0, n)
            ),
        )
        _poll(c, lambda: stored_offsets(store, cfg.kafka.group_id) >= n or len(c.batch) == n)
        c.flush()
    finally:
        stop.set()
        member.join(30)
        c.close()
    assert store.query("SELECT count(), sum(late) FROM events") == [(n, 0)]
    assert store.query("SELECT sum(n), sum(n_late) FROM window_parts") == [(n, 0)]
    W = S.WINDOWS
    rows = store.query(
        f"SELECT toUnixTimestamp64Milli({W.window_start}) % 60000, "
        f"argMax({W.n_events}, {W.closed_at}), argMax({W.n_late}, {W.closed_at})"
        f" FROM {W} GROUP BY 1 ORDER BY 1"
    )
    assert rows == [(0, 10, 0), (10_000, 10, 0)]  # [20 s, 30 s) is still open
    assert reader.feature_kinds(store, "m") == {
        "x": "numeric",
        "n": "numeric",
        "color": "categorical",
        "prediction.score": "numeric",
        "prediction.cls": "categorical",
    }


def _poll(c: Collector, cond, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        c.poll_once(timeout_ms=100)
