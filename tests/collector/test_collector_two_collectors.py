"""Two collectors in one consumer group over a 4-partition topic: the second joins
mid-stream (a rebalance moves partitions with data in flight) and the first leaves before
the end; every event is stored exactly once — raw rows, window counts and profiles."""

from __future__ import annotations

import threading
import time

from collector_support import event, make_config, produce, stored_offsets

from driftscope.collector.service import Collector
from driftscope.config import Config
from driftscope.store.clickhouse import Store


def test_two_collectors_one_group(broker, topic: str, store: Store) -> None:
    cfg = make_config(
        broker.bootstrap,
        topic,
        models=[{"id": "m", "logging": ["raw", "profile", "sample"], "window": "1h"}],
        collector={"batch_size": 300, "flush_interval": "0.2s"},
    )
    (_, stop_a, ta), (b, stop_b, tb) = _members(cfg, store, broker.bootstrap, "a", "b")
    n = 0
    try:
        ta.start()
        n += produce(broker.bootstrap, topic, [event(i) for i in range(0, 3000)], partition=None)
        _wait(lambda: stored_offsets(store, cfg.kafka.group_id) > 500)
        tb.start()
        n += produce(broker.bootstrap, topic, [event(i) for i in range(3000, 6000)], partition=None)
        _wait(lambda: len(b._consumer.assignment() if b._consumer else ()) > 0)
        n += produce(broker.bootstrap, topic, [event(i) for i in range(6000, 7000)], partition=None)
        stop_a.set()  # a leaves: its partitions move to b
        ta.join(30)
        n += produce(broker.bootstrap, topic, [event(i) for i in range(7000, 8000)], partition=None)
        _wait(lambda: stored_offsets(store, cfg.kafka.group_id) >= n)
    finally:
        stop_a.set()
        stop_b.set()
        ta.join(30)
        tb.join(30)
    assert store.count("events") == n == 8000
    assert store.query("SELECT uniqExact(event_id) FROM events")[0][0] == n
    assert store.query("SELECT sum(n) FROM window_parts")[0][0] == n
    assert store.query("SELECT sum(n) FROM profiles")[0][0] == n
    writers = store.query("SELECT uniqExact(collector_id) FROM collector_stats")[0][0]
    assert writers == 2


def _members(cfg: Config, store: Store, bootstrap: str, *ids: str
             ) -> list[tuple[Collector, threading.Event, threading.Thread]]:
    """Collectors of one group, each with its stop event and (not started) thread."""
    out = []
    for cid in ids:
        c = Collector(cfg, store, kafka_options={"bootstrap_servers": [bootstrap]},
                      collector_id=cid)
        stop = threading.Event()
        out.append((c, stop, threading.Thread(target=c.run, args=(stop,), daemon=True)))
    return out


def _wait(cond, timeout: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_window_another_member_left_open_is_closed_when_its_partition_comes_back(
    broker, topic: str, store: Store
) -> None:
    """Found live: a `collect` beside `serve` took the partition, stored a whole window and
    stopped before its watermark passed the window's end; serve's collector got the
    partition back, had never seen that window, and never closed it (it was never judged).
    Now partitions coming back bring the windows the store holds open."""
    from driftscope.broker import ensure_topics

    topic = f"{topic}.two"
    ensure_topics(broker.bootstrap, [topic, f"{topic}.dlq"], partitions=2)
    cfg = make_config(broker.bootstrap, topic,
                      models=[{"id": "m", "window": "10s", "allowed_lateness": "1s"}])
    (a, stop_a, ta), (b, stop_b, tb) = _members(cfg, store, broker.bootstrap, "a", "b")

    def held(c: Collector) -> set[int]:
        consumer = c._consumer
        return {tp.partition for tp in consumer.assignment()} if consumer else set()

    def closed() -> dict[int, int]:
        return {int(s): int(n) for s, n in store.query(
            "SELECT toUnixTimestamp64Milli(window_start) % 60000, argMax(n_events, closed_at)"
            " FROM windows GROUP BY 1")}

    try:
        ta.start()
        _wait(lambda: held(a) == {0, 1})
        produce(broker.bootstrap, topic, [event(i) for i in range(0, 10)], partition=0)
        _wait(lambda: store.count("events") == 10)
        tb.start()
        _wait(lambda: len(held(a)) == 1 and len(held(b)) == 1)
        (pb,), (pa,) = held(b), held(a)
        produce(broker.bootstrap, topic, [event(i) for i in range(10, 20)], partition=pb)
        _wait(lambda: store.count("events") == 20)  # [10 s, 20 s) stored by b, still open
        stop_b.set()
        tb.join(30)
        _wait(lambda: held(a) == {0, 1} and not a._recovering)
        produce(broker.bootstrap, topic, [event(i) for i in range(20, 36)], partition=pa)
        _wait(lambda: 20_000 in closed())  # a's watermark (34 s) passed [20 s, 30 s)
    finally:
        stop_a.set()
        stop_b.set()
        ta.join(30)
        tb.join(30)
    assert closed() == {0: 10, 10_000: 10, 20_000: 10}
