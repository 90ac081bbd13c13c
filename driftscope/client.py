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

import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from pydantic import ValidationError

from driftscope.events import FeedbackEvent, PredictionEvent, first_error, is_missing

log = logging.getLogger("driftscope.client")

DEFAULT_TOPIC = "driftscope.predictions"
WARN_EVERY = 60.0  # seconds between two warnings of invalid events


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
        self.close_timeout = close_timeout  # leaving a ``with`` block waits at most this
        self.stats = LoggerStats()
        self._opts = dict(client_options or {})
        self._opts["bootstrap_servers"] = bootstrap_servers
        self._opts.setdefault("linger_ms", linger_ms)
        self._opts.setdefault("acks", 1)
        self._opts.setdefault("retries", 5)
        if self._opts["acks"] not in (-1, "all"):  # idempotence needs acks=all: off, and
            self._opts.setdefault("enable_idempotence", False)  # kafka-python says nothing
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._closed = False
        self._warned_at = -WARN_EVERY
        self._unwarned = 0
        self._thread = threading.Thread(target=self._run, name="driftscope-logger", daemon=True)
        self._thread.start()

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
            "features": ({k: None if is_missing(v) else v for k, v in features.items()}
                         if isinstance(features, Mapping) else features),
            "predictions": predictions,
            "segments": segments or {},
        }
        if label is not None:
            data["label"] = label
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
            "label": label,
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
        if self._closed:
            self._count("dropped")
            return False
        try:
            if self.max_block > 0:
                self._queue.put((key, value), timeout=self.max_block)
            else:
                self._queue.put_nowait((key, value))
        except queue.Full:
            self._count("dropped")
            return False
        with self._lock:
            self.stats.queued += 1
            self._pending += 1
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
        self._closed = True
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self._drain("dropped")

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
        """Count an invalid event; one warning line a minute at most, with how many more
        there were (an app sending a bad field would log one line per request)."""
        self._count("invalid")
        now = time.monotonic()
        with self._lock:
            if now - self._warned_at < WARN_EVERY:
                self._unwarned += 1
                return
            more, self._unwarned, self._warned_at = self._unwarned, 0, now
        since = f" ({more} more invalid since the last warning)" if more else ""
        log.warning("driftscope: invalid %s not logged: %s%s", what, why, since)

    def _count(self, what: str, n: int = 1) -> None:
        with self._lock:
            setattr(self.stats, what, getattr(self.stats, what) + n)

    def _done(self, what: str) -> None:
        with self._idle:
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
        return None

    def _drain(self, what: str) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
            self._done(what)

    def _run(self) -> None:
        producer = self._producer()
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
                future.add_errback(lambda _exc: self._done("failed"))
            except Exception:  # a bad message or a closed producer: count, keep going
                self._done("failed")
            if self._queue.empty():
                producer.flush()
        if producer is not None:
            producer.flush()
            producer.close()
