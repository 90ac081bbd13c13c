"""When each model version served (``model_versions``): written by the collector with every
flush, for every logging mode, and filled from the store's events by migration 208 — on
real Kafka and chDB, and through the collector's own Processor and Sink."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from collector_support import T0, event, make_config, produce, run_until, stored_offsets

from driftscope.broker import ensure_topics
from driftscope.collector.batch import Batch, Message, Processor
from driftscope.collector.model import ModelRegistry
from driftscope.collector.service import Collector
from driftscope.collector.sink import Sink
from driftscope.config import Config
from driftscope.store import schema as S
from driftscope.store import sql_guard
from driftscope.store.clickhouse import Store, _statements, migrations

Span = dict[tuple[str, str], tuple[datetime, datetime]]
MIGRATION = next(name for _, name, _ in migrations() if name.startswith("208_"))


def recorded(store: Store) -> Span:
    """(model, version) → (first, last) event time, as a reader of the table sees it."""
    V = S.MODEL_VERSIONS
    rows = store.query(
        f"SELECT {V.model_id}, {V.model_version}, min({V.first_seen}), max({V.last_seen}) "
        f"FROM {V} GROUP BY {V.model_id}, {V.model_version}")
    return {(m, v): (_utc(a), _utc(b)) for m, v, a, b in rows}


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def expected(events: Iterable[dict[str, Any]]) -> Span:
    """Each (model, version)'s first and last event time, versions that are not empty."""
    out: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for e in events:
        version = e.get("model_version", "")
        if not version or e.get("kind") == "feedback":
            continue
        t = datetime.fromisoformat(e["timestamp"])
        key = (e["model_id"], version)
        first, last = out.get(key, (t, t))
        out[key] = (min(first, t), max(last, t))
    return out


def versioned(i: int, model: str, seconds: float, version: str) -> dict[str, Any]:
    return event(i, model=model, seconds=seconds, model_version=version)


def rollout(model: str) -> list[dict[str, Any]]:
    """Version 1 from 0 s, version 2 rolled out from 15 s beside it, alone from 30 s to
    45 s; a late version-1 event from before the rest (-5 s) in the middle of the stream;
    and events that carry no version (50-59 s)."""
    out = [versioned(i, model, i, "1") for i in range(20)]
    out += [versioned(100 + i, model, 15 + i, "2") for i in range(15)]
    out.append(versioned(200, model, -5, "1"))
    out += [versioned(300 + i, model, 30 + i, "2") for i in range(16)]
    out += [event(400 + i, model=model, seconds=50 + i) for i in range(10)]
    return out


def _now() -> datetime:
    return datetime.now(UTC)


def collect(store: Store, cfg: Config, batches: list[list[dict[str, Any]]],
            sink: Sink | None = None, first_offset: int = 0) -> Sink:
    """Feed events through the collector's Processor and Sink, one flush per batch."""
    proc = Processor(cfg, ModelRegistry(cfg), _now)
    sink = sink or Sink(store, "g", "t", _now)
    offset = first_offset
    for values in batches:
        batch = Batch()
        for v in values:
            proc.process(batch, Message("t", 0, offset, json.dumps(v).encode()))
            offset += 1
        batch.next_offsets[0] = offset
        sink.write(batch, proc.registry.kinds)
    return sink


def test_every_logging_mode_records_each_version_first_and_last_event(
    broker, topic: str, store: Store
) -> None:
    """A raw, a sampled and a profile-only model: each version's first and last event
    time, from events read over many flushes and out of order; none for events without
    a version, nor for a model whose events never carry one."""
    topic = f"{topic}.single"
    ensure_topics(broker.bootstrap, [topic, f"{topic}.dlq"], partitions=1)
    models = [
        {"id": "raw", "logging": ["raw"], "window": "10s", "allowed_lateness": "1h"},
        {"id": "sampled", "logging": ["sample"], "window": "10s", "allowed_lateness": "1h",
         "sample_size": 2},
        {"id": "profiled", "logging": ["profile"], "window": "10s", "allowed_lateness": "1h"},
        {"id": "plain", "logging": ["raw"], "window": "10s"},
    ]
    stream: list[dict[str, Any]] = []
    for parts in zip(rollout("raw"), rollout("sampled"), rollout("profiled"), strict=True):
        stream += parts  # the models interleaved, as one topic carries them
    stream += [event(i, model="plain", seconds=i) for i in range(10)]
    stream.append({"kind": "feedback", "model_id": "raw", "event_id": "raw-1", "label": "1",
                   "timestamp": (T0 + timedelta(seconds=90)).isoformat()})
    n = produce(broker.bootstrap, topic, stream)
    cfg = make_config(broker.bootstrap, topic, models=models,
                      collector={"batch_size": 25, "flush_interval": "0.2s"})
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    run_until([c], lambda: stored_offsets(store, cfg.kafka.group_id) >= n)

    assert store.count(S.COLLECTOR_STATS) > 1  # several flushes, each with its rows
    got = recorded(store)
    assert got == expected(stream)
    assert got[("raw", "1")] == (T0 - timedelta(seconds=5), T0 + timedelta(seconds=19))
    assert got[("raw", "2")] == (T0 + timedelta(seconds=15), T0 + timedelta(seconds=45))
    # the collector sees every event: the sampled model's unsampled ones count, and the
    # profile-only model (no event row at all) has its versions too
    assert store.count(S.SAMPLES, "model_id = 'sampled'") < len(rollout("sampled"))
    assert store.count(S.EVENTS, "model_id = 'profiled'") == 0
    assert got[("profiled", "2")] == got[("raw", "2")] == got[("sampled", "2")]
    assert not any(m == "plain" or v == "" for m, v in got)


