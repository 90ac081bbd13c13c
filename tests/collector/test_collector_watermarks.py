"""Watermarks across partitions on the real broker and chDB: a window closes only once
every partition that still has unread messages has been read past it, whatever other
models share the topic and whenever the collector restarts."""

from __future__ import annotations

import logging
import re
import time
import uuid

import pytest
from collector_support import T0, event, make_config, produce, run_until
from kafka import TopicPartition
from prometheus_client import CollectorRegistry

from driftscope.broker import ensure_topics
from driftscope.collector.service import Collector
from driftscope.config import Config
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

MODELS = [{"id": m, "window": "100s", "allowed_lateness": "5s"} for m in ("slow", "fast")]


def _collector(cfg: Config, store: Store) -> Collector:
    return Collector(cfg, store, kafka_options={"bootstrap_servers": [cfg.kafka.bootstrap_servers]},
                     registry=CollectorRegistry())


def _windows(store: Store) -> dict[tuple[str, int], tuple[int, int]]:
    """(model, window start in s since T0) → (n_events, n_late) of the latest row."""
    W = S.WINDOWS
    rows = store.query(
        f"SELECT {W.model_id}, toUnixTimestamp({W.window_start}), "
        f"argMax({W.n_events}, {W.closed_at}), argMax({W.n_late}, {W.closed_at}) FROM {W} "
        "GROUP BY 1, 2"
    )
    return {(m, int(t) - int(T0.timestamp())): (int(n), int(late)) for m, t, n, late in rows}


def test_a_model_behind_another_on_the_same_topic_is_not_flagged_late(
    broker, topic: str, store: Store
) -> None:
    """Two models, one's event times 30 days ahead of the other's, spread over the topic's
    four partitions and all produced before the collector starts (a backlog): every
    event is on time and every closed window counts all of its events. Before, a lagging
    partition held each model back to the latest time read from it by *any* model, so
    the slower model's windows closed ahead of its unread events (about a quarter of them
    flagged late, its windows a quarter short)."""
    ahead = 30 * 86_400
    stream = []
    for i in range(1_000):  # 1,000 s: ten windows of 100 events per model
        stream += [event(i, "slow"), event(i, "fast", seconds=ahead + i)]
    n = produce(broker.bootstrap, topic, stream, partition=None)
    cfg = make_config(broker.bootstrap, topic, models=MODELS)
    run_until([_collector(cfg, store)],
              lambda: store.count(S.EVENTS) == n and len(_windows(store)) >= 18)
    assert store.query(f"SELECT sum(late) FROM {S.EVENTS}") == [(0,)]
    windows = _windows(store)
    for model in ("slow", "fast"):
        closed = sorted(v for (m, _), v in windows.items() if m == model)
        assert len(closed) == 9, (model, closed)  # the last window stays open
        assert set(closed) == {(100, 0)}, (model, closed)


def test_a_restart_closes_no_window_before_its_partitions_are_assigned(
    broker, store: Store
) -> None:
    """A collector stops while partition 1 is read only halfway (it lags partition 0). The
    next one restores the watermark from the store, but windows that partition 1 still
    feeds stay open until it has been read past them: no ``windows`` row with partition
    0's events alone is ever written (a monitor would judge it), none is late. Before,
    the restored watermark closed them at start, before any partition was assigned."""
    topic = f"test.{uuid.uuid4().hex[:10]}"  # two partitions, both fed
    ensure_topics(broker.bootstrap, [topic, f"{topic}.dlq"], partitions=2)
    cfg = make_config(broker.bootstrap, topic, models=MODELS[:1],
                      collector={"batch_size": 100, "flush_interval": "0.1s"})
    for p in (0, 1):  # 1,000 s on each partition: ten windows of 200 events
        produce(broker.bootstrap, topic, [event(2 * i + p, "slow", seconds=i)
                                          for i in range(1_000)], partition=p)
    first = _collector(cfg, store)
    first.start()
    deadline, paused = time.monotonic() + 60, False
    while not (paused and first.durable_offsets.get(0) == 1_000):
        assert time.monotonic() < deadline, "the first collector did not read partition 0"
        first.poll_once(100)
        if not paused and first.durable_offsets.get(1, 0) >= 400:
            first._consumer.pause(TopicPartition(topic, 1))  # partition 1 read 400 of 1,000
            paused = True
        if paused and len(first.batch):
            first.flush()
    first.close()
    before = _windows(store)
    assert before and max(t for _, t in before) < 400  # held back by partition 1's 400 s
    assert set(before.values()) == {(200, 0)}

    second = _collector(cfg, store)
    second.start()
    second.flush()  # what a start closed would be written now
    assert _windows(store) == before
    # a partition holds the watermark until its end offset is known, which may come a
    # fetch after the last events are stored: the windows close then, with no new event
    # (before, they stayed open until one came: on a loaded machine, 4 runs in 5)
    run_until([second], lambda: store.count(S.EVENTS) == 2_000 and len(_windows(store)) >= 9)
    windows = _windows(store)
    assert len(windows) == 9 and set(windows.values()) == {(200, 0)}, windows
    assert max(t for _, t in windows) == 800


def test_every_late_event_is_told_by_the_stop(
    broker, topic: str, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The WARNING about late events comes once a minute at most; the events late since
    the last one were never told when the traffic or the collector stopped before the
    next (found live: 93 told, 5,000 stored late)."""
    cfg = make_config(broker.bootstrap, topic,
                      models=[{"id": "m", "window": "100s", "allowed_lateness": "5s"}])
    collector = _collector(cfg, store)
    caplog.set_level(logging.WARNING, logger="driftscope.collector")
    batches = [[event(i) for i in range(300)],  # then two batches into the closed window
               [event(1_000 + i, seconds=10 + i) for i in range(20)],  # [0, 100 s)
               [event(2_000 + i, seconds=20 + i) for i in range(30)]]
    done = {"batches": 0, "events": 0}

    def next_batch() -> bool:  # run_until's check: the next batch once the last is stored
        if store.count(S.EVENTS) < done["events"]:
            return False
        if done["batches"] == len(batches):
            return True
        if done["batches"] and len(_windows(store)) < 2:
            return False  # the late ones once [0, 100 s) has closed
        produce(broker.bootstrap, topic, batches[done["batches"]])
        done["events"] += len(batches[done["batches"]])
        done["batches"] += 1
        return False

    run_until([collector], next_batch)
    assert store.query(f"SELECT sum(late) FROM {S.EVENTS}") == [(50,)]
    told = [int(n) for n in re.findall(r"collector: (\d+) event\(s\) came after", caplog.text)]
    assert sum(told) == 50, told
