"""kafka-python's network loop, told to warn of real stalls only.

kafka-python 3 warns of every step of its network loop longer than 0.1 s ("Task … ran
for 0.13 s (>0.100 s threshold). It is blocking the event loop …"): in an application
logging predictions at a high rate, or in the collector, the application's own threads
hold the interpreter that long often enough, and each of those lines lands in the
application's log. One second is a stall worth a line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

SLOW_TASK_SECONDS = 1.0


def quieter(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` for a kafka-python client, with its network loop's slow-step warning at
    :data:`SLOW_TASK_SECONDS` (unless the caller chose a ``kafka_client``)."""
    try:
        from kafka.net.compat import KafkaNetClient
    except ImportError:  # (kafka-python 2 has no such loop)
        return options
    client = partial(KafkaNetClient, slow_task_threshold_secs=SLOW_TASK_SECONDS)
    return {"kafka_client": client, **options}


_LOCK = threading.Lock()
_QUIET = logging.CRITICAL + 1  # (ours: a level the app set since is left alone)
_holders = 0
_saved = logging.NOTSET


def silence_kafka(step: int) -> None:
    """kafka-python's loggers (``kafka.*``) silenced while anything holds them so (``+1``
    to hold, ``-1`` to let go), as they were once the last lets go: an open
    :class:`~driftscope.client.PredictionLogger` (with the broker down they wrote about 20
    ERROR lines a minute, beside driftscope's own warning a minute), a command's first
    connection (:func:`told_by_us`). One count for both: two savers of the level could
    each restore the other's silence."""
    global _holders, _saved
    kafka_log = logging.getLogger("kafka")
    with _LOCK:
        _holders += step
        if step > 0 and _holders == 1:
            _saved = kafka_log.level
            kafka_log.setLevel(_QUIET)
        elif step < 0 and _holders == 0 and kafka_log.level == _QUIET:
            kafka_log.setLevel(_saved)


@contextmanager
def told_by_us() -> Iterator[None]:
    """kafka-python's loggers silenced (:func:`silence_kafka`) for a step whose failure
    driftscope tells in one line of its own (a command's first connection: ``cannot reach
    Kafka at …``): with no broker there, three ERROR lines of kafka-python's came first
    (connection failed, connection lost, bootstrap failed). Not when its INFO lines are
    wanted (``-v``)."""
    if logging.getLogger("kafka").isEnabledFor(logging.INFO):
        yield
        return
    silence_kafka(+1)
    try:
        yield
    finally:
        silence_kafka(-1)
