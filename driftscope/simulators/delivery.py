"""Sending a simulated stream to Kafka without losing events.

An application's :class:`~driftscope.client.PredictionLogger` never waits: when its queue is
full it drops the event and counts it, so a request is never slowed by monitoring. A
simulator sending as fast as it can is the opposite case — it outruns the producer at once
— so :func:`deliver` gives the logger backpressure: ``log()`` waits (up to ``max_block``
seconds) for room in the queue instead of dropping. If Kafka takes nothing for that long
the run stops with one line, and the counts reported are the events Kafka acknowledged.

Examples
--------
>>> from driftscope.simulators.app import DemoApp
>>> app = DemoApp("gradual-covariate", seed=1).fit()             # doctest: +SKIP
>>> out = deliver(app, 20_000, "127.0.0.1:9092", topic="driftscope.predictions")  # doctest: +SKIP
>>> out.delivered, out.lost                                        # doctest: +SKIP
(40000, 0)
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from driftscope.client import LoggerStats, PredictionLogger
from driftscope.errors import BrokerError

from .app import DemoApp, RunCounts
from .scenarios import Stream

QUEUE = 10_000
"""Events held in memory at most; with backpressure a bigger queue only delays the end."""
PATIENCE = 30.0
"""Seconds a full queue may wait for Kafka before the run stops."""

class Interrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`deliver`, once what was handed to Kafka has been flushed."""

    def __init__(self, stats: Any) -> None:
        super().__init__()
        self.stats = stats


NO_BROKER = ("; is a broker running there? (`driftscope serve --broker` starts one, "
             "--bootstrap names another)")
"""What an error says when Kafka took nothing at all."""


def answers(bootstrap: str, timeout: float = 5.0) -> bool:
    """Whether one of the addresses of ``bootstrap`` (read as kafka-python reads them: a
    ``PLAINTEXT://`` prefix, ``[::1]``, a host alone on port 9092) accepts a connection
    within ``timeout`` seconds, asked again each half second (a broker still starting):
    a run with no broker stops at once with one line, rather than after the client's
    retries (35 s) and three ERROR lines of kafka-python's."""
    from kafka.cluster import collect_hosts

    try:
        hosts = [(h, p) for h, p, _ in collect_hosts(bootstrap, randomize=False)]
    except ValueError:
        return True  # the client says what is wrong with it
    deadline = time.monotonic() + timeout
    while True:
        for host, port in hosts:
            left = max(deadline - time.monotonic(), 0.1)
            try:
                with socket.create_connection((host, port), timeout=min(left, 3.0)):
                    return True
            except OSError:
                continue
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


@dataclass(frozen=True)
class Delivered:
    """What the app produced (``counts``) and what Kafka acknowledged (``stats``)."""

    counts: RunCounts
    stats: LoggerStats

    @property
    def delivered(self) -> int:
        """Events (predictions and labels) Kafka acknowledged."""
        return self.stats.sent

    @property
    def lost(self) -> int:
        """Events refused as invalid, failed or not sent (0 once :func:`deliver` returns,
        but for invalid events, which ``counts.invalid`` also counts)."""
        return self.stats.lost


class _Backpressured:
    """The app's logger: waits for room in the queue; stops the run when Kafka does not
    take an event within ``max_block`` seconds."""

    def __init__(self, logger: PredictionLogger, where: str) -> None:
        self._logger = logger
        self._where = where

    def _check(self) -> None:
        stats = self._logger.stats
        if stats.rejected:  # (the queue stayed full for max_block: refused, never queued)
            raise BrokerError(
                f"Kafka at {self._where} took no event for {self._logger.max_block:g} s; "
                f"stopped after {stats.sent} of {stats.queued + stats.rejected} events were "
                f"delivered{NO_BROKER}"
            )

    def log(self, model_id: str, features: dict[str, Any], predictions: dict[str, Any],
            **kw: Any) -> str | None:
        eid = self._logger.log(model_id, features, predictions, **kw)
        self._check()
        return eid

    def log_feedback(self, model_id: str, event_id: str, label: Any, *,
                     timestamp: datetime | None = None) -> None:
        self._logger.log_feedback(model_id, event_id, label, timestamp=timestamp)
        self._check()


def deliver(
    app: DemoApp,
    n_events: int,
    bootstrap: str | list[str],
    *,
    topic: str,
    rate: float | None = None,
    stream: Stream | None = None,
    client_options: dict[str, Any] | None = None,
    max_queue: int = QUEUE,
    max_block: float = PATIENCE,
) -> Delivered:
    """Run ``app`` for ``n_events`` predictions (and their labels) into ``topic``.

    Nothing is dropped for speed: ``log()`` waits while the queue is full. Raises
    :class:`~driftscope.errors.BrokerError` (one line) when Kafka stays unreachable for
    ``max_block`` seconds or did not acknowledge every valid event by the end.
    """
    where = bootstrap if isinstance(bootstrap, str) else ",".join(bootstrap)
    if "proxy_url" not in (client_options or {}) and not answers(where):  # at once, not
        # after the client's retries and their log lines (through a proxy: the client's)
        raise BrokerError(f"nothing answers at {where}: no event was sent{NO_BROKER}")
    logger = PredictionLogger(
        bootstrap,
        topic=topic,
        max_queue=max_queue,
        max_block=max_block,
        client_options=client_options,
    )
    try:
        counts = app.run(_Backpressured(logger, where), n_events, rate, stream=stream)
    except KeyboardInterrupt:
        logger.close(timeout=5.0)  # what was handed over still goes, a few seconds at most
        raise Interrupted(logger.stats) from None
    except BaseException:
        logger.close(timeout=1.0)  # the run already failed: do not wait on Kafka again
        raise
    logger.close(timeout=max(30.0, max_block))
    stats = logger.stats
    if stats.failed or stats.dropped:
        hint = NO_BROKER if stats.sent == 0 else ""
        raise BrokerError(
            f"Kafka at {where} acknowledged {stats.sent} of {stats.queued} events: "
            f"{stats.failed} failed, {stats.dropped} not sent in time{hint}"
        )
    return Delivered(counts, stats)
