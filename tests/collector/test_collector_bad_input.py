"""Bad input of every kind is dead-lettered (topic and table) with its reason, partition,
offset and raw bytes; the collector keeps going; count in = stored + dead-lettered."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta

import pytest
from collector_support import T0, event, make_config, produce, run_until, stored_offsets
from kafka import KafkaConsumer

from driftscope.collector.service import Collector
from driftscope.store.clickhouse import Store

BIG = json.dumps(
    {
        **event(0),
        "model_version": "x" * 100,
        "event_id": "big",
        "features": {"blob": "y" * 2_000_000},
    }
).encode()
BAD: list[tuple[bytes | dict, str]] = [
    (b'{"model_id": "m", "features": {', "malformed_json"),
    ({**event(1), "features": {"x": {"nested": 1}}}, "schema"),
    ({k: v for k, v in event(2).items() if k != "model_id"}, "schema"),
    (b'{"model_id": "m", "features": {"x": NaN}}', "non_finite"),
    (b'{"model_id": "m", "features": {"x": -Infinity}}', "non_finite"),
    (BIG, "oversized"),
    (b'{"model_id": "m", "features": {"c": "\xff\xfe"}}', "not_utf8"),
    (event(3, model="nobody"), "unknown_model"),
    ({**event(4), "features": {"x": "now a string"}}, "type_change"),
    (b"", "schema"),
    (b'{"model_id": "m", "features": {"x": 1' + b"0" * 400 + b"}}", "schema"),  # > float
    ({**event(5), "timestamp": "2026-01-01T00:00:00"}, "schema"),  # no time zone
    # strings UTF-8 cannot encode (a lone surrogate) would crash the flush, every restart
    (b'{"model_id": "m", "timestamp": "2026-03-01T00:00:05Z", "label": "\\udfff"}', "not_utf8"),
    (b'{"model_id": "m", "features": {"color": "\\udfff"}}', "not_utf8"),
    # timestamps ClickHouse cannot store or a window start cannot be computed for
    ({**event(6), "timestamp": "0001-01-02T00:00:00Z"}, "schema"),
    ({**event(7), "timestamp": "0001-01-01T00:00:00+01:00"}, "schema"),
    (b"[" * 100_000 + b"]" * 100_000, "malformed_json"),  # too deep for the parser
    (b'{"model_id": "m", "\\nfeaturs": {}}', "schema"),  # the error must not be blank
    # would overwrite prediction "score" in profiles and retype it for every later event
    ({**event(8), "features": {"prediction.score": "high"}}, "schema"),
]


def expected_offset(expected: dict[int, str], k: int) -> int:
    """The offset of the ``k``-th (1-based) entry of :data:`BAD` in the stream."""
    return sorted(expected)[k - 1]


def test_bad_input_dead_lettered(broker, topic: str, store: Store,
                                 caplog: pytest.LogCaptureFixture) -> None:
    stream: list[bytes | dict] = []
    expected: dict[int, str] = {}
    for i, (bad, reason) in enumerate(BAD):
        stream.append(event(100 + i))  # a good one between each bad one
        expected[len(stream)] = reason
        stream.append(bad)
    stream.append(event(999))
    n = produce(broker.bootstrap, topic, stream, partition=2)
    cfg = make_config(
        broker.bootstrap,
        topic,
        models=[{"id": "m", "logging": ["raw", "profile", "sample"]}],
        collector={"unknown_models": "dead_letter", "dead_letter_max_bytes": 4096},
    )
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    with caplog.at_level("WARNING", logger="driftscope.collector"):
        run_until([c], lambda: stored_offsets(store, cfg.kafka.group_id) >= n)
    # the log says so: a line a minute at most, every one counted by the stop
    told = [m for r in caplog.records
            if (m := re.match(r"collector: (\d+) message\(s\) dead-lettered \((.*?); the first",
                              r.getMessage()))]
    assert told and sum(int(m[1]) for m in told) == len(BAD)
    # by reason, summed over the lines (how many a line holds depends on the polls: the
    # first line said "1 malformed_json" only while the first poll held one message)
    said: Counter[str] = Counter()
    for m in told:
        for part in m[2].split(", "):
            k, reason = part.split(" ", 1)
            said[reason] += int(k)
    assert said == Counter(reason for _, reason in BAD)
    assert "table dead_letters" in caplog.text

    rows = store.query(
        "SELECT kafka_partition, kafka_offset, reason, error, length(raw), raw_size, model_id, "
        "topic FROM dead_letters ORDER BY kafka_offset"
    )
    assert {r[1]: r[2] for r in rows} == expected
    assert all(r[0] == 2 and r[7] == topic and len(r[3].splitlines()) == 1 for r in rows)
    assert any(r[3].startswith("\\nfeaturs: Extra inputs") for r in rows)
    big = next(r for r in rows if r[2] == "oversized")
    assert big[4] == 4096 and big[5] == len(BIG)
    assert next(r for r in rows if r[2] == "unknown_model")[6] == "nobody"
    assert next(r for r in rows if r[2] == "type_change")[3].startswith("x: was numeric")
    # each dead letter's own event time, when it has one that reads as an event's would
    times = {r[0]: r[1] for r in store.query(
        "SELECT kafka_offset, event_time FROM dead_letters ORDER BY kafka_offset")}
    by_reason = {reason: times[o] for o, reason in expected.items()}
    t = {i: (T0 + timedelta(seconds=i)).replace(tzinfo=None) for i in (1, 2, 4)}
    assert by_reason["type_change"] == t[4]  # refused after it was read
    assert times[expected_offset(expected, 3)] == t[2]  # no model_id: read from the raw bytes
    assert times[expected_offset(expected, 2)] == t[1]  # a bad feature
    assert by_reason["malformed_json"] is None and by_reason["unknown_model"] is not None
    assert times[expected_offset(expected, 12)] is None  # a timestamp without a time zone
    stored = store.count("events")
    assert stored == len(BAD) + 1
    assert stored + len(rows) == n  # count in = stored + dead-lettered

    dlq = KafkaConsumer(
        f"{topic}.dlq",
        bootstrap_servers=[broker.bootstrap],
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    msgs = list(dlq)
    dlq.close()
    assert sorted(dict(m.headers)["reason"].decode() for m in msgs) == sorted(expected.values())
    assert {dict(m.headers)["source"].decode() for m in msgs} == {
        f"{topic}/2/{o}" for o in expected
    }


def test_an_event_without_a_timestamp_takes_its_kafka_records_time(
    broker, topic: str, store: Store
) -> None:
    """Its event time is when Kafka got it (the record's timestamp), not when the collector
    read it: a collector down for an hour put the hour's backlog into the window it read
    it in, and left that hour's own windows empty."""
    from datetime import UTC, datetime

    from kafka import KafkaProducer

    sent_at = datetime(2026, 3, 1, 12, 34, 56, 789000, tzinfo=UTC)
    producer = KafkaProducer(bootstrap_servers=[broker.bootstrap])
    no_time = {k: v for k, v in event(7).items() if k != "timestamp"}
    producer.send(topic, value=json.dumps(no_time).encode(), partition=0,
                  timestamp_ms=int(sent_at.timestamp() * 1000))
    producer.send(topic, value=json.dumps(event(8)).encode(), partition=0,  # its own time
                  timestamp_ms=int(sent_at.timestamp() * 1000))
    producer.flush()
    producer.close()
    cfg = make_config(broker.bootstrap, topic)
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    run_until([c], lambda: stored_offsets(store, cfg.kafka.group_id) >= 2)
    times = dict(store.query("SELECT event_id, timestamp FROM events"))
    assert times[no_time["event_id"]].replace(tzinfo=UTC) == sent_at
    assert times[event(8)["event_id"]].replace(tzinfo=UTC) == T0 + timedelta(seconds=8)
