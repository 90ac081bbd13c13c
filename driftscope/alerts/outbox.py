"""The outbox: every message to send is a row first, so an alert survives a crash.

The alert engine *enqueues* one row per (alert event, channel) with a deterministic
``delivery_id``; enqueuing twice is a no-op. The :class:`Dispatcher` sends the pending
rows with retries and exponential backoff and then records them ``sent``. Every send
carries the ``delivery_id`` as its idempotency key (HTTP header ``Idempotency-Key`` and
the JSON field ``idempotency_key``; the Kafka message key), so a process killed between
sending and recording re-sends the same key and a receiver that honours it applies it
once: nothing is lost, nothing is applied twice. Slack's incoming webhooks ignore the
key, so there a crash in that instant can show a message twice (never lose it).

Rows may share a ``group_key`` (the engine uses model × window × event): the dispatcher
sends the pending rows of one group and channel as **one** message, merged by
:func:`driftscope.alerts.messages.merge`, with an idempotency key derived from the sorted
delivery ids, and records them all. Two monitors of one model firing in one window make
one Slack message.

Statuses: ``pending`` → ``sent``, or ``failed`` after the retries are spent (``driftscope
alerts run`` tries failed rows again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from driftscope.alerts.messages import merge
from driftscope.errors import NotifierError
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

O = S.ALERT_OUTBOX  # noqa: E741
log = logging.getLogger(__name__)


class Channel(Protocol):
    """A notifier: delivers one payload; idempotent on ``key`` where the receiver allows."""

    name: str

    def send(self, payload: Mapping[str, Any], key: str) -> None: ...


@dataclass(frozen=True)
class Delivery:
    """One outbox row."""

    delivery_id: str
    alert_id: str
    kind: str
    channel: str
    payload: dict[str, Any]
    status: str
    attempts: int
    created_at: datetime
    group_key: str = ""

    @property
    def group(self) -> tuple[str, str]:
        """What is sent together: the channel and the group (or the row alone)."""
        return (self.channel, self.group_key or f"\x00{self.delivery_id}")


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


class Outbox:
    """Outbox rows in the store (``alert_outbox``, a ReplacingMergeTree on ``version``)."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = _now) -> None:
        self.store = store
        self.clock = clock

    def enqueue(self, delivery_id: str, alert_id: str, kind: str, channel: str,
                payload: Mapping[str, Any], group_key: str = "") -> bool:
        """Add a pending row unless this delivery id exists; True when added."""
        if self.store.count(O, f"{O.delivery_id} = {{d:String}}", d=delivery_id):
            return False
        now = self.clock()
        self.store.insert(O, [(delivery_id, alert_id, kind, channel,
                               json.dumps(payload, sort_keys=True, default=str), "pending", 0, "",
                               now, now, time.time_ns(), group_key)], O.columns)
        return True

    def pending(self, include_failed: bool = False) -> list[Delivery]:
        """Rows still to send, oldest first."""
        states = ["pending", "failed"] if include_failed else ["pending"]
        rows = self.store.query(
            f"SELECT {O.delivery_id}, {O.alert_id}, {O.kind}, {O.channel}, {O.payload}, "
            f"{O.status}, {O.attempts}, {O.created_at}, {O.group_key} FROM {O} FINAL "
            f"WHERE {O.status} IN {{s:Array(String)}} ORDER BY {O.created_at}, {O.delivery_id}",
            {"s": states},
        )
        return [Delivery(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], int(r[6]), r[7], r[8])
                for r in rows]

    def mark(self, rows: list[Delivery], status: str, attempts: int, error: str = "") -> None:
        """Record a new status for deliveries sent together: one insert, so all or none."""
        now = self.clock()
        self.store.insert(O, [(d.delivery_id, d.alert_id, d.kind, d.channel,
                               json.dumps(d.payload, sort_keys=True, default=str), status,
                               attempts, error[:500], d.created_at, now, time.time_ns(),
                               d.group_key) for d in rows], O.columns)

    def status(self, delivery_id: str) -> str | None:
        rows = self.store.query(f"SELECT {O.status} FROM {O} FINAL WHERE {O.delivery_id} = "
                                "{d:String}", {"d": delivery_id})
        return rows[0][0] if rows else None


class Dispatcher:
    """Sends pending outbox rows through their channels, with retries and backoff.

    Parameters
    ----------
    outbox : Outbox
    channels : mapping of channel name → notifier
    retries : int
        Attempts after the first one, per delivery and per run.
    backoff, backoff_max : float
        Seconds before retry ``k`` is ``min(backoff · 2**k, backoff_max)``.
    sleep : callable
        Injected so tests need not wait.
    after_send : callable, optional
        Called with the delivery id after a successful send and before it is recorded
        (a hook point for crash tests).
    """

    def __init__(self, outbox: Outbox, channels: Mapping[str, Channel], *, retries: int = 5,
                 backoff: float = 0.5, backoff_max: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep,
                 after_send: Callable[[str], None] | None = None) -> None:
        self.outbox = outbox
        self.channels = dict(channels)
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.sleep = sleep
        self.after_send = after_send

    def run(self, include_failed: bool = False, hold: timedelta = timedelta(0)) -> dict[str, int]:
        """Deliver everything pending, one message per group; returns row counts by outcome.

        ``hold`` (Alertmanager's *group_wait*) keeps back a group whose newest row is younger
        than that, so that a dispatcher running beside the monitor does not send a group
        before the monitor's pass has enqueued all of it (counted as ``held``).
        """
        counts = {"sent": 0, "failed": 0, "skipped": 0, "held": 0}
        groups: dict[tuple[str, str], list[Delivery]] = {}
        for d in self.outbox.pending(include_failed):
            groups.setdefault(d.group, []).append(d)
        cutoff = self.outbox.clock() - hold
        for (name, _), rows in groups.items():
            channel = self.channels.get(name)
            if channel is None:
                counts["skipped"] += len(rows)
                continue
            if hold and max(_utc(d.created_at) for d in rows) > cutoff:
                counts["held"] += len(rows)
                continue
            counts["sent" if self._deliver(rows, channel) else "failed"] += len(rows)
        return counts

    def _deliver(self, rows: list[Delivery], channel: Channel) -> bool:
        if len(rows) == 1:
            payload, key = rows[0].payload, rows[0].delivery_id
        else:
            payload = merge(rows[0].channel, [d.payload for d in rows])
            ids = "\x1f".join(sorted(d.delivery_id for d in rows))
            key = "group:" + hashlib.sha256(ids.encode()).hexdigest()[:24]
        attempts = max(d.attempts for d in rows)
        error = ""
        for k in range(self.retries + 1):
            if k:
                self.sleep(min(self.backoff * 2 ** (k - 1), self.backoff_max))
            attempts += 1
            try:
                channel.send(payload, key)
            except NotifierError as exc:
                error = str(exc)
                log.warning("delivery %s via %s failed (attempt %d): %s",
                            key, rows[0].channel, attempts, error)
                continue
            if self.after_send is not None:
                self.after_send(key)
            self.outbox.mark(rows, "sent", attempts)
            return True
        self.outbox.mark(rows, "failed", attempts, error)
        return False
