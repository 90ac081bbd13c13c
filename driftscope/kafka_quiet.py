"""kafka-python's network loop, told to warn of real stalls only.

kafka-python 3 warns of every step of its network loop longer than 0.1 s ("Task … ran
for 0.13 s (>0.100 s threshold). It is blocking the event loop …"): in an application
logging predictions at a high rate, or in the collector, the application's own threads
hold the interpreter that long often enough, and each of those lines lands in the
application's log. One second is a stall worth a line.
"""

from __future__ import annotations

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
