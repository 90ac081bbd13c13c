"""Writing batches to the store so that queries see every event exactly once.

A flush writes, in order: raw events, feedback, dead letters, sample candidates, profile
parts and window counts — each row tagged with its Kafka partition and offset (profiles
and window parts with their first and last offset) — the feature kinds first seen and the
first and last event time of each model version served (``model_features``,
``model_versions``: untagged, rows written twice change nothing), then one
``consumer_offsets`` row per partition with the next offset to read. Only then are the
Kafka offsets committed.

On start and whenever partitions are assigned, :meth:`Sink.recover` reads each partition's
``next_offset`` and deletes the rows of that partition at or beyond it from every data
table: that rolls back a flush that died before its offsets row. The consumer then seeks
there. No query needs ``FINAL``. Offsets are the store's: one increasing sequence per
partition even when the broker's log is replaced (:mod:`driftscope.collector.log_epoch`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from driftscope.collector.batch import Batch
from driftscope.collector.log_epoch import UNKNOWN, Position
from driftscope.collector.model import from_ms
from driftscope.collector.profiling import profile_bytes
from driftscope.errors import ConfigError
from driftscope.store import schema as s
from driftscope.store.clickhouse import Store

log = logging.getLogger("driftscope.collector")

EVENT_COLUMNS = (*s.EVENT_PAYLOAD, "late", "ingested_at", *s.KAFKA_POS)
SAMPLE_COLUMNS = s.SAMPLES.columns
FEEDBACK_COLUMNS = s.FEEDBACK.columns
# (table, partition column, offset column) of every table a flush writes.
DATA_TABLES: tuple[tuple[s._Table, str, str], ...] = (
    (s.EVENTS, "kafka_partition", "kafka_offset"),
    (s.FEEDBACK, "kafka_partition", "kafka_offset"),
    (s.DEAD_LETTERS, "kafka_partition", "kafka_offset"),
    (s.SAMPLES, "kafka_partition", "kafka_offset"),
    (s.PROFILES, "kafka_partition", "first_offset"),
    (s.WINDOW_PARTS, "kafka_partition", "first_offset"),
)


class Sink:
    """The collector's writes and its recovery reads, for one group and topic."""

    def __init__(
        self, store: Store, group_id: str, topic: str, now: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.group_id = group_id
        self.topic = topic
        self._now = now

    # -- recovery -------------------------------------------------------------------------
    def stored_offsets(self, partitions: Sequence[int]) -> dict[int, Position]:
        """Per partition, where the store says the topic was read to (``consumer_offsets``),
        whichever group stored it: the rollback (:meth:`recover`) deletes rows of the
        partition whatever group wrote them, so it must start where the store's rows end.
        A collector whose ``kafka.group_id`` changed therefore reads on from there (and
        says so) rather than from the log's start, which would first delete every row the
        store holds of the topic, lost for good where the log no longer has them."""
        c = s.CONSUMER_OFFSETS
        latest = f"({c.next_offset}, {c.committed_at})"
        rows = self.store.query(
            f"SELECT {c.kafka_partition}, max({c.next_offset}), argMax({c.log_base}, "
            f"{latest}), argMax({c.last_record}, {latest}), argMax({c.group_id}, {latest}) "
            f"FROM {c} WHERE topic = {{t:String}} AND kafka_partition IN {{p:Array(Int32)}} "
            "GROUP BY kafka_partition",
            {"t": self.topic, "p": list(partitions)},
        )
        others = sorted({(str(g), int(p)) for p, _, _, _, g in rows if g != self.group_id})
        if others:
            log.warning(
                "collector: group %s reads %s on from where group(s) %s left it in the store "
                "(partitions %s); a change of kafka.group_id does not read the topic again",
                self.group_id, self.topic, ", ".join(sorted({g for g, _ in others})),
                sorted(p for _, p in others),
            )
        return {int(p): Position(int(o), int(b), int(h)) for p, o, b, h, _ in rows}

    def check_topic(self) -> None:
        """Refuse a store that holds another topic's events: its rows keep partition and
        offset, not the topic, so this topic's rollback (:meth:`recover`, from offset 0 on
        a partition it never stored) deleted them — a change of ``kafka.topic`` lost every
        event stored before it."""
        c = s.CONSUMER_OFFSETS
        rows = self.store.query(f"SELECT DISTINCT {c.topic} FROM {c} WHERE {c.topic} != "
                                f"{{t:String}} ORDER BY {c.topic}", {"t": self.topic})
        if rows:
            held = ", ".join(repr(r[0]) for r in rows)
            raise ConfigError(
                f"the store holds events collected from topic {held}; collecting "
                f"{self.topic!r} into it would delete them (a store's events keep their "
                "partition and offset, not their topic): give this topic a store of its own "
                f"(store.database), or set kafka.topic back to {rows[0][0]!r}")

    def new_log(self, partition: int, pos: Position) -> Position:
        """Record that ``partition`` holds a new log whose offset 0 is stored at
        ``pos.next_offset`` (see :mod:`driftscope.collector.log_epoch`)."""
        new = Position(pos.next_offset, pos.next_offset)
        self.store.insert(
            s.CONSUMER_OFFSETS,
            [(self.group_id, self.topic, partition, new.next_offset, self._now(), new.log_base,
              new.last_record)],
            s.CONSUMER_OFFSETS.columns,
        )
        return new

    def recover(self, starts: dict[int, int]) -> int:
        """Delete rows at or beyond ``starts[partition]``; return how many were found."""
        if not starts:
            return 0
        parts = list(starts)
        offs = [starts[p] for p in parts]
        found = 0
        for table, pcol, ocol in DATA_TABLES:
            where = (
                f"indexOf({{p:Array(Int32)}}, {pcol}) > 0 AND "
                f"{ocol} >= {{o:Array(Int64)}}[indexOf({{p:Array(Int32)}}, {pcol})]"
            )
            if table is s.DEAD_LETTERS:
                where += " AND topic = {t:String}"
            params = {"p": parts, "o": offs, "t": self.topic}
            n = self.store.count(table, where, **params)
            if n:
                self.store.command(f"DELETE FROM {table} WHERE {where}", params)
                log.info("collector: rolled back %d rows of an unfinished flush from %s", n, table)
                found += n
        return found

    # -- the flush ------------------------------------------------------------------------
    def write(self, batch: Batch, kinds: dict[str, dict[str, str]]) -> None:
        """Write every row of the batch, then its offsets row. Safe to call again."""
        now = self._now()
        if batch.profiles is None:
            batch.profiles = [
                (
                    model_id,
                    from_ms(start),
                    size // 1000,
                    p,
                    part.first_offset,
                    part.last_offset,
                    len(part.records),
                    profile_bytes(part.records, kinds.get(model_id, {})),
                    now,
                )
                for (model_id, start, size, p), part in batch.parts.items()
                if part.records
            ]
        self.store.insert(s.EVENTS, batch.events, EVENT_COLUMNS)
        self.store.insert(s.FEEDBACK, batch.feedback, FEEDBACK_COLUMNS)
        self.store.insert(
            s.DEAD_LETTERS,
            [
                (
                    d.topic,
                    d.partition,
                    d.offset,
                    d.model_id,
                    d.reason,
                    d.error,
                    d.raw,
                    d.raw_size,
                    now,
                    d.event_time,
                )
                for d in batch.dead
            ],
            s.DEAD_LETTERS.columns,
        )
        self.store.insert(s.SAMPLES, batch.samples, SAMPLE_COLUMNS)
        self.store.insert(s.PROFILES, batch.profiles, s.PROFILES.columns)
        self.store.insert(
            s.WINDOW_PARTS,
            [
                (
                    m,
                    from_ms(start),
                    size // 1000,
                    p,
                    part.first_offset,
                    part.last_offset,
                    part.n,
                    part.n_late,
                    from_ms(part.max_event_ms),
                    now,
                )
                for (m, start, size, p), part in batch.parts.items()
            ],
            s.WINDOW_PARTS.columns,
        )
        self.store.insert(
            s.MODEL_FEATURES, [(*f, now) for f in batch.features], s.MODEL_FEATURES.columns
        )
        self.store.insert(
            s.MODEL_VERSIONS,
            [(m, v, from_ms(first), from_ms(last))
             for (m, v), (first, last) in batch.versions.items()],
            s.MODEL_VERSIONS.columns,
        )
        self.store.insert(
            s.CONSUMER_OFFSETS,
            [
                (self.group_id, self.topic, p, o, now, batch.log_bases.get(p, 0),
                 batch.last_records.get(p, UNKNOWN))
                for p, o in sorted(batch.next_offsets.items())
            ],
            s.CONSUMER_OFFSETS.columns,
        )

    def close_windows(self, closed: Sequence[tuple[str, int, int]]) -> None:
        """Write (or rewrite) the ``windows`` rows of closed windows, counts from the store."""
        by_model: dict[tuple[str, int], list[int]] = {}
        for model_id, start, size in closed:
            by_model.setdefault((model_id, size), []).append(start)
        now = self._now()
        for (model_id, size), starts in by_model.items():
            rows = self.store.query(
                f"SELECT toUnixTimestamp64Milli({s.WINDOW_PARTS.window_start}), sum(n), "
                f"sum(n_late) FROM {s.WINDOW_PARTS} WHERE model_id = {{m:String}} AND "
                "window_seconds = {w:UInt32} AND "
                "toUnixTimestamp64Milli(window_start) IN {st:Array(Int64)} GROUP BY 1",
                {"m": model_id, "w": size // 1000, "st": starts},
            )
            self.store.insert(
                s.WINDOWS,
                [
                    (
                        model_id,
                        from_ms(int(st)),
                        from_ms(int(st) + size),
                        size // 1000,
                        int(n) - int(late),
                        int(late),
                        now,
                    )
                    for st, n, late in rows
                ],
                s.WINDOWS.columns,
            )

    def restore_windows(self) -> list[tuple[str, int, int, list[tuple[int, int]]]]:
        """Per model: (model, latest event ms, window size ms, windows without a row)."""
        latest = self.store.query(
            f"SELECT model_id, toUnixTimestamp64Milli(max(max_event_time)) FROM {s.WINDOW_PARTS}"
            " GROUP BY model_id"
        )
        unclosed = self.store.query(
            f"SELECT p.model_id, toUnixTimestamp64Milli(p.window_start), p.window_seconds "
            f"FROM (SELECT DISTINCT model_id, window_start, window_seconds FROM {s.WINDOW_PARTS})"
            f" AS p LEFT ANTI JOIN (SELECT DISTINCT model_id, window_start, window_seconds FROM "
            f"{s.WINDOWS}) AS w USING (model_id, window_start, window_seconds)"
        )
        out = []
        for model_id, max_ms in latest:
            opened = [(int(st), int(sec) * 1000) for m, st, sec in unclosed if m == model_id]
            out.append((model_id, int(max_ms), 0, opened))
        return out

    def stale_windows(self) -> list[tuple[str, int, int]]:
        """Closed windows whose ``windows`` row counts fewer events than their parts.

        A collector can store on-time events of a window another process already closed
        (before a restart, or a group member still reading a partition) and be killed
        before it closes the window itself; on start these rows are rewritten.
        """
        W, P = s.WINDOWS, s.WINDOW_PARTS
        rows = self.store.query(
            f"SELECT p.model_id, toUnixTimestamp64Milli(p.window_start), p.window_seconds "
            f"FROM (SELECT model_id, window_start, window_seconds, sum(n) AS n FROM {P} "
            f"GROUP BY model_id, window_start, window_seconds) AS p INNER JOIN "
            f"(SELECT model_id, window_start, window_seconds, "
            f"argMax({W.n_events} + {W.n_late}, {W.closed_at}) AS c FROM {W} "
            f"GROUP BY model_id, window_start, window_seconds) AS w "
            f"USING (model_id, window_start, window_seconds) WHERE p.n != w.c"
        )
        return sorted((m, int(st), int(sec) * 1000) for m, st, sec in rows)

    def load_kinds(self) -> dict[str, dict[str, str]]:
        """model_id → {feature: kind}, the earliest kind recorded for each name."""
        rows = self.store.query(
            f"SELECT model_id, name, argMin(kind, first_seen) FROM {s.MODEL_FEATURES}"
            " GROUP BY model_id, name"
        )
        kinds: dict[str, dict[str, str]] = {}
        for model_id, name, kind in rows:
            kinds.setdefault(model_id, {})[name] = kind
        return kinds

    def stats(self, collector_id: str, batch: Batch, flush_ms: float, lag: int) -> None:
        """One ``collector_stats`` row for the flush."""
        self.store.insert(
            s.COLLECTOR_STATS,
            [
                (
                    self._now(),
                    collector_id,
                    batch.consumed,
                    batch.stored,
                    len(batch.dead),
                    batch.late,
                    batch.consumed,
                    flush_ms,
                    lag,
                )
            ],
            s.COLLECTOR_STATS.columns,
        )
