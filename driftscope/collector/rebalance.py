"""What the collector does when the consumer group moves partitions.

Before partitions are revoked, the buffered batch is flushed; if the store cannot take it,
it is dropped (its offsets were never committed, so whoever owns the partitions next reads
the events again). When the member was removed from the group (``on_partitions_lost``: its
session expired), the batch is dropped without writing, since the partitions may already
belong to another member. Either way the watermarks, windows, sample state and feature
kinds the dropped batch built in memory are reloaded from the store before anything more is
processed (:meth:`Collector._drop_batch`), so the replay is not flagged late against itself
and its feature kinds are still recorded. Newly assigned partitions are paused until
:meth:`Collector._recover` has rolled back unfinished flushes and sought to the offsets
stored with the data.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from kafka import ConsumerRebalanceListener

from driftscope.errors import StoreError

if TYPE_CHECKING:
    from driftscope.collector.service import Collector

log = logging.getLogger("driftscope.collector")


class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """kafka-python rebalance callbacks bound to one collector."""

    def __init__(self, collector: Collector) -> None:
        self.c = collector

    def on_partitions_revoked(self, revoked: Any) -> None:
        c = self.c
        if len(c.batch) and not c._backoff.down:
            try:
                c.flush()
            except StoreError as exc:
                log.warning("collector: flush before rebalance failed (%s); replaying", exc)
        if len(c.batch):
            c._drop_batch()
        c._recovering -= {tp.partition for tp in revoked}

    def on_partitions_lost(self, lost: Any) -> None:
        """Removed from the group (session expired): another member owns these partitions
        now and replays them from the stored offsets, so the batch is dropped, not written."""
        c = self.c
        if len(c.batch):
            log.warning(
                "collector %s: lost partitions %s; dropping %d unflushed messages (replayed "
                "by their new owner)",
                c.collector_id,
                sorted(tp.partition for tp in lost),
                len(c.batch),
            )
            c._drop_batch()
        c._recovering -= {tp.partition for tp in lost}

    def on_partitions_assigned(self, assigned: Any) -> None:
        c = self.c
        if not assigned:
            return
        c._consumer.pause(*assigned)
        c._recovering |= {tp.partition for tp in assigned}
        log.info(
            "collector %s: assigned partitions %s",
            c.collector_id,
            sorted(tp.partition for tp in assigned),
        )


def finish_lost_join(consumer: Any) -> bool:
    """Start the group join again when kafka-python 3.0 has lost one; True if it had.

    kafka-python 3.0.12 runs a join (JoinGroup, then SyncGroup) as a task that a ``poll``
    awaits for its own timeout only. When the member is the group's leader and rejoins
    because the topic's partitions changed (a topic recreated with more partitions, a
    broker restarted empty), the task records the new partition set before its SyncGroup
    round trip. If a ``poll`` times out during that round trip, the next one no longer
    sees a reason to rejoin and never applies the assignment the task received: the
    consumer stays joined to nothing, with heartbeats off, and reads nothing again,
    without an error. The same follows when the SyncGroup fails on a lost connection while
    a ``poll`` awaits it. Asking for a rejoin lets the next ``poll`` join afresh."""
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or not getattr(coordinator, "rejoining", False):
        return False
    task = getattr(coordinator, "_join_task", None)
    # a task that failed while a poll awaited it (a SyncGroup lost with its connection) is
    # dropped (None), with the same result: no poll ever finishes that join
    if (task is not None and not task.is_done) or coordinator.need_rejoin():
        return False
    log.warning("collector: the consumer group join finished unseen (a kafka-python 3.0 race); "
                "joining again")
    coordinator.request_rejoin()
    return True
