"""PredictionLogger: what an application imports to stream its predictions.

``log()`` validates the event, puts its JSON on a bounded in-memory queue and returns at
once; a background thread owns the Kafka producer and sends in batches. The caller's
request path is never blocked for longer than ``max_block`` and never sees an exception:
what could not be queued or sent is counted in :attr:`PredictionLogger.stats`.

Events are keyed by ``event_id``, so a prediction and its later feedback land on the same
partition.

Examples
--------
>>> with PredictionLogger("127.0.0.1:9092") as logger:            # doctest: +SKIP
...     eid = logger.log("churn", {"age": 41, "plan": "pro"}, {"score": 0.82})
...     logger.log_feedback("churn", eid, label=1)
"""

from __future__ import annotations

import atexit
import functools
import logging
import multiprocessing.util
import os
import queue
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from pydantic import ValidationError

from driftscope.events import (
    MAX_EVENT_BYTES,
    FeedbackEvent,
    PredictionEvent,
    first_error,
    is_missing,
)
from driftscope.kafka_quiet import silence_kafka

log = logging.getLogger("driftscope.client")

DEFAULT_TOPIC = "driftscope.predictions"
WARN_EVERY = 60.0  # seconds between two warnings of one kind (invalid, full, closed, failed)
BOOTSTRAP_TRY = 5.0  # seconds one attempt to reach a broker may take (then tried again)
EXIT_TIMEOUT = 5.0  # at interpreter exit, how long a logger not closed may still send
STALLED_AFTER = 10.0  # seconds without an acknowledgement, events waiting: Kafka unreachable
EVENT_OVERHEAD = 1024
"""Bytes of memory an event holds beyond its JSON until Kafka acknowledges it (its key, its
entry in this logger's queue, kafka-python's future and callbacks: about 900 measured with
tracemalloc), counted against ``max_queue_bytes`` so that it bounds memory, not JSON."""
DELIVERY_TIMEOUT_MS = 2**31 - 1
"""kafka-python's ``delivery_timeout_ms`` (120 s by its default expired every event of a
longer outage while the queue had room): about 24 days, so that ``max_queue`` and
``max_queue_bytes``, not a timer, decide what an outage loses."""
METADATA_WAIT_MS = 1000
"""kafka-python's ``max_block_ms``: how long one ``producer.send`` may wait for the topic's
metadata (by its default, 60 s: the broker gone or hung before the first event was sent,
or the topic missing where the broker does not create topics, held the sender that long,
past close()'s deadline). An event whose wait ran out is not lost: the sender tries it
again (:meth:`PredictionLogger._send`), until it is sent or close()'s deadline passes."""
_WAKE = object()  # put on the queue to wake the sender (a flush() asked for)


def _plain(value: Any) -> Any:
    """A numpy scalar or array as the Python value it holds (``np.bool_`` a bool, not the
    number the event's union would make of it; ``np.int64`` an int; an array a list)."""
    return value.tolist() if type(value).__module__ == "numpy" else value


def _plain_map(values: Any) -> Any:
    """A mapping (a dict, a pandas Series, a row) as a dict of plain values, the missing
    ones (None, NaN, ``pd.NA``) left out: a segment unknown for this row."""
    if not hasattr(values, "items"):
        return values
    return {k: _plain(v) for k, v in values.items() if not is_missing(v)}


