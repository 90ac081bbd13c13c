"""Event-time windows, lateness, profiles, samples, feedback join, metrics — on real Kafka
and chDB, with events sent to one partition so their order is known."""

from __future__ import annotations

import logging
import urllib.request
from datetime import timedelta

import numpy as np
import pytest
from collector_support import T0, event, make_config, produce, run_until, stored_offsets
from prometheus_client import CollectorRegistry

from driftscope.broker import ensure_topics
from driftscope.collector import reader
from driftscope.collector.sampling import sample_hash
from driftscope.collector.service import Collector
from driftscope.store.clickhouse import Store
from driftscope.telemetry import serve_metrics

MODELS = [
    {
        "id": "m",
        "logging": ["raw", "profile", "sample"],
        "window": "10s",
        "allowed_lateness": "5s",
        "sample_size": 5,
    },
    {
        "id": "s",
        "logging": ["profile", "sample"],
        "window": "10s",
        "allowed_lateness": "5s",
        "sample_size": 3,
        "sample_stratify_by": "region",
    },
]


def test_windows_lateness_profiles_samples_feedback(
    broker, topic: str, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="driftscope.collector")
    # one partition, so the order events are read in is the order they were sent (with
    # several partitions the watermark also waits for partitions not read yet)
    topic = f"{topic}.single"
    ensure_topics(broker.bootstrap, [topic, f"{topic}.dlq"], partitions=1)
    w0 = [event(i, seconds=i / 4) for i in range(40)]  # [0 s, 10 s)
    stream = [
        *w0,
        event(100, seconds=21),  # watermark 16 s: closes [0, 10)
        event(101, seconds=3),  # late: its window is closed
        event(102, seconds=12),  # on time: [10, 20) is still open
        event(103, seconds=41),  # watermark 36 s: closes [10, 20) and [20, 30)
        *[
            event(i, model="s", seconds=i / 10, segments={"region": ["eu", "us"][i % 2]})
            for i in range(20)
        ],
        event(7, model="auto"),  # not configured: auto-registered, kinds inferred
        {
            "kind": "feedback",
            "model_id": "m",
            "event_id": "m-1",
            "label": "yes",
            "timestamp": (T0 + timedelta(hours=1)).isoformat(),
        },
        {
            "kind": "feedback",
            "model_id": "m",
            "event_id": "m-2",
            "label": "no",
            "timestamp": (T0 + timedelta(days=30)).isoformat(),
        },  # beyond the horizon
    ]
    n = produce(broker.bootstrap, topic, stream)
    cfg = make_config(broker.bootstrap, topic, models=MODELS)
    registry = CollectorRegistry()
    server = serve_metrics(registry, 0)
    c = Collector(
        cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]}, registry=registry
    )
    try:
        run_until(
            [c],
            lambda: (
                stored_offsets(store, cfg.kafka.group_id) >= n
                and len(reader.closed_windows(store, "m")) >= 3
            ),
        )
        body = (
            urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5)
            .read()
            .decode()
        )
    finally:
        server.shutdown()

    windows = {w.start: w for w in reader.closed_windows(store, "m")}
    w0s = T0
    assert [(w.n_events, w.n_late) for w in windows.values()][:3] == [(40, 1), (1, 0), (1, 0)]
    assert windows[w0s].end == T0 + timedelta(seconds=10)
    late = store.query("SELECT event_id FROM events WHERE late = 1")
    assert late == [("m-101",)]

    rows = reader.load_window_rows(store, "m", w0s, window_seconds=10)
    assert len(rows) == 41 and rows.late.sum() == 1
    assert rows.features["x"].dtype == np.float64 and rows.features["color"].dtype == object
    assert set(rows.predictions) == {"score", "cls"}
    labels = dict(zip(rows.event_ids, rows.labels, strict=True))
    assert labels["m-1"] == "yes" and labels["m-2"] is None and labels["m-3"] is None

    prof = reader.load_window_profile(store, "m", w0s)
    assert prof.get_column("x").get_metric("counts").n.value == 41
    assert prof.get_column("prediction.score") is not None

    sample = reader.load_window_sample(store, "m", w0s, 5)
    ids = [e["event_id"] for e in w0] + ["m-101"]
    assert list(sample.event_ids) == sorted(ids, key=sample_hash)[:5]
    strat = reader.load_window_sample(store, "s", w0s, 3)
    for region in ("eu", "us"):
        mine = [f"s-{i}" for i in range(20) if ["eu", "us"][i % 2] == region]
        got = [e for e, st in zip(strat.event_ids, strat.strata, strict=True) if st == region]
        assert got == sorted(mine, key=sample_hash)[:3]
    assert (
        reader.load_window_profile(store, "s", w0s).get_column("x").get_metric("counts").n.value
        == 20
    )
    assert store.count("events", "model_id = 's'") == 0  # profile and sample only
    assert store.count("events", "model_id = 'auto'") == 1  # default logging: raw
    assert reader.feature_kinds(store, "auto") == {
        "color": "categorical",
        "n": "numeric",
        "x": "numeric",
        "prediction.cls": "categorical",
        "prediction.score": "numeric",
    }

    assert registry.get_sample_value("driftscope_collector_consumed_total") == n
    assert registry.get_sample_value("driftscope_collector_late_total") == 1
    # said once, in one line: the late event is not in any verdict already given
    said = [r.getMessage() for r in caplog.records if "after their window" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("collector: 1 event(s) came after"), said
    assert "driftscope_collector_flush_seconds_bucket" in body
    assert "driftscope_collector_lag" in body
    stats = store.query("SELECT sum(consumed), sum(stored), sum(late) FROM collector_stats")
    assert stats == [(n, n, 1)]


def test_a_window_closed_short_by_a_killed_process_is_recounted_on_start(
    broker, topic: str, store: Store
) -> None:
    from datetime import UTC, datetime

    from driftscope.store import schema as S

    cfg = make_config(broker.bootstrap, topic, models=MODELS[:1])
    opts = {"bootstrap_servers": [broker.bootstrap]}
    n = produce(broker.bootstrap, topic, [event(i) for i in range(40)])  # 40 s: 4 windows
    W = S.WINDOWS
    run_until([Collector(cfg, store, kafka_options=opts, registry=CollectorRegistry())],
              lambda: stored_offsets(store, cfg.kafka.group_id) >= n
              and store.query(f"SELECT uniqExact({W.window_start}) FROM {W}")[0][0] >= 3)
    counts = dict(store.query(f"SELECT toUnixTimestamp64Milli({W.window_start}), "
                              f"argMax({W.n_events}, {W.closed_at}) FROM {W} GROUP BY 1"))
    assert set(counts.values()) == {10}
    first = min(counts)
    # what a process leaves that stored on-time parts of a window another one had closed,
    # and was killed before closing it again: a windows row short of its parts
    store.insert(W, [("m", datetime.fromtimestamp(first / 1000, UTC),
                      datetime.fromtimestamp(first / 1000 + 10, UTC), 10, 4, 0,
                      datetime.now(UTC))], W.columns)

    def recounted() -> bool:
        rows = store.query(f"SELECT argMax({W.n_events}, {W.closed_at}) FROM {W} "
                           f"WHERE toUnixTimestamp64Milli({W.window_start}) = {first}")
        return rows[0][0] == 10

    assert not recounted()
    run_until([Collector(cfg, store, kafka_options=opts, registry=CollectorRegistry())],
              recounted, timeout=30)


def test_a_lateness_as_long_as_the_window_is_told_at_the_start(
    broker, store: Store, topic: str, caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    """Found in review: 10-second windows under the default minute of lateness were each
    judged 70 s after their end, and the collector said nothing about it."""
    cfg = make_config(broker.bootstrap, topic, models=[
        {"id": "fast", "window": "10s"}, {"id": "hourly", "window": "1h"}])
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    with caplog.at_level(logging.WARNING, logger="driftscope.collector"):
        c.start()
        c.close()
    said = [r.getMessage() for r in caplog.records if "allowed_lateness" in r.getMessage()]
    assert said == ["model fast: its 10s windows close 1m after their end (allowed_lateness): "
                    "each is judged that late; an allowed_lateness under the window closes "
                    "them sooner"]
