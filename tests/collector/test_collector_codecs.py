"""Events an application's producer compressed (``client_options: {compression_type: …}``)
are stored, whatever the codec: found in review, zstd and snappy batches stopped the
collector with a traceback at the same offset on every restart (their libraries were not
installed), and every partition's events after them were neither stored nor
dead-lettered."""

from __future__ import annotations

import pytest
from collector_support import event, make_config, run_until, stored_offsets

from driftscope.client import PredictionLogger
from driftscope.collector.service import Collector
from driftscope.errors import BrokerError
from driftscope.store.clickhouse import Store


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_compressed_events_are_stored(broker, topic: str, store: Store, codec: str) -> None:
    with PredictionLogger(broker.bootstrap, topic=topic,
                          client_options={"compression_type": codec}) as app:
        for i in range(50):
            e = event(i)
            app.log("m", e["features"], e["predictions"], event_id=e["event_id"])
    assert app.stats.sent == 50
    cfg = make_config(broker.bootstrap, topic)
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    run_until([c], lambda: stored_offsets(store, cfg.kafka.group_id) >= 50)
    assert store.count("events") == 50 and store.count("dead_letters") == 0


def test_a_batch_it_cannot_read_stops_the_collector_with_one_line(
    broker, topic: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A codec whose library is missing where the collector runs (hidden here): one line
    that names the cause, and nothing stored past it, so nothing is skipped."""
    import kafka.codec

    with PredictionLogger(broker.bootstrap, topic=topic,
                          client_options={"compression_type": "zstd"}) as app:
        app.log("m", {"x": 1.0}, {"score": 0.5})
    monkeypatch.setattr(kafka.codec, "has_zstd", lambda: False)
    cfg = make_config(broker.bootstrap, topic)
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    with pytest.raises(BrokerError) as info:
        for _ in range(100):
            c.poll_once()
    c.close()
    assert str(info.value) == (
        f"topic {topic}: a batch of messages cannot be read (UnsupportedCodecError: "
        "Libraries for zstd compression codec not found); nothing after it is stored until "
        "it can (install the codec's library: lz4, zstandard, python-snappy)")
    assert store.count("events") == 0