@dataclass
class LoggerStats:
    """Counters. Every event ``log()`` was given ends in exactly one of: ``sent``
    (acknowledged by Kafka), ``failed`` (Kafka refused it), ``dropped`` (queued, never
    delivered by close()'s deadline), ``invalid`` (not an event: never queued) and
    ``rejected`` (refused at the door, never queued: the queue full, the logger closed).
    Once closed, ``sent + failed + dropped == queued``. ``expired`` is the part of
    ``dropped`` that kafka-python gave up on while the logger was open, its
    ``delivery_timeout_ms`` passed (only when ``client_options`` set one)."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    invalid: int = 0
    rejected: int = 0
    expired: int = 0

    @property
    def lost(self) -> int:
        """Every event that did not reach Kafka, for whatever reason."""
        return self.failed + self.dropped + self.invalid + self.rejected


class PredictionLogger:
    """Background, batching producer of prediction and feedback events."""

    def __init__(
        self,
        bootstrap_servers: str | list[str],
        *,
        topic: str = DEFAULT_TOPIC,
        max_queue: int = 100_000,
        max_queue_bytes: int = 64 << 20,
        max_block: float = 0.0,
        linger_ms: int = 20,
        client_options: dict[str, Any] | None = None,
        close_timeout: float = 30.0,
        quiet_kafka: bool = True,
    ) -> None:
        self.topic = topic
        self.max_block = max_block
        self.max_queue = max_queue
        self.max_queue_bytes = max_queue_bytes  # (a count alone lets 100,000 large events in)
        self.close_timeout = close_timeout  # leaving a ``with`` block waits at most this
        self._opts = dict(client_options or {})
        self._opts["bootstrap_servers"] = bootstrap_servers
        self._opts.setdefault("linger_ms", linger_ms)
        self._opts.setdefault("acks", 1)
        self._opts.setdefault("retries", 5)
        self._opts.setdefault("delivery_timeout_ms", DELIVERY_TIMEOUT_MS)
        self._opts.setdefault("max_block_ms", METADATA_WAIT_MS)
        if self._opts["acks"] not in (-1, "all"):  # idempotence needs acks=all: off, and
            self._opts.setdefault("enable_idempotence", False)  # kafka-python says nothing
        self._closed = False
        self._deadline: float | None = None  # close()'s: the sender's flushes end by then
        self._quiet = quiet_kafka
        self._quieted = False  # holds kafka-python's loggers quiet (a forked child too)
        self._reset()
        self._start()
        _LOGGERS.add(self)

    def _reset(self) -> None:
        """The state of this process's own: a fork copies the parent's (its lock perhaps
        held by a thread that did not come along, its queue, its counts) into the child,
        where :func:`_after_fork` calls this before anything else runs."""
        self._pid = os.getpid()
        self.stats = LoggerStats()
        # (unbounded: what max_queue bounds is every event not yet acknowledged, this
        # queue's and kafka-python's, counted in _pending)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # queued, not yet sent, failed or dropped: here or in kafka-python
        self._bytes = 0  # the memory those pending events hold (``max_queue_bytes``)
        self._waiting = 0  # log() calls waiting for room (max_block)
        self._flushers = 0  # flush() calls waiting: the sender flushes kafka-python meanwhile
        self._progress_at = time.monotonic()  # the last acknowledgement, or pending from 0
        self._stalled = False  # said that Kafka acknowledges nothing (to say it answers)
        self._no_metadata = False  # the sender waits for the topic's metadata (to say so)
        self._settled = False  # close() has counted what was never acknowledged
        self._warned_at: dict[str, float] = {}
        self._unwarned: dict[str, int] = {}
        self._thread: threading.Thread | None = None  # the sender: started at first use
        self._finalizer: multiprocessing.util.Finalize | None = None

    def _start(self) -> None:
        """A sender thread of this process's own, and a close when the process ends."""
        if self._quiet and not self._quieted:
            self._quieted = True
            silence_kafka(+1)
        self._thread = threading.Thread(target=self._run, name="driftscope-logger", daemon=True)
        self._thread.start()
        ref = weakref.ref(self)
        atexit.register(_close_at_exit, ref)
        # a multiprocessing child ends with os._exit(): no atexit, but its finalizers run
        self._finalizer = multiprocessing.util.Finalize(None, _close_at_exit, args=(ref,),
                                                        exitpriority=100)

    def _start_in_child(self) -> None:
        """The first event of a process forked after the logger was made (gunicorn
        --preload, uwsgi, multiprocessing): the parent's sender thread and producer did not
        come along, so the child starts its own (its counts were made afresh at the fork)."""
        with self._lock:
            if self._thread is not None:
                return
            self._start()
        log.warning("driftscope: PredictionLogger used in a forked process (pid %d): "
                    "it starts a sender of its own (create loggers after forking to "
                    "avoid this)", os.getpid())

    # -- the caller's side: never blocks long, never raises ---------------------------
    def log(
        self,
        model_id: str,
        features: dict[str, Any],
        predictions: dict[str, Any],
        *,
        label: Any = None,
        segments: Mapping[str, str] | None = None,
        event_id: str | None = None,
        timestamp: datetime | None = None,
        model_version: str | None = "",
    ) -> str | None:
        """Queue one prediction; return its ``event_id`` (None when it was invalid).

        ``model_version=None`` is no version, as ``""`` is (like ``label``, ``segments``,
        ``event_id`` and ``timestamp``, an optional variable may be passed as it is:
        before, None made the whole event invalid).

        An event that could not be queued (the queue full past ``max_block``, the logger
        closed) keeps its id, so the caller's later ``log_feedback`` stays well-formed;
        it is counted in ``stats.rejected``, which with the other counters is where losses
        are read from. A missing prediction or segment value (None, NaN, ``pd.NA``) is
        left out of the event, the rest of which is sent; a missing feature is sent as null.
        """
        try:  # (what the caller gave is converted here too: nothing raises into its path)
            data: dict[str, Any] = {
                "model_id": model_id,
                "model_version": "" if model_version is None else model_version,
                # NaN is how pandas and numpy say missing: it is sent as null (the wire
                # format has no NaN; the whole prediction was dropped as invalid)
                "features": ({k: None if is_missing(v) else _plain(v)
                              for k, v in features.items()}
                             if isinstance(features, Mapping) or hasattr(features, "items")
                             else features),
                # a missing prediction is left out (a model that gave no score): the wire
                # has no null prediction, and the rest of the event is worth keeping
                "predictions": ({k: _plain(v) for k, v in predictions.items()
                                 if not is_missing(v)}
                                if isinstance(predictions, Mapping)
                                or hasattr(predictions, "items") else predictions),
                # (a pandas Series has no truth value: ``segments or {}`` raised); a
                # missing segment is left out (it made the whole prediction invalid)
                "segments": {} if segments is None else _plain_map(segments),
            }
            if not is_missing(label):  # (a pandas row without its label: NaN)
                data["label"] = _plain(label)
            if event_id is not None:
                data["event_id"] = event_id
            if timestamp is not None:
                data["timestamp"] = timestamp
            event = PredictionEvent.model_validate(data)
        except ValidationError as exc:
            self._invalid("event", first_error(exc)[1])
            return None
        except Exception as exc:  # a mapping whose items() raises, a value numpy refuses
            self._invalid("event", f"{type(exc).__name__}: {exc}")
            return None
        if self.send(event) is None:  # too large for the collector
            return None
        return event.event_id

    def log_feedback(
        self, model_id: str, event_id: str, label: Any, *, timestamp: datetime | None = None
    ) -> bool | None:
        """Queue a label that arrived after its prediction: what :meth:`send` returns (True
        queued, False refused, None invalid). The collector stores feedback whatever its
        ``event_id``; one with no prediction of that id within the feedback horizon is
        never joined (no error tells so: check the id)."""
        try:
            data: dict[str, Any] = {
                "kind": "feedback",
                "model_id": model_id,
                "event_id": event_id,
                "label": _plain(label),
            }
            if timestamp is not None:
                data["timestamp"] = timestamp
            event = FeedbackEvent.model_validate(data)
        except ValidationError as exc:
            self._invalid("feedback", first_error(exc)[1])
            return None
        except Exception as exc:
            self._invalid("feedback", f"{type(exc).__name__}: {exc}")
            return None
        return self.send(event)

    def send(self, event: PredictionEvent | FeedbackEvent) -> bool | None:
        """Queue an already-built event: True when queued, False when refused (the queue
        full, the logger closed), None when invalid (larger than the collector takes)."""
        return self.send_raw(event.event_id.encode(), event.model_dump_json().encode())

    def send_raw(self, key: bytes | None, value: bytes) -> bool | None:
        """Queue raw bytes as they are (for tests and replays of recorded traffic); what
        it returns is :meth:`send`'s."""
        if len(value) > MAX_EVENT_BYTES:  # Kafka would take it, the collector dead-letter it
            self._invalid("event", f"{len(value):,} bytes of JSON, over the collector's "
                                   f"limit of {MAX_EVENT_BYTES:,} (events.MAX_EVENT_BYTES)")
            return None
        refused = self._admit(len(value))
        if refused:
            self._warn(*refused)
            return False
        if self._thread is None:  # a forked child's first event
            self._start_in_child()
        self._queue.put_nowait((key, value))  # (unbounded: _admit made room)
        return True

    def _full(self, cost: int) -> bool:
        """No room for an event costing ``cost`` bytes: ``max_queue`` events, or
        ``max_queue_bytes`` bytes, not yet acknowledged (an event alone is let in whatever
        its size: it would never fit otherwise)."""
        return self._pending >= self.max_queue or bool(
            self._bytes and self._bytes + cost > self.max_queue_bytes)

    def _admit(self, size: int) -> tuple[str, str] | None:
        """Count an event in (queued and pending, counted before the put: a close() in
        between waits for it), or refuse it: the warning to give, when refused.

        The bounds hold everything not yet acknowledged: what waits in this logger's
        queue and what kafka-python holds (before, only the queue was bounded, and an
        outage piled events up in kafka-python without limit)."""
        cost = size + EVENT_OVERHEAD
        with self._lock:
            if self._full(cost) and not self._closed and self.max_block > 0:
                deadline = time.monotonic() + self.max_block  # waited for, up to max_block
                self._waiting += 1
                try:
                    while not self._closed and self._full(cost):
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        self._idle.wait(min(0.5, left))
                finally:
                    self._waiting -= 1
            if self._closed:
                self.stats.rejected += 1
                return "closed", "events refused: the PredictionLogger is closed"
            if self._full(cost):
                self.stats.rejected += 1
                return "full", (f"events refused: {self._pending:,} events ({self._bytes:,} "
                                f"bytes) not yet acknowledged by Kafka, the limit is "
                                f"max_queue={self.max_queue:,} / max_queue_bytes="
                                f"{self.max_queue_bytes:,}: the broker is slower than the "
                                "app, or unreachable")
            self.stats.queued += 1
            now = time.monotonic()
            if self._pending == 0:
                self._progress_at = now
            self._pending += 1
            self._bytes += cost
            stalled = now - self._progress_at >= STALLED_AFTER
        if stalled:  # (said here too: the sender may be stuck reaching the broker)
            self._check_progress()
        return None

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued is sent or failed; False on timeout. Meanwhile the
        sender sends what kafka-python holds without waiting for ``linger_ms`` (the only
        time, with close(), it flushes: batching is kept otherwise)."""
        with self._lock:
            self._flushers += 1
        try:
            self._queue.put_nowait(_WAKE)
            return self._wait(time.monotonic() + timeout)
        finally:
            with self._lock:
                self._flushers -= 1

    def _wait(self, deadline: float) -> bool:
        """Until nothing is pending; False when ``deadline`` came first, or the sender
        is gone."""
        with self._idle:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None or not self._thread.is_alive():
                    return False
                self._idle.wait(min(left, 0.1))
        return True

    def close(self, timeout: float | None = None) -> None:
        """Send what is queued, then stop the background thread, within ``timeout``
        seconds in all (default ``close_timeout``, 30 s).

        Whatever could not be sent by then is counted as dropped; later calls to
        ``log()`` are refused (counted as rejected).
        """
        timeout = self.close_timeout if timeout is None else timeout
        with self._lock:
            if self._closed:
                return
            # closed first: from here log() refuses, so the pending count can only fall
            # (flushing first, threads still logging kept it up until the timeout)
            self._closed = True
            self._deadline = deadline = time.monotonic() + timeout
        self._queue.put_nowait(_WAKE)  # (the sender flushes from now on)
        self._wait(deadline)
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        self._drain("dropped")
        with self._idle:  # handed to Kafka, never acknowledged: lost (a late answer is not
            self.stats.dropped += max(self._pending, 0)  # counted again)
            self._pending, self._bytes, self._settled = 0, 0, True
            self._idle.notify_all()
        if self._finalizer is not None:  # (the registry would keep one per logger made)
            self._finalizer.cancel()
        if self._thread is None or not self._thread.is_alive():
            self._unquiet()  # (else the sender does, once its last kafka-python call ends)
        s = self.stats
        if s.failed or s.dropped or s.rejected:
            expired = f", {s.expired} of them expired by delivery_timeout_ms" \
                if s.expired else ""
            log.warning("driftscope: PredictionLogger closed: %d of %d queued events not "
                        "delivered (%d failed, %d dropped%s); %d refused (queue full / "
                        "logger closed)", s.failed + s.dropped, s.queued, s.failed,
                        s.dropped, expired, s.rejected)

    def _unquiet(self) -> None:
        """kafka-python's loggers as they were once the last logger is done with them."""
        with self._lock:
            quieted, self._quieted = self._quieted, False
        if quieted:
            silence_kafka(-1)

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the background side ---------------------------------------------------------
    def _invalid(self, what: str, why: str) -> None:
        """Count an invalid event, and say so (:meth:`_warn`)."""
        self._count("invalid")
        self._warn("invalid", f"invalid {what} not logged: {why}")

    def _warn(self, kind: str, text: str) -> None:
        """One warning line a minute at most per ``kind`` (invalid, full, closed, failed),
        with how many more there were (an app sending a bad field would log one per
        request)."""
        now = time.monotonic()
        with self._lock:
            if now - self._warned_at.get(kind, -WARN_EVERY) < WARN_EVERY:
                self._unwarned[kind] = self._unwarned.get(kind, 0) + 1
                return
            more, self._unwarned[kind], self._warned_at[kind] = self._unwarned.get(kind, 0), 0, now
        since = f" ({more} more {kind} since the last warning)" if more else ""
        log.warning("driftscope: %s%s", text, since)

    def _count(self, what: str, n: int = 1) -> None:
        with self._lock:
            setattr(self.stats, what, getattr(self.stats, what) + n)

    def _done(self, what: str, size: int) -> bool:
        """One pending event of ``size`` bytes (its JSON) is over, counted as ``what``
        (False when close() had counted it already: nothing more to say of it)."""
        answered = False
        with self._idle:
            if self._settled:  # close() has counted it as lost already
                return False
            setattr(self.stats, what, getattr(self.stats, what) + 1)
            self._pending -= 1
            self._bytes -= size + EVENT_OVERHEAD
            if what == "sent":
                self._progress_at = time.monotonic()
                answered, self._stalled = self._stalled, False
            if self._pending <= 0 or self._waiting:
                self._idle.notify_all()
        if answered:
            log.warning("driftscope: Kafka acknowledges events again (%s)", self._servers())
        return True

    def _answered(self, size: int, outcome: Any) -> None:
        """kafka-python's answer for one event: its metadata, or the exception it failed
        with (one callback for both: the less each waiting event holds, the better)."""
        if not isinstance(outcome, BaseException):
            self._done("sent", size)
            return
        from kafka.errors import KafkaTimeoutError

        if isinstance(outcome, KafkaTimeoutError) and "Expiring" in str(outcome):
            if not self._done("dropped", size):
                return
            self._count("expired")  # (delivery_timeout_ms: a timer, not Kafka, gave up)
            self._warn("expired", f"events dropped: kafka-python's delivery_timeout_ms "
                                  f"passed before Kafka answered ({outcome})")
            return
        self._failed(outcome, size)

    def _servers(self) -> str:
        servers = self._opts["bootstrap_servers"]
        return servers if isinstance(servers, str) else ",".join(servers)

    def _check_progress(self) -> None:
        """Say so, once a minute at most, while events wait and Kafka acknowledged none of
        them for :data:`STALLED_AFTER` seconds (kafka-python's own lines about it are
        silenced while a logger is open: ``quiet_kafka``)."""
        with self._lock:
            pending, held = self._pending, self._bytes
            stalled_for = time.monotonic() - self._progress_at
            if pending <= 0 or stalled_for < STALLED_AFTER:
                return
            self._stalled = True
        why = (f"; kafka-python has no metadata for topic {self.topic!r} (the broker "
               f"unreachable or slow, or the topic missing where the broker does not "
               f"create topics)" if self._no_metadata else "")
        self._warn("unreachable", f"Kafka ({self._servers()}) acknowledged nothing for "
                                  f"{stalled_for:.0f} s: {pending:,} events wait ({held:,} "
                                  f"bytes; refused beyond max_queue={self.max_queue:,} / "
                                  f"max_queue_bytes={self.max_queue_bytes:,}){why}")

    def _producer(self) -> Any:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        from driftscope.kafka_quiet import quieter

        delay = 0.2
        while True:  # (until close()'s deadline, not its start: a logger made and closed
            try:  # at once, as at exit, still sends)
                return KafkaProducer(**quieter(self._bootstrap_options()))
            except KafkaError as exc:
                if self._left() <= 0:
                    return None
                self._warn("unreachable", f"cannot reach Kafka ({self._servers()}: "
                                          f"{type(exc).__name__}); retrying")
                time.sleep(delay if self._deadline is None else max(0.0, min(delay, self._left())))
                delay = min(delay * 2, 5.0)
            except Exception as exc:  # bad client_options, a codec not installed: the
                # caller's to fix; every event is counted failed (the thread lives on)
                log.error("driftscope: cannot create the Kafka producer (%s: %s); events "
                          "are counted as failed", type(exc).__name__, exc)
                return None

    def _bootstrap_options(self) -> dict[str, Any]:
        """The producer's options, its first contact bounded by :data:`BOOTSTRAP_TRY` and
        by close()'s deadline (kafka-python's own 30 s kept a closed logger's thread, and
        its reconnect lines, alive for half a minute after close() had returned)."""
        left = BOOTSTRAP_TRY if self._deadline is None else min(BOOTSTRAP_TRY, self._left())
        return {"bootstrap_timeout_ms": max(int(left * 1000), 100), **self._opts}

    def _failed(self, exc: BaseException, size: int) -> None:
        if not self._done("failed", size):  # (kafka-python failing, after close(), what
            return  # close() counted dropped: the app was told already)
        self._warn("failed", f"Kafka did not take an event: {type(exc).__name__}: {exc}")

    def _flush(self, producer: Any, seconds: float) -> None:
        """``producer.flush`` for at most ``seconds`` (what is still unanswered then stays
        pending: answered later, or counted lost by close())."""
        from kafka.errors import KafkaTimeoutError

        try:
            producer.flush(timeout=max(seconds, 0.01))
        except KafkaTimeoutError:
            pass

    def _left(self) -> float:
        """Seconds the sender may still spend: until close()'s deadline (1 s at a time
        while the logger is open, so that a close is not kept waiting)."""
        return 1.0 if self._deadline is None else self._deadline - time.monotonic()

    def _finished(self) -> bool:
        """Closed, and nothing left to wait for: every event answered (an event counted
        in by a log() racing close() may still be on its way into the queue), or close()'s
        deadline passed."""
        return self._closed and (self._pending <= 0 or self._left() <= 0)

    def _drain(self, what: str) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _WAKE:
                self._done(what, len(item[1]))

    def _send(self, producer: Any, key: bytes | None, value: bytes) -> bool:
        """Hand one event to kafka-python: False when it is still to be handed over,
        kafka-python having had no metadata for the topic within ``max_block_ms`` (the
        event stays pending, tried again: an outage delays it, it does not fail it)."""
        from kafka.errors import KafkaTimeoutError

        size = len(value)
        if producer is None:
            self._done("failed", size)
            return True
        try:
            future = producer.send(self.topic, key=key, value=value)
        except KafkaTimeoutError:  # (kafka-python 2 also when its buffer stayed full)
            self._no_metadata = True
            return False
        except Exception as exc:  # a bad message or a closed producer: count, go on
            self._failed(exc, size)
            return True
        self._no_metadata = False
        future.add_both(functools.partial(self._answered, size))
        return True

    def _run(self) -> None:
        producer = self._producer()
        if producer is not None:  # at exit, this logger closes it (_close_at_exit), after
            producer._unregister_cleanup()  # sending what it holds: not kafka-python first
        checked = time.monotonic()
        held: tuple[bytes | None, bytes] | None = None  # not handed over yet: no metadata
        while True:
            if held is not None:  # (tried again before anything queued after it)
                if self._finished():
                    break  # (close() counts it dropped)
                item: Any = held
            else:
                try:
                    item = self._queue.get(timeout=0.1)
                except queue.Empty:
                    item = None
            if item is not None and item is not _WAKE:
                tried = time.monotonic()
                if self._send(producer, *item):
                    held = None
                    if not self._queue.empty():
                        continue  # (hand everything queued over first)
                else:
                    held = item
                    # (kafka-python waited max_block_ms: a caller's 0 would spin)
                    time.sleep(max(0.0, min(0.1 - (time.monotonic() - tried), self._left())))
            elif item is None and self._finished():
                break
            if producer is None:
                continue
            # kafka-python sends a batch once linger_ms has passed or it is full: flushed
            # here only while a flush() or close() waits (flushing each time the queue was
            # empty sent a request per event at a few hundred a second, at 2-3× the CPU)
            if (self._closed or self._flushers) and self._pending > 0:
                self._flush(producer, min(self._left(), 0.1 if item is None else 1.0))
            now = time.monotonic()
            if now - checked >= 1.0:
                checked = now
                self._check_progress()
        if producer is not None:
            self._flush(producer, self._left())
            _close_producer(producer, self._left())
        if self._closed:  # (a close() that did not wait for this thread left it to us)
            self._unquiet()


