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
import logging
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

from driftscope.events import FeedbackEvent, PredictionEvent, first_error, is_missing

log = logging.getLogger("driftscope.client")

DEFAULT_TOPIC = "driftscope.predictions"
WARN_EVERY = 60.0  # seconds between two warnings of one kind (invalid, dropped, failed)
EXIT_TIMEOUT = 5.0  # at interpreter exit, how long a logger not closed may still send


def _plain(value: Any) -> Any:
    """A numpy scalar or array as the Python value it holds (``np.bool_`` a bool, not the
    number the event's union would make of it; ``np.int64`` an int; an array a list)."""
    return value.tolist() if type(value).__module__ == "numpy" else value


def _plain_map(values: Any) -> Any:
    """A mapping (a dict, a pandas Series, a row) as a dict of plain values."""
    if not hasattr(values, "items"):
        return values
    return {k: _plain(v) for k, v in values.items()}


@dataclass
class LoggerStats:
    """Counters: queued, sent, failed (broker errors), dropped (queue full or closed), invalid."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    invalid: int = 0

    @property
    def lost(self) -> int:
        return self.failed + self.dropped + self.invalid


class PredictionLogger:
    """Background, batching producer of prediction and feedback events."""

    def __init__(
        self,
        bootstrap_servers: str | list[str],
        *,
        topic: str = DEFAULT_TOPIC,
        max_queue: int = 100_000,
        max_block: float = 0.0,
        linger_ms: int = 20,
        client_options: dict[str, Any] | None = None,
        close_timeout: float = 30.0,
    ) -> None:
        self.topic = topic
        self.max_block = max_block
        self.max_queue = max_queue
        self.close_timeout = close_timeout  # leaving a ``with`` block waits at most this
        self.stats = LoggerStats()
        self._opts = dict(client_options or {})
        self._opts["bootstrap_servers"] = bootstrap_servers
        self._opts.setdefault("linger_ms", linger_ms)
        self._opts.setdefault("acks", 1)
        self._opts.setdefault("retries", 5)
        if self._opts["acks"] not in (-1, "all"):  # idempotence needs acks=all: off, and
            self._opts.setdefault("enable_idempotence", False)  # kafka-python says nothing
        self._closed = False
        self._settled = False  # close() has counted what was never acknowledged
        self._deadline: float | None = None  # close()'s: the sender's flushes end by then
        self._warned_at: dict[str, float] = {}
        self._unwarned: dict[str, int] = {}
        self._start()

    def _start(self) -> None:
        """A queue and a sender thread of this process's own."""
        self._pid = os.getpid()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=self.max_queue)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="driftscope-logger", daemon=True)
        self._thread.start()
        atexit.register(_close_at_exit, weakref.ref(self))

    def _forked(self) -> None:
        """In a process forked after the logger was made (gunicorn --preload, uwsgi,
        multiprocessing): the parent's sender thread and producer did not come along, so
        the events were queued and never sent. The child starts its own, counts afresh."""
        with _FORK_LOCK:
            if self._pid == os.getpid():
                return
            log.warning("driftscope: PredictionLogger used in a forked process (pid %d): "
                        "it starts a sender of its own (create loggers after forking to "
                        "avoid this)", os.getpid())
            self.stats = LoggerStats()
            self._warned_at, self._unwarned = {}, {}
            self._start()

    # -- the caller's side: never blocks long, never raises ---------------------------
    def log(
        self,
        model_id: str,
        features: dict[str, Any],
        predictions: dict[str, Any],
        *,
        label: Any = None,
        segments: dict[str, str] | None = None,
        event_id: str | None = None,
        timestamp: datetime | None = None,
        model_version: str = "",
    ) -> str | None:
        """Queue one prediction; return its ``event_id`` (None when it was invalid).

        An event that could not be queued (the queue full past ``max_block``, the logger
        closed) keeps its id, so the caller's later ``log_feedback`` stays well-formed;
        it is counted in ``stats.dropped``, which is where losses are read from.
        """
        data: dict[str, Any] = {
            "model_id": model_id,
            "model_version": model_version,
            # NaN is how pandas and numpy say missing: it is sent as null (the wire format
            # has no NaN; the whole prediction was dropped as invalid)
            "features": ({k: None if is_missing(v) else _plain(v) for k, v in features.items()}
                         if isinstance(features, Mapping) or hasattr(features, "items")
                         else features),
            "predictions": _plain_map(predictions),
            "segments": segments or {},
        }
        if not is_missing(label):  # (a pandas row without its label: NaN)
            data["label"] = _plain(label)
        if event_id is not None:
            data["event_id"] = event_id
        if timestamp is not None:
            data["timestamp"] = timestamp
        try:
            event = PredictionEvent.model_validate(data)
        except ValidationError as exc:
            self._invalid("event", first_error(exc)[1])
            return None
        self.send(event)
        return event.event_id

    def log_feedback(
        self, model_id: str, event_id: str, label: Any, *, timestamp: datetime | None = None
    ) -> None:
        """Queue a label that arrived after its prediction."""
        data: dict[str, Any] = {
            "kind": "feedback",
            "model_id": model_id,
            "event_id": event_id,
            "label": _plain(label),
        }
        if timestamp is not None:
            data["timestamp"] = timestamp
        try:
            self.send(FeedbackEvent.model_validate(data))
        except ValidationError as exc:
            self._invalid("feedback", first_error(exc)[1])

    def send(self, event: PredictionEvent | FeedbackEvent) -> bool:
        """Queue an already-built event; False when it was dropped."""
        return self.send_raw(event.event_id.encode(), event.model_dump_json().encode())

    def send_raw(self, key: bytes | None, value: bytes) -> bool:
        """Queue raw bytes as they are (for tests and replays of recorded traffic)."""
        if self._pid != os.getpid():
            self._forked()
        with self._lock:  # (counted before the put: a close() in between counts it)
            if self._closed:
                self.stats.dropped += 1
                return False
            self.stats.queued += 1
            self._pending += 1
        try:
            if self.max_block > 0:
                self._queue.put((key, value), timeout=self.max_block)
            else:
                self._queue.put_nowait((key, value))
        except queue.Full:
            with self._idle:
                self.stats.queued -= 1
                self._pending -= 1
                self.stats.dropped += 1
                self._idle.notify_all()
            self._warn("dropped", f"the queue is full (max_queue={self.max_queue}): the "
                                  "broker is slower than the app, or unreachable")
            return False
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued is sent or failed; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._idle.wait(min(left, 0.1))
        return True

    def close(self, timeout: float | None = None) -> None:
        """Flush, then stop the background thread, within ``timeout`` seconds in all
        (default ``close_timeout``, 30 s).

        Whatever could not be sent by then is counted as dropped; later calls to
        ``log()`` are dropped too.
        """
        if self._closed:
            return
        timeout = self.close_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self.flush(timeout)
        with self._lock:
            self._closed = True
            self._deadline = deadline
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self._drain("dropped")
        with self._idle:  # handed to Kafka, never acknowledged: lost (a late answer is not
            self.stats.dropped += max(self._pending, 0)  # counted again)
            self._pending, self._settled = 0, True
            self._idle.notify_all()
        if self.stats.lost - self.stats.invalid:
            log.warning("driftscope: PredictionLogger closed: %d of %d events not sent "
                        "(%d failed, %d dropped)", self.stats.failed + self.stats.dropped,
                        self.stats.queued, self.stats.failed, self.stats.dropped)

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
        """One warning line a minute at most per ``kind`` (invalid, dropped, failed), with
        how many more there were (an app sending a bad field would log one per request)."""
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

    def _done(self, what: str) -> None:
        with self._idle:
            if self._settled:  # close() has counted it as lost already
                return
            setattr(self.stats, what, getattr(self.stats, what) + 1)
            self._pending -= 1
            if self._pending <= 0:
                self._idle.notify_all()

    def _producer(self) -> Any:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        from driftscope.kafka_quiet import quieter

        delay = 0.2
        while not self._closed:
            try:
                return KafkaProducer(**quieter(self._opts))
            except KafkaError as exc:
                log.warning("driftscope: cannot reach Kafka (%s); retrying", type(exc).__name__)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            except Exception as exc:  # bad client_options, a codec not installed: the
                # caller's to fix; every event is counted failed (the thread lives on)
                log.error("driftscope: cannot create the Kafka producer (%s: %s); events "
                          "are counted as failed", type(exc).__name__, exc)
                return None
        return None

    def _failed(self, exc: BaseException) -> None:
        self._done("failed")
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

    def _drain(self, what: str) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
            self._done(what)

    def _run(self) -> None:
        producer = self._producer()
        if producer is not None:  # at exit, this logger closes it (_close_at_exit), after
            producer._unregister_cleanup()  # sending what it holds: not kafka-python first
        while True:
            try:
                key, value = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._closed:
                    break
                continue
            if producer is None:
                self._done("failed")
                continue
            try:
                future = producer.send(self.topic, key=key, value=value)
                future.add_callback(lambda _md: self._done("sent"))
                future.add_errback(self._failed)
            except Exception as exc:  # a bad message or a closed producer: count, go on
                self._failed(exc)
            if self._queue.empty():
                self._flush(producer, self._left())
        if producer is not None:
            self._flush(producer, self._left())
            _close_producer(producer, self._left())


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


_FORK_LOCK = threading.Lock()
os.register_at_fork(after_in_child=lambda: globals().update(_FORK_LOCK=threading.Lock()))


def _close_at_exit(ref: weakref.ReferenceType[PredictionLogger]) -> None:
    """A logger still open when the interpreter exits sends what it holds, for at most
    :data:`EXIT_TIMEOUT` (a module-level logger is rarely closed), and says what it could
    not."""
    logger = ref()
    if logger is not None and not logger._closed and logger._pid == os.getpid():
        logger.close(min(logger.close_timeout, EXIT_TIMEOUT))
