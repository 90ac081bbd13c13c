"""One flush's worth of work: messages in, rows for every table out.

:class:`Processor` turns each Kafka message into rows of a :class:`Batch` — good events
into raw rows, profile records, sample candidates, window counts and the first and last
event time of each model version served, bad ones into dead letters — and never raises
for a bad message. A batch is written by :mod:`driftscope.collector.sink`; if that
fails, the same batch is retried unchanged.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from driftscope.collector.model import (
    ModelRegistry,
    epoch_ms,
    from_ms,
    guess_event_time,
    guess_model_id,
    payload,
)
from driftscope.collector.model import profile_record as _record
from driftscope.collector.sampling import BottomK, sample_hash
from driftscope.collector.windows import WindowTracker
from driftscope.config import Config
from driftscope.errors import ConfigError, EventError
from driftscope.events import FeedbackEvent, canonical, parse_event

log = logging.getLogger("driftscope.collector")


@dataclass(frozen=True, slots=True)
class Message:
    """What the collector needs of a Kafka record."""

    topic: str
    partition: int
    offset: int  # the store's offset: the broker's plus ``log_base`` (collector.log_epoch)
    value: bytes | None
    log_base: int = 0
    timestamp_ms: int | None = None  # the record's own time in Kafka (its producer's, or
    # the broker's; -1 or None: none): the event time of an event that gives none

    @property
    def source(self) -> str:
        """``topic/partition/offset`` with the broker's offset: where the record is in Kafka."""
        return f"{self.topic}/{self.partition}/{self.offset - self.log_base}"


@dataclass
class Part:
    """Counts (and profile records) of one model × window × partition in one flush."""

    first_offset: int
    last_offset: int
    n: int = 0
    n_late: int = 0
    max_event_ms: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DeadLetter:
    """A message that could not be stored as an event, with why."""

    topic: str
    partition: int
    offset: int
    model_id: str
    reason: str
    error: str
    raw: bytes
    raw_size: int
    source: str = ""  # topic/partition/offset in the broker (Message.source)
    event_time: datetime | None = None  # the message's own timestamp, when readable


KAFKA_TIME_MAX = 10_413_792_000_000  # 2300-01-01 in ms: events are 1900–2299