def _close_producer(producer: Any, seconds: float) -> None:
    """Close a kafka-python producer within ``seconds``. Its ``close`` raises when records
    are still unanswered (its flush times out) and leaves it open, to raise again when
    collected: those records are lost (close() counted them), so it is closed by force."""
    from kafka.errors import KafkaTimeoutError

    try:
        producer.close(timeout=max(seconds, 0.0))
    except KafkaTimeoutError:
        sender = getattr(producer, "_sender", None)
        if sender is not None:
            sender.force_close()
        producer._closed = True  # (what its close sets once done: __del__ does nothing)


_LOGGERS: weakref.WeakSet[PredictionLogger] = weakref.WeakSet()
"""Every logger of this process, for :func:`_after_fork`."""


def _after_fork() -> None:
    """In a forked child, before any of its code runs: each logger's state made afresh
    (checking the pid in log() alone left flush(), close() and the invalid counts on the
    parent's lock, queue and stats; a lock held at the fork hung the child for ever)."""
    for logger in list(_LOGGERS):
        logger._reset()


os.register_at_fork(after_in_child=_after_fork)


def _close_at_exit(ref: weakref.ReferenceType[PredictionLogger]) -> None:
    """A logger still open when the interpreter exits sends what it holds, for at most
    :data:`EXIT_TIMEOUT` (a module-level logger is rarely closed), and says what it could
    not."""
    logger = ref()
    if logger is not None and not logger._closed and logger._pid == os.getpid():
        logger.close(min(logger.close_timeout, EXIT_TIMEOUT))