def test_a_flush_retried_or_rolled_back_and_read_again_changes_nothing(store: Store) -> None:
    cfg = Config.model_validate({"models": [{"id": "m", "logging": ["raw"], "window": "10s",
                                             "allowed_lateness": "1h"}]})
    events = rollout("m")
    sink = collect(store, cfg, [events[:30]])
    first = recorded(store)
    assert first == expected(events[:30])
    # the rest: written twice (a retried flush), then rolled back before its offsets row
    # and read again by a collector started afresh
    collect(store, cfg, [events[30:]], sink=sink, first_offset=30)
    collect(store, cfg, [events[30:]], sink=sink, first_offset=30)
    assert recorded(store) == expected(events)
    assert sink.recover({0: 30}) > 0  # the events of offsets 30 on are deleted
    assert store.count(S.EVENTS) == 30
    collect(store, cfg, [events[30:]], sink=sink, first_offset=30)
    assert store.count(S.EVENTS) == len(events)
    assert recorded(store) == expected(events)


def test_the_migration_fills_what_the_collector_records_and_runs_again_harmlessly(
    store: Store,
) -> None:
    """A store migrated before 208 gets each version of its raw and sampled events: the
    spans the collector records. Migrating again, or the file run again (in another
    process, or after one that died before recording it), changes nothing."""
    cfg = Config.model_validate({"models": [
        {"id": "both", "logging": ["raw", "sample"], "window": "10s", "allowed_lateness": "1h",
         "sample_size": 3},
        {"id": "profiled", "logging": ["profile"], "window": "10s", "allowed_lateness": "1h"},
    ]})
    events = rollout("both") + rollout("profiled")
    collect(store, cfg, [events[:40], events[40:90], events[90:]])
    by_collector = recorded(store)
    assert by_collector == expected(events)

    # as if 208 had never run: the table gone, its record too
    store.command(f"DROP TABLE {S.MODEL_VERSIONS}")
    store.command(f"DELETE FROM {S.SCHEMA_MIGRATIONS} WHERE version = 208")
    assert store.migrate() == [MIGRATION]
    filled = recorded(store)
    # a profile-only model's past events are not in the store: only the collector has them
    assert filled == {k: span for k, span in by_collector.items() if k[0] == "both"}

    assert store.migrate() == []
    assert recorded(store) == filled
    sql = next(sql for _, name, sql in migrations() if name == MIGRATION)
    for _ in range(2):
        for statement in _statements(sql):
            store.command(statement)
    assert recorded(store) == filled
    collect(store, cfg, [rollout("profiled")], first_offset=len(events))
    assert recorded(store) == by_collector


def test_the_migration_passes_the_store_port_guard(store: Store) -> None:
    """``driftscope migrate`` runs through ``serve``'s port: every statement must pass."""
    sql = next(sql for _, name, sql in migrations() if name == MIGRATION)
    for statement in _statements(sql):
        normalized = store.query(sql_guard.NORMALIZE, {"q": statement})[0][0]
        assert sql_guard.refused(normalized) is None, statement


def test_an_event_that_came_after_its_window_closed_moves_no_marker(store: Store) -> None:
    """A replay of old data or a skewed clock (an event an hour before the rest, its
    window long closed) is stored as late; a version's first event stays the on-time one."""
    cfg = Config.model_validate({"models": [{"id": "m", "logging": ["raw"], "window": "10s",
                                             "allowed_lateness": "1s"}]})
    on_time = [versioned(i, "m", 10 + i, "1") for i in range(20)]
    stray = versioned(99, "m", -3600, "1")
    collect(store, cfg, [on_time, [stray]])
    assert store.count(S.EVENTS, "late") == 1
    assert recorded(store) == expected(on_time)