@dataclass
class Batch:
    """Rows waiting for the next flush, and the offsets they cover."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    samples: list[tuple[Any, ...]] = field(default_factory=list)
    feedback: list[tuple[Any, ...]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    features: list[tuple[str, str, str]] = field(default_factory=list)
    # (model_id, model_version) → [first, last] event time (epoch ms) of the events it
    # served in this batch, every logging mode, versions not empty (model_versions)
    versions: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    parts: dict[tuple[str, int, int, int], Part] = field(default_factory=dict)
    next_offsets: dict[int, int] = field(default_factory=dict)
    first_offsets: dict[int, int] = field(default_factory=dict)
    # per partition: the store offset of the broker's offset 0 and the last record's
    # fingerprint (driftscope.collector.log_epoch), written with the offsets row
    log_bases: dict[int, int] = field(default_factory=dict)
    last_records: dict[int, int] = field(default_factory=dict)
    consumed: int = 0
    stored: int = 0
    late: int = 0
    dead_by_reason: Counter[str] = field(default_factory=Counter)
    profiles: list[tuple[Any, ...]] | None = None  # built once, kept across retries

    def __len__(self) -> int:
        return self.consumed


def publish_dead_letters(producer: Any, topic: str, batch: Batch) -> None:
    """Send the batch's dead letters to the dead-letter topic (at least once).

    The value is the raw bytes (truncated); headers carry ``reason``, ``error``,
    ``source`` (``topic/partition/offset``) and ``raw_size``.
    """
    from kafka.errors import MessageSizeTooLargeError

    if not batch.dead:
        return
    try:
        for d in batch.dead:
            source = d.source or f"{d.topic}/{d.partition}/{d.offset}"
            headers = [
                ("reason", d.reason.encode()),
                ("error", d.error.encode(errors="backslashreplace")[:1000]),
                ("source", source.encode()),
                ("raw_size", str(d.raw_size).encode()),
            ]
            try:
                producer.send(topic, value=d.raw, headers=headers)
            except MessageSizeTooLargeError as exc:  # this one only; the table still has it
                log.warning("collector: dead letter %s not sent to %s: %s", source, topic, exc)
        producer.flush(timeout=10)
    except Exception as exc:  # timed out, unreachable: the table still has them
        log.warning("collector: dead letters not sent to topic %s: %s", topic, exc)


class Processor:
    """Validates, windows, samples and profiles messages into the current batch."""

    def __init__(self, config: Config, registry: ModelRegistry, now: Any) -> None:
        self.config = config
        self.registry = registry
        self.windows = WindowTracker()
        self.bottom_k = BottomK()
        self._now = now
        self.now = now()  # ingested_at of the messages being processed (set per poll)
        self._max_bytes = config.collector.max_event_bytes
        for m in config.models:
            if m.window.total_seconds() < 1 or m.window.total_seconds() % 1:
                raise ConfigError(
                    f"models: {m.id}: window = {m.window.total_seconds()} s; "
                    "expected a whole number of seconds, at least 1 s"
                )
        self._dl_max = config.collector.dead_letter_max_bytes

    def process(self, batch: Batch, msg: Message) -> None:
        """Add one message to the batch: as an event, a feedback row or a dead letter."""
        batch.consumed += 1
        batch.next_offsets[msg.partition] = msg.offset + 1
        batch.first_offsets.setdefault(msg.partition, msg.offset)
        raw = msg.value if msg.value is not None else b""
        model_id = ""
        try:
            if not raw:
                raise EventError("schema", "empty message: expected one JSON event")
            event = parse_event(raw, max_bytes=self._max_bytes)
            if "timestamp" not in event.model_fields_set and msg.timestamp_ms is not None \
                    and 0 < msg.timestamp_ms < KAFKA_TIME_MAX:
                # no timestamp: when Kafka got it, not when the collector read it (after
                # an outage, a backlog landed in the window it was read in, and its own
                # windows read empty)
                event = event.model_copy(update={"timestamp": datetime.fromtimestamp(
                    msg.timestamp_ms / 1000, UTC)})
            model_id = event.model_id
            model = self.registry.model(model_id)
            if isinstance(event, FeedbackEvent):
                batch.feedback.append(
                    (
                        model_id,
                        event.event_id,
                        canonical(event.label),
                        event.timestamp,
                        self.now,
                        msg.partition,
                        msg.offset,
                    )
                )
                batch.stored += 1
                return
            try:
                row = payload(event)
                event_ms = epoch_ms(event.timestamp)
            except (OverflowError, ValueError) as exc:  # a fallback: validation refuses an
                # integer beyond float range, naming its field
                raise EventError("schema", f"a value cannot be stored: {exc}") from None
            batch.features.extend(self.registry.check(event))
        except EventError as exc:
            self._dead(batch, msg, raw, model_id or guess_model_id(raw), exc.reason, str(exc),
                       event.timestamp if model_id else guess_event_time(raw, self._max_bytes))
            return
        except Exception as exc:  # a bug must not stop the collector: keep the message
            log.exception(
                "collector: cannot process %s", msg.source
            )
            self._dead(batch, msg, raw, model_id or guess_model_id(raw), "internal", repr(exc),
                       guess_event_time(raw, self._max_bytes))
            return
        size_ms = int(model.window.total_seconds() * 1000)
        lateness_ms = int(model.allowed_lateness.total_seconds() * 1000)
        start, late = self.windows.assign(model_id, event_ms, size_ms, lateness_ms, msg.partition)
        key = (model_id, start, size_ms, msg.partition)
        part = batch.parts.get(key)
        if part is None:
            part = batch.parts[key] = Part(msg.offset, msg.offset, max_event_ms=event_ms)
        part.last_offset = msg.offset
        part.n += 1
        part.n_late += late
        part.max_event_ms = max(part.max_event_ms, event_ms)
        batch.late += late
        batch.stored += 1
        if row[1] and not late:  # its model_version: when each version served
            # (model_versions; on time only: a replay or a skewed clock moves no marker)
            vkey = (model_id, row[1])
            span = batch.versions.get(vkey)
            if span is None:
                batch.versions[vkey] = [event_ms, event_ms]
            elif event_ms < span[0]:
                span[0] = event_ms
            elif event_ms > span[1]:
                span[1] = event_ms
        modes = model.logging
        if "raw" in modes:
            batch.events.append((*row, int(late), self.now, msg.partition, msg.offset))
        if "profile" in modes:
            part.records.append(_record(row))
        if "sample" in modes:
            stratum = ""
            if model.sample_stratify_by:
                stratum = event.segments.get(model.sample_stratify_by, "")
            h = sample_hash(event.event_id)
            if self.bottom_k.offer((model_id, start, stratum), h, model.sample_size):
                ws = from_ms(start)
                batch.samples.append(
                    (ws, size_ms // 1000, stratum, h, *row, msg.partition, msg.offset)
                )

    def _dead(
        self, batch: Batch, msg: Message, raw: bytes, model_id: str, reason: str, error: str,
        event_time: datetime | None = None,
    ) -> None:
        batch.dead.append(
            DeadLetter(
                msg.topic,
                msg.partition,
                msg.offset,
                model_id,
                reason,
                next((ln.strip() for ln in error.splitlines() if ln.strip()), reason)[:1000],
                raw[: self._dl_max],
                len(raw),
                msg.source,
                event_time,
            )
        )
        batch.dead_by_reason[reason] += 1

    def closed_windows(self) -> list[tuple[str, int, int]]:
        """Windows closed since the last call; their sample state is dropped."""
        closed = self.windows.take_closed()
        for model_id, start, _size in closed:
            self.bottom_k.forget(model_id, start)
        return closed
