"""kafka-python's network loop, told to warn of real stalls only.

kafka-python 3 warns of every step of its network loop longer than 0.1 s ("Task … ran
for 0.13 s (>0.100 s threshold). It is blocking the event loop …"): in an application
logging predictions at a high rate, or in the collector, the application's own threads
hold the interpreter that long often enough, and each of those lines lands in the
application's log. One second is a stall worth a line.
"""

from __future__ import annotations

import logging
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


@contextmanager
def told_by_us() -> Iterator[None]:
    """kafka-python's loggers silenced for a step whose failure driftscope tells in one
    line of its own (a command's first connection: ``cannot reach Kafka at …``): with no
    broker there, three ERROR lines of kafka-python's came first (connection failed,
    connection lost, bootstrap failed). Not when its INFO lines are wanted (``-v``)."""
    kafka = logging.getLogger("kafka")
    if kafka.isEnabledFor(logging.INFO):
        yield
        return
    level = kafka.level
    kafka.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        kafka.setLevel(level)
