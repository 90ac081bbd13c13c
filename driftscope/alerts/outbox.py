"""The outbox: every message to send is a row first, so an alert survives a crash.

The alert engine *enqueues* one row per (alert event, channel) with a deterministic
``delivery_id``; enqueuing twice is a no-op. The :class:`Dispatcher` sends the pending
rows with retries and exponential backoff and then records them ``sent``. Every send
carries the ``delivery_id`` as its idempotency key (HTTP header ``Idempotency-Key`` and
the JSON field ``idempotency_key``; the Kafka message key), so a process killed between
sending and recording re-sends the same key and a receiver that honours it applies it
once: nothing is lost, nothing is applied twice. Slack's incoming webhooks ignore the
key, so there a crash in that instant can show a message twice (never lose it).

Statuses: ``pending`` → ``sent``, or ``failed`` after the retries are spent (``driftscope
alerts run`` tries failed rows again).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

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


def _now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """Outbox rows in the store (``alert_outbox``, a ReplacingMergeTree on ``version``)."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = _now) -> None:
        self.store = store
        self.clock = clock

    def enqueue(self, delivery_id: str, alert_id: str, kind: str, channel: str,
                payload: Mapping[str, Any]) -> bool:
        """Add a pending row unless this delivery id exists; True when added."""
        if self.store.count(O, f"{O.delivery_id} = {{d:String}}", d=delivery_id):
            return False
        now = self.clock()
        self.store.insert(O, [(delivery_id, alert_id, kind, channel,
                               json.dumps(payload, sort_keys=True, default=str), "pending", 0, "",
                               now, now, time.time_ns())], O.columns)
        return True

    def pending(self, include_failed: bool = False) -> list[Delivery]:
        """Rows still to send, oldest first."""
        states = ["pending", "failed"] if include_failed else ["pending"]
        rows = self.store.query(
            f"SELECT {O.delivery_id}, {O.alert_id}, {O.kind}, {O.channel}, {O.payload}, "
            f"{O.status}, {O.attempts}, {O.created_at} FROM {O} FINAL "
            f"WHERE {O.status} IN {{s:Array(String)}} ORDER BY {O.created_at}, {O.delivery_id}",
            {"s": states},
        )
        return [Delivery(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], int(r[6]), r[7])
                for r in rows]

    def mark(self, d: Delivery, status: str, attempts: int, error: str = "") -> None:
        """Record a new status for a delivery (a new version of its row)."""
        self.store.insert(O, [(d.delivery_id, d.alert_id, d.kind, d.channel,
                               json.dumps(d.payload, sort_keys=True, default=str), status,
                               attempts, error[:500], d.created_at, self.clock(),
                               time.time_ns())], O.columns)

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

    def run(self, include_failed: bool = False) -> dict[str, int]:
        """Deliver everything pending; returns counts by outcome."""
        counts = {"sent": 0, "failed": 0, "skipped": 0}
        for d in self.outbox.pending(include_failed):
            channel = self.channels.get(d.channel)
            if channel is None:
                counts["skipped"] += 1
                continue
            counts["sent" if self._deliver(d, channel) else "failed"] += 1
        return counts

    def _deliver(self, d: Delivery, channel: Channel) -> bool:
        attempts = d.attempts
        error = ""
        for k in range(self.retries + 1):
            if k:
                self.sleep(min(self.backoff * 2 ** (k - 1), self.backoff_max))
            attempts += 1
            try:
                channel.send(d.payload, d.delivery_id)
            except NotifierError as exc:
                error = str(exc)
                log.warning("delivery %s via %s failed (attempt %d): %s",
                            d.delivery_id, d.channel, attempts, error)
                continue
            if self.after_send is not None:
                self.after_send(d.delivery_id)
            self.outbox.mark(d, "sent", attempts)
            return True
        self.outbox.mark(d, "failed", attempts, error)
        return False
