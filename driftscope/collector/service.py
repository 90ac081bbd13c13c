"""The collector: a Kafka consumer-group member that writes batches to the store.

Delivery is at-least-once from Kafka and exactly-once in what queries see (see
:mod:`driftscope.collector.sink`). Bad messages become dead letters (topic and table)
and never stop the loop. When the store fails, consumption pauses, the same batch is
retried with exponential backoff (after rolling back any partial write) and consumption
resumes when it succeeds; one log line marks each change of state.

Examples
--------
>>> import threading                                                     # doctest: +SKIP
>>> c = Collector(config, store)                                         # doctest: +SKIP
>>> stop = threading.Event()                                             # doctest: +SKIP
>>> threading.Thread(target=c.run, args=(stop,)).start()                 # doctest: +SKIP
>>> stop.set()        # run() flushes, commits and closes before returning
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from driftscope.collector.batch import Batch, Message, Processor, publish_dead_letters
from driftscope.collector.log_epoch import Position, fingerprint, new_logs
from driftscope.collector.model import ModelRegistry
from driftscope.collector.outage import Backoff
from driftscope.collector.reachability import BrokerWatch, connected
from driftscope.collector.rebalance import Listener, finish_lost_join
from driftscope.collector.sink import Sink
from driftscope.collector.windows import UNASSIGNED
from driftscope.config import Config, ModelConfig, Secrets, kafka_client_options
from driftscope.durations import show_duration
from driftscope.errors import BrokerError, StoreError
from driftscope.store.clickhouse import Store
from driftscope.telemetry import CollectorMetrics

log = logging.getLogger("driftscope.collector")
LATE_LOG_EVERY = 60.0  # seconds between two log lines about late events (dead letters too)


DEAD_LETTER_WAIT_MS = 2000  # kafka-python's max_block_ms for the dead-letter producer
JOIN_WAIT = 10.0  # a drain waits this long for partitions the group has not assigned yet


class Collector:
    """Consume the predictions topic into the store; see the module docstring.

    ``kafka_options`` are passed to every kafka-python client (servers, SASL, TLS; by
    default from the configuration and the environment). ``clock`` gives the wall time
    written in ``ingested_at``/``closed_at``; ``registry`` receives the metrics.
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        kafka_options: dict[str, Any] | None = None,
        clock: Callable[[], datetime] | None = None,
        registry: CollectorRegistry | None = None,
        collector_id: str | None = None,
        fresh_broker: bool = False,
    ) -> None:
        self.config = config
        self.store = store
        # the broker was started empty with this process (serve --broker): its new logs
        # are expected, told at INFO (a WARNING at every start was noise)
        self.fresh_broker = fresh_broker
        self.kafka_options = (
            dict(kafka_options)
            if kafka_options is not None
            else kafka_client_options(config.kafka, Secrets.from_env())
        )
        self.clock = clock or (lambda: datetime.now(UTC))
        self.metrics = CollectorMetrics(registry if registry is not None else CollectorRegistry())
        self.collector_id = collector_id or (
            f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        self.sink = Sink(store, config.kafka.group_id, config.kafka.topic, self.clock)
        self.processor: Processor | None = None
        self.batch = Batch()
        self._consumer: Any = None
        self._producer: Any = None
        self._recovering: set[int] = set()
        self._closes: list[tuple[str, int, int]] = []
        self._positions: dict[int, int] = {}
        self._read: dict[int, int] = {}  # next offset to read, per partition, this session
        # end offset per partition when it was assigned: stands for its high watermark
        # until the first fetch brings one (else a caught-up partition would hold back)
        self._ends: dict[int, int] = {}
        # the store offset of the broker's offset 0, per partition (a log that replaced the
        # one read before: driftscope.collector.log_epoch); _read, _positions and Kafka's
        # offsets are the broker's, the batch's and the store's are the store's
        self._bases: dict[int, int] = {}
        self._backoff = Backoff(log)
        self._broker = BrokerWatch(log, config.kafka.bootstrap_servers)
        self._last_flush = time.monotonic()
        self._attempts = 0
        self._dropped = False  # a batch was dropped: reload the processor's state
        self._late_unlogged = 0  # late events not yet in a log line (one a minute at most)
        self._late_logged_at = -LATE_LOG_EVERY
        self._dead_unlogged: Counter[str] = Counter()  # dead letters not yet told, by reason
        self._dead_first = ""  # the first of them's error
        self._dead_logged_at = -LATE_LOG_EVERY

    @property
    def durable_offsets(self) -> dict[int, int]:
        """Next broker offset per partition whose events are durable in the store (this
        process)."""
        return dict(self._positions)

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Migrate the store, restore state, join the group. Raises on a store error."""
        if self._consumer is not None:
            return
        from kafka import KafkaConsumer, KafkaProducer
        from kafka.errors import KafkaError

        self.store.migrate()
        self.sink.check_topic()
        self._load_state()
        self.metrics.store_up.set(1)
        if any("profile" in m.logging for m in self.config.models):
            import whylogs.core  # noqa: F401  (a first flush would otherwise pay ~2 s)
        k = self.config.kafka
        try:
            # (dead letters only; a send waits for the topic's metadata up to
            # max_block_ms: kafka-python's 60 s held the loop a minute a batch where the
            # dead-letter topic is missing and the broker does not create topics — the
            # table keeps them either way)
            self._producer = KafkaProducer(**{"max_block_ms": DEAD_LETTER_WAIT_MS,
                                              **self.kafka_options, "linger_ms": 5})
            self._consumer = KafkaConsumer(
                **self.kafka_options,
                group_id=k.group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                # topics are created with kafka.partitions (collect, serve, broker); a
                # consumer asking for metadata must not create one with the broker's default
                allow_auto_create_topics=False,
                session_timeout_ms=k.session_timeout_ms,
                heartbeat_interval_ms=k.heartbeat_interval_ms,
                max_poll_records=self.config.collector.batch_size,
                max_partition_fetch_bytes=max(1_048_576, 2 * self.config.collector.max_event_bytes),
                client_id=self.collector_id,
            )
        except KafkaError as exc:
            if self._producer is not None:
                self._producer.close(timeout=1)
                self._producer = None
            raise BrokerError(f"cannot reach Kafka at {k.bootstrap_servers}: {exc}") from None
        self._consumer.subscribe([k.topic], listener=Listener(self))
        log.info("collector %s: consuming %s as group %s", self.collector_id, k.topic, k.group_id)
        for model in self.config.models:
            if model.allowed_lateness >= model.window > timedelta(0):
                log.warning(  # (found in review: 10s windows, each judged 70 s late, silent)
                    "model %s: its %s windows close %s after their end (allowed_lateness): "
                    "each is judged that late; an allowed_lateness under the window closes "
                    "them sooner", model.id, show_duration(model.window),
                    show_duration(model.allowed_lateness))

    def _load_state(self, lagging: set[int] | None = None) -> None:
        """A processor whose feature kinds, watermarks and open windows are the store's.

        ``lagging``: partitions with messages not read yet (after a dropped batch: every
        partition just sought back), which hold the watermarks before anything is
        restored, so no window closes ahead of their replay; at start, before partitions
        are assigned, :data:`UNASSIGNED` holds them."""
        registry = ModelRegistry(self.config, self.sink.load_kinds())
        processor = Processor(self.config, registry, self.clock)
        processor.windows.set_lagging({UNASSIGNED} if lagging is None else lagging)
        self._restore_windows(processor)
        stale = self.sink.stale_windows()  # closed short by a killed process
        self._closes.extend(processor.closed_windows())
        self._closes.extend(stale)
        self.processor = processor
        self._dropped = False

    def _restore_windows(self, processor: Processor) -> None:
        """The store's latest event times and the windows it holds events of but no row:
        open in ``processor``, which closes them as its watermark passes their ends."""
        for model_id, max_ms, _, opened in self.sink.restore_windows():
            model = self.config.model(model_id) or ModelConfig(id=model_id)
            lateness_ms = int(model.allowed_lateness.total_seconds() * 1000)
            processor.windows.restore(model_id, max_ms, lateness_ms, opened)

    def _drop_batch(self) -> None:
        """Forget the unflushed batch (its offsets were never committed: it is read again).

        What processing it changed in memory (watermarks, windows, sample state, feature
        kinds) is reloaded from the store when partitions are next recovered (after their
        rollback, before anything more is processed: every partition assigned is recovered
        first), so the replay is windowed, flagged and recorded as if it had never been read.
        """
        self.batch = Batch()
        self._attempts = 0
        self._dropped = True

    def run(self, stop: threading.Event, drain_for: float = 0.0,
            alive: Callable[[], bool] | None = None) -> None:
        """Poll until ``stop`` is set, then flush, commit and close.

        With ``drain_for`` (seconds; ``serve --broker``, whose broker keeps messages in
        memory only and stops with the process), what the broker holds when ``stop`` is set
        is read and stored first (:meth:`drain`), for at most that long, while ``alive()``
        says the broker runs (a dead one held the stop 34 s on requests it cannot answer).
        A store that is down at start is waited for, with the same backoff as an outage.
        """
        while self._consumer is None and not stop.is_set():
            try:
                self.start()
            except StoreError as exc:
                self._backoff.fail(exc)
                self.metrics.store_up.set(0)
                stop.wait(self._backoff.delay)
        if self._backoff.down and self._consumer is not None:
            self._backoff.ok()
        try:
            while not stop.is_set():
                self.poll_once()
            if drain_for > 0 and (alive is None or alive()):
                self.drain(time.monotonic() + drain_for, alive)
        finally:
            self.close()

    def drain(self, deadline: float, alive: Callable[[], bool] | None = None) -> int:
        """Read on until this collector has read every message its partitions held (their
        end offsets, asked again as they grow), the store is down, or ``deadline``
        (``time.monotonic()``); returns the messages read. What is still unread then is
        counted in a WARNING: with an in-memory broker it is lost when the broker stops."""
        consumer, n = self._consumer, 0
        if consumer is None:
            return 0
        joining = time.monotonic() + JOIN_WAIT  # stopped before its partitions came
        while time.monotonic() < deadline and not self._backoff.down:
            if alive is not None and not alive():
                return n  # (what it held is gone with it)
            if not consumer.assignment():
                if time.monotonic() > joining:
                    break
            elif not self._unread():
                break
            n += self.poll_once()
        left = self._unread()
        if left:
            log.warning("collector: %d message(s) still unread at the stop (the store down, "
                        "or the producers faster than the drain): an in-memory broker loses "
                        "them", left)
        elif n:
            log.info("collector: read the %d message(s) the broker still held", n)
        return n

    def _unread(self) -> int:
        consumer = self._consumer
        parts = list(consumer.assignment()) if consumer is not None else []
        if not parts:
            return 0
        end = consumer.end_offsets(parts)
        return sum(max(0, end[tp] - self._read.get(tp.partition, consumer.position(tp)))
                   for tp in parts)

    def close(self) -> None:
        """Flush what is buffered (when the store answers), commit, leave the group."""
        if self._consumer is None:
            return
        if self.processor is not None and not self._backoff.down:
            try:
                self.flush()  # the batch, and the windows closed since the last flush
            except StoreError as exc:
                log.warning("collector: final flush failed (%s); the events will be replayed", exc)
        self._log_late(now=True)  # (before: the count since the last line was never told)
        self._log_dead(now=True)
        self._consumer.close(autocommit=False)
        self._producer.close(timeout=5)
        self._consumer = None
        log.info("collector %s: stopped", self.collector_id)

    # -- the loop --------------------------------------------------------------------------
    def _poll(self, timeout_ms: int, max_records: int) -> dict[Any, list[Any]]:
        """The consumer's poll; a batch it cannot read (a codec whose library is missing,
        a corrupt batch) stops the collector with one line: its messages stay in Kafka,
        read again from the last stored offset once the cause is mended (before: a
        traceback, at the same offset on every restart)."""
        from kafka.errors import CorruptRecordError, UnsupportedCodecError

        assert self._consumer is not None
        try:
            return self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        except (UnsupportedCodecError, CorruptRecordError) as exc:
            raise BrokerError(
                f"topic {self.config.kafka.topic}: a batch of messages cannot be read "
                f"({exc}); nothing after it is stored until it can (install the codec's "
                "library: lz4, zstandard, python-snappy)") from None

    def poll_once(self, timeout_ms: int = 200) -> int:
        """One turn of the loop; returns the number of messages consumed."""
        self.start()
        if self._backoff.down and self._backoff.due():
            self._guard(self._retry)
        if self._backoff.down:
            # keeps group membership; the partitions are paused, so nothing is returned (and
            # whatever is, is read again after the seek in _retry)
            self._consumer.poll(timeout_ms=min(timeout_ms, 100))
            finish_lost_join(self._consumer)
            self._watch_broker()
            return 0
        if self._recovering:
            self._guard(self._recover)
        room = self.config.collector.batch_size - len(self.batch)
        records = self._poll(timeout_ms, max(room, 1))
        finish_lost_join(self._consumer)
        self._watch_broker()
        n = 0
        assert self.processor is not None
        self.processor.now = self.clock()
        for tp, msgs in records.items():
            if tp.partition in self._recovering:
                continue  # fetched before the pause: read again after the seek
            base = self._bases.get(tp.partition, 0)
            for m in msgs:
                self.processor.process(
                    self.batch, Message(tp.topic, tp.partition, base + m.offset, m.value, base,
                                        m.timestamp)
                )
                n += 1
            if msgs:
                self._read[tp.partition] = msgs[-1].offset + 1
                self.batch.log_bases[tp.partition] = base
                self.batch.last_records[tp.partition] = fingerprint(msgs[-1])
        self.processor.windows.set_lagging(self._lagging())
        self.metrics.consumed.inc(n)
        due = (
            time.monotonic() - self._last_flush
            >= self.config.collector.flush_interval.total_seconds()
        )
        if len(self.batch) >= self.config.collector.batch_size or (
            due and (len(self.batch) or self._closes or self.processor.windows.has_closed)
        ):
            self._guard(self.flush)
        elif not n:
            self._log_late()  # traffic has stopped: what is left is told within the minute
            self._log_dead()
        return n

    def _watch_broker(self) -> None:
        """``broker_up`` and a line per change (:mod:`driftscope.collector.reachability`)."""
        self.metrics.broker_up.set(int(self._broker.see(connected(self._consumer))))

    def _guard(self, step: Callable[[], None]) -> None:
        try:
            step()
        except StoreError as exc:
            self._attempts += 1
            if self._backoff.fail(exc):
                self._consumer.pause(*self._consumer.assignment())
            self.metrics.store_up.set(0)

    def _retry(self) -> None:
        if self._recovering:
            self._recover()
        if len(self.batch) or self._closes:
            self.flush()
        self._backoff.ok()
        self.metrics.store_up.set(1)
        paused = [tp for tp in self._consumer.assignment() if tp.partition not in self._recovering]
        # read on from the next offset this collector actually processed, whatever
        # kafka-python fetched, parked or handed to the keep-alive polls while paused
        for tp in paused:
            if tp.partition in self._read:
                self._consumer.seek(tp, self._read[tp.partition])
        self._consumer.resume(*paused)

    # -- recovery (see sink.Sink.recover) --------------------------------------------------
    def _recover(self) -> None:
        from kafka import TopicPartition

        topic = self.config.kafka.topic
        owned = {tp.partition for tp in self._consumer.assignment()}
        parts = sorted(self._recovering & owned)
        self._recovering &= owned
        if not parts:
            return
        stored = self.sink.stored_offsets(parts)
        read_before = dict(stored)
        missing = [TopicPartition(topic, p) for p in parts if p not in stored]
        if missing:  # never stored: from the log's start (whose store offsets are its own)
            for tp, off in self._consumer.beginning_offsets(missing).items():
                stored[tp.partition] = Position(int(off))
        self.sink.recover({p: pos.next_offset for p, pos in stored.items()})
        for p in new_logs(self.kafka_options, topic, read_before):
            log.log(
                logging.INFO if self.fresh_broker else logging.WARNING,
                "collector: partition %s/%d holds a new log (%s): reading it from its "
                "start, stored from offset %d on", topic, p,
                "the embedded broker starts empty" if self.fresh_broker
                else "a restarted broker or a topic created again", stored[p].next_offset,
            )
            stored[p] = self.sink.new_log(p, stored[p])
            self.metrics.new_logs.inc()
        tps = [TopicPartition(topic, p) for p in parts]
        for tp in tps:
            pos = stored[tp.partition]
            self._bases[tp.partition] = pos.log_base
            self._consumer.seek(tp, pos.broker_offset)
            self._positions[tp.partition] = pos.broker_offset
            self._read[tp.partition] = pos.broker_offset
        for tp in tps:  # an end asked at an earlier assignment says nothing now
            self._ends.pop(tp.partition, None)
        self._ends.update(self._end_offsets(tps))
        if self._dropped:  # after the rollback: the store holds only what is durable
            self._load_state(self._lagging())  # what was just sought holds the watermarks
        elif self.processor is not None:
            # partitions coming back from another member: the windows it stored events of
            # and stopped before closing are closed here (else never: this collector had
            # not seen them); what was just sought holds the watermarks first
            self.processor.windows.set_lagging(self._lagging())
            self._restore_windows(self.processor)
        self._recovering -= set(parts)
        if not self._backoff.down:
            self._consumer.resume(*tps)

    # -- the flush -------------------------------------------------------------------------
    def flush(self) -> None:
        """Write the batch (rows, then offsets), commit Kafka offsets, close windows."""
        assert self.processor is not None
        batch = self.batch
        t0 = time.monotonic()
        if len(batch):
            if self._attempts:  # a failed attempt may have written part of the batch
                self.sink.recover(batch.first_offsets)
            publish_dead_letters(self._producer, self.config.kafka.dead_letter_topic, batch)
            self.sink.write(batch, self.processor.registry.kinds)
            self.batch = Batch()
            self._attempts = 0
            self._committed(batch, time.monotonic() - t0)
        self._closes.extend(self.processor.closed_windows())
        self._last_flush = time.monotonic()
        if self._closes:
            closes, self._closes = self._closes, []
            try:
                self.sink.close_windows(closes)
            except StoreError:
                self._closes = closes + self._closes
                raise

    def _committed(self, batch: Batch, flush_s: float) -> None:
        """After a batch is durable: positions, Kafka commit, metrics, a stats row."""
        from kafka.structs import OffsetAndMetadata, TopicPartition

        topic = self.config.kafka.topic
        broker = {p: o - batch.log_bases.get(p, 0) for p, o in batch.next_offsets.items()}
        self._positions.update(broker)
        offsets = {
            TopicPartition(topic, p): OffsetAndMetadata(o, "", -1) for p, o in broker.items()
        }
        try:
            self._consumer.commit(offsets)
        except Exception as exc:  # the store holds the truth; Kafka's copy is for lag tools
            log.debug("collector: Kafka offset commit skipped: %s", exc)
        lag = self._lag()
        self._observe(batch, flush_s)
        try:
            self.sink.stats(self.collector_id, batch, flush_s * 1000, lag)
        except StoreError as exc:  # telemetry only; the next flush meets the outage
            log.debug("collector: stats row skipped: %s", exc)

    def _end_offsets(self, tps: list[Any]) -> dict[int, int]:
        """End offsets asked of the broker; none when it does not answer (the partitions
        then hold the watermarks until a fetch brings their high watermarks)."""
        try:
            ends = self._consumer.end_offsets(tps)
        except Exception as exc:  # a broker down: the conservative answer is none
            log.debug("collector: end offsets not known (%s)", exc)
            return {}
        return {tp.partition: int(off) for tp, off in ends.items() if off is not None}

    def _lagging(self) -> set[int]:
        """Partitions with messages not read yet: they hold back their models' watermarks
        (while none is assigned, :data:`UNASSIGNED`)."""
        if not self._consumer.assignment():
            return {UNASSIGNED}
        out = set()
        for tp in self._consumer.assignment():
            if tp.partition in self._recovering:  # not sought yet: what it holds is unknown
                out.add(tp.partition)
                continue
            hw = self._consumer.highwater(tp)
            if hw is None:  # not fetched yet: the end offset asked at its assignment
                hw = self._ends.get(tp.partition)
            read = self._read.get(tp.partition, self._positions.get(tp.partition))
            if hw is None or read is None or hw > read:
                out.add(tp.partition)
        return out

    def _lag(self) -> int:
        total = 0
        for tp in self._consumer.assignment():
            hw = self._consumer.highwater(tp)
            pos = self._positions.get(tp.partition)
            if hw is not None and pos is not None:
                lag = max(int(hw) - pos, 0)
                self.metrics.lag.labels(str(tp.partition)).set(lag)
                total += lag
        return total

    def _log_late(self, now: bool = False) -> None:
        """One WARNING a minute at most for the late events stored since the last; with
        ``now`` (at the stop, or once traffic has stopped) what is left is told too."""
        at = time.monotonic()
        if self._late_unlogged and (now or at - self._late_logged_at >= LATE_LOG_EVERY):
            log.warning(
                "collector: %d event(s) came after their window had closed (more than "
                "allowed_lateness behind the latest event): stored and flagged late; a window "
                "the monitor has judged is not judged again (driftscope backfill redoes it)",
                self._late_unlogged,
            )
            self._late_unlogged, self._late_logged_at = 0, at

    def _log_dead(self, now: bool = False) -> None:
        """One WARNING a minute at most for the messages dead-lettered since the last, by
        reason, with the first one's error (before: only a metric and the table said so,
        and a producer sending every event malformed saw nothing in the log)."""
        at = time.monotonic()
        if self._dead_unlogged and (now or at - self._dead_logged_at >= LATE_LOG_EVERY):
            log.warning(
                "collector: %d message(s) dead-lettered (%s; the first: %s): each is kept "
                "with its reason and raw bytes in table dead_letters and topic %s",
                sum(self._dead_unlogged.values()),
                ", ".join(f"{n} {r}" for r, n in self._dead_unlogged.most_common()),
                self._dead_first[:300], self.config.kafka.dead_letter_topic)
            self._dead_unlogged.clear()
            self._dead_first, self._dead_logged_at = "", at

    def _observe(self, batch: Batch, flush_s: float) -> None:
        m = self.metrics
        m.stored.inc(batch.stored)
        m.late.inc(batch.late)
        self._late_unlogged += batch.late
        self._log_late()
        for reason, n in batch.dead_by_reason.items():
            m.dead_lettered.labels(reason).inc(n)
        if batch.dead and not self._dead_unlogged:
            self._dead_first = batch.dead[0].error
        self._dead_unlogged.update(batch.dead_by_reason)
        self._log_dead()
        m.flush_seconds.observe(flush_s)
        m.batch_size.observe(len(batch))
