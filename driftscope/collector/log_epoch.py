"""Telling whether a partition still holds the log the store's offsets were read from.

The store keeps, per partition, the next offset to read and a fingerprint of the last
record read (``consumer_offsets.next_offset`` and ``last_record``). When the broker's log is
replaced under those offsets, seeking there reads nothing, or the wrong records: the
embedded broker keeps its log in memory, so a restart starts every partition again at
offset 0, and a topic deleted and created again does the same on any Kafka. Before the
collector seeks, :func:`new_logs` reads the record just before the stored offset:

- the same record (fingerprint equal): the same log; read on from the stored offset;
- another record, or no record where the log must have one (the log ends before it):
  a **new log**: read it from its start;
- a later record only (retention or compaction removed that one), or no answer in time:
  the same log, as far as can be told; read on, as Kafka would.

Offsets in the store stay one increasing sequence per partition across logs: a new log's
records are stored at ``log_base`` + their offset in the broker, ``log_base`` being the next
offset stored when the new log was found (kept in ``consumer_offsets``). So the rollback of
an unfinished flush (:meth:`driftscope.collector.sink.Sink.recover`, by offset) never
reaches the rows of an earlier log, and the stored next offset is always the latest.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("driftscope.collector")

UNKNOWN = 0  # the fingerprint of rows written before fingerprints were kept


def fingerprint(record: Any) -> int:
    """A 64-bit fingerprint of a Kafka record: its value, key and timestamp (never 0)."""
    h = hashlib.blake2b(digest_size=8)
    h.update(record.value or b"")
    h.update(b"\0")
    h.update(record.key or b"")
    h.update(int(record.timestamp or 0).to_bytes(8, "little", signed=True))
    return int.from_bytes(h.digest(), "little") or 1


@dataclass(frozen=True)
class Position:
    """Where the store says a partition was read to (offsets in the store's sequence)."""

    next_offset: int
    log_base: int = 0
    last_record: int = UNKNOWN

    @property
    def broker_offset(self) -> int:
        """The next offset to read in the broker's current log."""
        return self.next_offset - self.log_base


def new_logs(options: dict[str, Any], topic: str, positions: dict[int, Position],
             timeout: float = 5.0) -> set[int]:
    """The partitions whose broker log is a new one, not the one their position was read from.

    Reads, with a consumer of its own (no group), the record just before each stored offset;
    see the module docstring for what each answer means.
    """
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError, OffsetOutOfRangeError

    wanted = {
        TopicPartition(topic, p): pos.broker_offset - 1
        for p, pos in positions.items()
        if pos.broker_offset > 0  # nothing read from this log yet: its start is right
    }
    if not wanted:
        return set()
    new: set[int] = set()
    consumer = None
    try:
        ms = max(int(timeout * 1000), 1000)  # an unreachable broker too: not kafka's 30 s
        consumer = KafkaConsumer(**{
            "request_timeout_ms": ms, "bootstrap_timeout_ms": ms, **options,
            "group_id": None, "enable_auto_commit": False, "auto_offset_reset": "none",
        })
        consumer.assign(list(wanted))
        for tp, offset in wanted.items():
            consumer.seek(tp, offset)
        open_ = dict(wanted)
        deadline = time.monotonic() + timeout
        while open_ and time.monotonic() < deadline:
            try:
                fetched = consumer.poll(timeout_ms=250)
            except OffsetOutOfRangeError as exc:
                # below the log's start: retention took the record (the same log); at or
                # beyond its end: the log is shorter than what was read from it
                starts = consumer.beginning_offsets(list(exc.args[0]) if exc.args else [])
                for tp, start in starts.items():
                    if tp in open_:
                        if open_[tp] >= start:
                            new.add(tp.partition)
                        del open_[tp]
                        consumer.pause(tp)
                continue
            for tp, records in fetched.items():
                if tp in open_ and records:
                    first, offset = records[0], open_.pop(tp)
                    consumer.pause(tp)
                    # a later record only: retention or compaction took it; cannot tell
                    if first.offset == offset and positions[tp.partition].last_record not in (
                        UNKNOWN, fingerprint(first)
                    ):
                        new.add(tp.partition)
            for tp in list(open_):
                end = consumer.highwater(tp)
                if end is not None and end <= open_[tp]:
                    new.add(tp.partition)  # the broker answered: its log ends before it
                    del open_[tp]
        for tp, offset in open_.items():
            log.warning(
                "collector: could not read %s/%d at offset %d in %.0f s to check the log is "
                "the one read before; reading on from the stored offset",
                topic, tp.partition, offset, timeout,
            )
    except KafkaError as exc:
        log.warning("collector: could not check the logs of %s (%s); reading on", topic, exc)
    finally:
        if consumer is not None:
            consumer.close(autocommit=False)
    return new
