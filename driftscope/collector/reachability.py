"""Whether the collector reaches its broker: a gauge and one log line per change.

While the broker is down, kafka-python's polls return nothing and say so only in its own
error logs; the collector's gauges stood still at their last values, so a broker outage
looked like an application that stopped sending. :class:`BrokerWatch` reads, after each
poll, whether the consumer holds a connection to any broker of the cluster (no request
is made), and turns that into ``driftscope_collector_broker_up`` and a WARNING when the
broker has been unreachable for :data:`GRACE` seconds, then another when it answers
again (a reconnection within the grace is not an outage).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

GRACE = 5.0
"""Seconds without a connection before the broker counts as unreachable."""


def connected(consumer: Any) -> bool | None:
    """Whether the consumer holds a connection to a broker of its cluster (as a partition
    leader, or as its group's coordinator: kafka-python names that one ``coordinator-N``);
    None when its client does not say (another kafka-python than the one pinned)."""
    try:
        client = consumer._client
        ids = [getattr(n, "node_id", getattr(n, "nodeId", None))
               for n in client.cluster.brokers()]
        return any(client.connected(i) or client.connected(f"coordinator-{i}") for i in ids)
    except Exception:  # (private surface of kafka-python: never a reason to stop)
        return None


class BrokerWatch:
    """The broker's reachability as seen by one consumer.

    Examples
    --------
    >>> t = [0.0]; w = BrokerWatch(logging.getLogger("doc"), "b:9092", clock=lambda: t[0])
    >>> w.see(True), w.up
    (True, True)
    >>> w.see(False), w.up              # within the grace: still up
    (True, True)
    >>> t[0] = 6.0; w.see(False), w.up  # down for 6 s: unreachable
    (False, False)
    """

    def __init__(self, log: logging.Logger, bootstrap: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log = log
        self.bootstrap = bootstrap
        self.clock = clock
        self.up = False  # until a first connection (a collector started with Kafka down)
        self._seen = False
        self._lost_at: float | None = None

    def see(self, connection: bool | None) -> bool:
        """Record one observation; returns whether the broker counts as reachable."""
        now = self.clock()
        if connection is None:
            return self.up
        if connection:
            if self._seen and not self.up:
                self.log.warning("broker at %s reachable again after %.0f s; consumption "
                                 "resumed", self.bootstrap, now - (self._lost_at or now))
            self.up, self._seen, self._lost_at = True, True, None
            return True
        if self._lost_at is None:
            self._lost_at = now
        if self.up and now - self._lost_at >= GRACE:
            self.up = False
            self.log.warning("broker at %s unreachable for %.0f s: nothing is consumed until "
                             "it answers (what the producers could send waits in Kafka)",
                             self.bootstrap, now - self._lost_at)
        return self.up
