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
:func:`driftscope.alerts.messages.merge` (two monitors of one model firing in one window
make one Slack message). Before the first attempt it fixes the group's members: one
insert marks them ``sending`` under a ``send_key`` (the delivery id of a lone row, else a
hash of the sorted delivery ids). Every later attempt — after a failure or a crash —
sends exactly those members under that key, so the key always means the same message.

Statuses: ``pending`` → ``sending`` → ``sent``, or ``failed`` after the retries are spent
(``driftscope alerts run`` and ``driftscope monitor`` try failed groups again, one attempt
per run and at most once per ``backoff_max``, after the new ones). A receiver's refusal
for good (:class:`~driftscope.alerts.notifiers.http.Rejected`, a 4xx) fails the message at
once, without the rest of its retries. A receiver that asks to wait
(:class:`~driftscope.alerts.notifiers.http.RateLimited`, a 429 with ``Retry-After``) gets
no post before that time: the dispatcher waits in the run when the wait fits both
``backoff_max`` and the backoff waits the message has left, else the message stays
``sending`` with ``updated_at`` set to the time it may go (a ``sending`` row is due from
its ``updated_at``), and nothing more goes to that channel before then (``held``).
A ``resolved`` or ``escalated`` row waits until its alert's ``firing`` row to the same
channel is sent, so a channel never shows a resolution or an update before its alert.
Any exception a channel raises is a failed attempt of its message, not the end of the run.

One dispatcher sends at a time per store: ``alerts run --follow``, ``monitor`` and
``backfill --notify`` may run side by side. A run with something due takes the outbox
lease (:mod:`driftscope.alerts.lease`: claim rows of kind ``lease`` in this table, no
other table), reads the rows again under it, sends, and releases it. A run that finds the
lease held skips at once (the rows it would have sent count as ``held``; logged at INFO)
and the next run tries again. The holder renews the lease before each attempt and each
backoff wait; one that stalled past half its lease stops, and its ``sending`` rows go out
under the same keys with the next holder. A holder that crashed blocks the others until
its lease expires (``lease_ttl``), or not at all where it ran on the same machine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from driftscope.alerts.lease import Lease, LeaseLost
from driftscope.alerts.messages import merge
from driftscope.alerts.notifiers.http import MAX_RETRY_AFTER, RateLimited, Rejected
from driftscope.durations import as_utc
from driftscope.errors import NotifierError, StoreError
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
    send_key: str = ""
    updated_at: datetime | None = None
    version: int = 0
    last_error: str = ""


def _now() -> datetime:
    return datetime.now(UTC)


def _failure(exc: Exception) -> str:
    """One line for a failed send: a notifier's own (redacted) message, else only the
    exception's type (its text may hold a URL or a credential)."""
    text = str(exc) if isinstance(exc, NotifierError) else type(exc).__name__
    return " ".join(text.split())


def message_key(rows: Sequence[Delivery]) -> str:
    """The idempotency key of a message: a lone row's delivery id, else a hash of the ids."""
    if len(rows) == 1:
        return rows[0].delivery_id
    ids = "\x1f".join(sorted(d.delivery_id for d in rows))
    return "group:" + hashlib.sha256(ids.encode()).hexdigest()[:24]


RATE_LIMITED_ATTEMPTS = 20
LATER = ("resolved", "escalated")  # events sent only after their alert's firing message
"""Attempts a message may make against ``429`` answers (each waiting its ``Retry-After``)
before it counts as failed, so that a receiver that never lets it through is reported."""


@dataclass(frozen=True)
class Backlog:
    """One channel's undelivered messages: how many, how many ``failed``, the oldest
    row's ``created_at``, the most attempts one made, the last error recorded, and since
    when the first of them has been due (:meth:`Outbox.backlog`)."""

    channel: str
    messages: int
    failed: int
    oldest: datetime
    attempts: int
    last_error: str
    due: datetime


REMIND_EVERY = 15 * 60.0
"""Seconds between the warnings of a channel whose deliveries keep failing."""
MESSAGE = (f"if({O.send_key} != '', {O.send_key}, if({O.group_key} != '', "
           f"concat({O.channel}, ':', {O.group_key}), {O.delivery_id}))")
"""SQL: a row's message, counted once however many rows it holds (sent together: a send
key; new rows of one group; else a row alone)."""


@dataclass
class _Failing:
    """A channel's run of failed attempts: since (monotonic), how many, last logged."""

    since: float
    attempts: int
    logged: float


_FAILING: dict[str, dict[str, _Failing]] = {}
"""Per store (its :attr:`~driftscope.store.clickhouse.Store.where`), each channel's run of
failed attempts: shared by the dispatchers of a process (``driftscope monitor`` makes one
per pass), so a receiver down is told once, not at every pass."""


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
                               now, now, time.time_ns(), group_key, "")], O.columns)
        return True

    def pending(self, include_failed: bool = False) -> list[Delivery]:
        """Rows still to send (``pending``, ``sending``; ``failed`` too), oldest first."""
        states = ["pending", "sending", "failed"] if include_failed else ["pending", "sending"]
        rows = self.store.query(
            f"SELECT {O.delivery_id}, {O.alert_id}, {O.kind}, {O.channel}, {O.payload}, "
            f"{O.status}, {O.attempts}, {O.created_at}, {O.group_key}, {O.send_key}, "
            f"{O.updated_at}, {O.version}, {O.last_error} FROM {O} FINAL "
            f"WHERE {O.status} IN {{s:Array(String)}} ORDER BY {O.created_at}, {O.delivery_id}",
            {"s": states},
        )
        return [Delivery(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], int(r[6]),
                         as_utc(r[7]), r[8], r[9], as_utc(r[10]), int(r[11]), r[12])
                for r in rows]

    def mark(self, rows: Sequence[Delivery], status: str, attempts: Sequence[int],
             error: str = "", key: str | None = None,
             due: datetime | None = None) -> list[Delivery]:
        """Record a new status for rows sent together: one insert, so all or none.

        Each new version is above the row's last one even if the wall clock stepped back.
        ``due``: the time a ``sending`` message (or one failed on a 429) may be tried
        again (its ``updated_at``).
        Returns the rows as recorded.
        """
        now, ns = due or self.clock(), time.time_ns()
        out = [replace(d, status=status, attempts=n, updated_at=now,
                       send_key=d.send_key if key is None else key,
                       version=max(ns, d.version + 1), last_error=error[:500])
               for d, n in zip(rows, attempts, strict=True)]
        self.store.insert(O, [(d.delivery_id, d.alert_id, d.kind, d.channel,
                               json.dumps(d.payload, sort_keys=True, default=str), d.status,
                               d.attempts, d.last_error, d.created_at, now, d.version,
                               d.group_key, d.send_key) for d in out], O.columns)
        return out

    def backlog(self, hold: timedelta = timedelta(0)) -> list[Backlog]:
        """The undelivered messages (``pending``, ``sending``, ``failed`` rows, those sent
        together counted once: :data:`MESSAGE`) per channel, the channel waiting longest
        first. Each channel's ``due`` is when its first message was due to go out: a row
        is due when made, a new one of a group ``hold`` later at the latest (a dispatcher
        beside the monitor holds it for the monitor's pass, :meth:`Dispatcher.run`), one
        a receiver asked to wait (``429``) once the wait is over — and so is every other
        row of that channel, which the dispatcher holds as long (found in review: a
        second message queued behind a 15-minute ``Retry-After`` made the service
        unhealthy after 5)."""
        now = self.clock()
        # (a new group is held until `hold` after its newest row: :meth:`Dispatcher._plan`)
        newest = (f"max({O.created_at}) OVER (PARTITION BY {O.channel}, {O.group_key}, "
                  f"{O.status} = 'pending')")
        waits = f"{O.status} != 'pending' AND {O.updated_at} > {{now:DateTime64(3, 'UTC')}}"
        wait = f"maxIf({O.updated_at}, {waits}) OVER (PARTITION BY {O.channel})"
        rows = self.store.query(
            f"SELECT {O.channel}, uniqExact(message), "
            f"uniqExactIf(message, {O.status} = 'failed'), "
            f"min({O.created_at}), max({O.attempts}), "
            f"argMaxIf({O.last_error}, {O.updated_at}, {O.last_error} != ''), "
            f"min(greatest(wait, multiIf({O.status} = 'pending' AND {O.group_key} != '', "
            f"newest + toIntervalMillisecond({{hold:Int64}}), "
            f"{waits}, {O.updated_at}, {O.created_at}))) FROM ("
            f"SELECT {O.channel}, {O.status}, {O.created_at}, {O.attempts}, {O.last_error}, "
            f"{O.updated_at}, {O.group_key}, {MESSAGE} AS message, {newest} AS newest, "
            f"{wait} AS wait "
            f"FROM {O} FINAL WHERE {O.status} IN ('pending', 'sending', 'failed')) "
            f"GROUP BY {O.channel} ORDER BY min({O.created_at}), {O.channel}",
            {"hold": int(hold.total_seconds() * 1000), "now": now})
        return [Backlog(r[0], int(r[1]), int(r[2]), as_utc(r[3]), int(r[4]), r[5],
                        as_utc(r[6])) for r in rows]

    def discard(self, key: str, why: str, wait: float = 120.0,
                pause: Callable[[float], None] = time.sleep) -> list[Delivery]:
        """Give up an undelivered message: the rows of delivery id or send key ``key``, and
        those sent with them (its group), are marked ``discarded`` with ``why`` and never
        tried again. Returns them (none: nothing undelivered has that key).

        Under the outbox lease, as a dispatcher sends: one sending the message at that
        moment would record its outcome after the discard, and the message came back
        (failed, retried for ever) or went out after "discarded". Waits up to ``wait``
        seconds for a dispatcher that holds it; raises :class:`LeaseLost` after that."""
        lease = Lease(self.store)
        deadline = time.monotonic() + wait
        while not lease.acquire():
            if time.monotonic() >= deadline:
                raise LeaseLost(f"a dispatcher has been sending the outbox for {wait:.0f} s: "
                                "nothing was discarded; try again")
            pause(1.0)
        try:
            rows = self.pending(include_failed=True)
            keys = {d.send_key for d in rows
                    if key in (d.delivery_id, d.send_key) and d.send_key}
            found = [d for d in rows if d.delivery_id == key or d.send_key in keys]
            return (self.mark(found, "discarded", [d.attempts for d in found], why)
                    if found else [])
        finally:
            lease.release()

    def status(self, delivery_id: str) -> str | None:
        rows = self.store.query(f"SELECT {O.status} FROM {O} FINAL WHERE {O.delivery_id} = "
                                "{d:String}", {"d": delivery_id})
        return rows[0][0] if rows else None

    def last_pass(self) -> datetime | None:
        """When the latest monitor pass finished (None when none is recorded)."""
        P = S.MONITOR_PASSES
        rows = self.store.query(f"SELECT max({P.finished_at}), count() FROM {P}")
        return as_utc(rows[0][0]) if rows and rows[0][1] else None


class Dispatcher:
    """Sends pending outbox rows through their channels, with retries and backoff.

    Parameters
    ----------
    outbox : Outbox
    channels : mapping of channel name → notifier
    retries : int
        Attempts after the first one, per new message and per run (a failed message gets
        one attempt per run).
    backoff, backoff_max : float
        Seconds before retry ``k`` is ``min(backoff · 2**k, backoff_max)``; a failed message
        is tried again at most once per ``backoff_max``.
    sleep : callable
        Injected so tests need not wait.
    after_send : callable, optional
        Called with the message's key after a successful send and before it is recorded
        (a hook point for crash tests).
    lease : Lease, optional
        What keeps a second dispatcher of the same store from sending at the same time
        (default: a :class:`~driftscope.alerts.lease.Lease` of ``lease_ttl`` seconds, on
        the wall clock whatever the outbox's clock).
    lease_ttl : float
        Seconds a claim lives without renewal: the longest a crashed dispatcher blocks
        the others. More than twice the longest send or backoff wait.
    """

    def __init__(self, outbox: Outbox, channels: Mapping[str, Channel], *, retries: int = 5,
                 backoff: float = 0.5, backoff_max: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep,
                 after_send: Callable[[str], None] | None = None,
                 lease: Lease | None = None, lease_ttl: float = 180.0) -> None:
        self.outbox = outbox
        self.channels = dict(channels)
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.sleep = sleep
        self.after_send = after_send
        self.lease = lease or Lease(outbox.store, timedelta(seconds=lease_ttl))
        self._wait_until: dict[str, datetime] = {}  # channel → no post before (429)
        self._refused = False  # the last message sent was refused for good (a 4xx)
        self._failing = _FAILING.setdefault(outbox.store.where, {})  # (channel → failures)

    def run(self, include_failed: bool = False, hold: timedelta = timedelta(0),
            pace_failed: bool = False) -> dict[str, int]:
        """Deliver what is due, one message per group; returns row counts by outcome.

        Order: messages interrupted by a crash (``sending``), then new groups, then failed
        messages (``include_failed``); a channel's failed messages go just before its first
        new one, the one tried least recently first (a resolution that failed in an outage
        went out after the next incident's alert, and the channel's last word read
        "Resolved" while the model fired) — but never before an older resolution or update
        of the same model that the channel has not had (:func:`_model_order`). Once a
        channel fails in a run, its other failed messages wait for the next, unless the
        receiver answered that it refuses that message (a 4xx: :class:`Rejected`).
        With ``hold`` (a dispatcher beside the monitor) a new
        group waits until a monitor pass finished after its newest row was enqueued, or
        until it is ``hold`` old (counted as ``held``). With ``pace_failed`` (a dispatcher
        that runs in a loop) a failed message is tried at most once per ``backoff_max``.
        An alert's resolution is never sent to a channel before its firing message: it is
        tried again after the rest, and waits (``held``) while that one is not sent.

        Only the holder of the outbox lease sends. Where another dispatcher holds it, this
        run sends nothing and counts what was due as ``held``; where this one stalls past
        its lease, the run stops (``sending`` rows go out, under the same keys, with the
        next holder).
        """
        counts, queue, unsent = self._plan(include_failed, hold, pace_failed)
        if not queue:  # nothing to send: no lease taken, nothing written
            return counts
        if not self.lease.acquire():
            due = sum(len(members) for members in queue)
            log.info("another dispatcher is sending the outbox: %d row(s) left to it", due)
            counts["held"] += due
            return counts
        try:  # read again under the lease: the other dispatcher may have sent them since
            counts, queue, unsent = self._plan(include_failed, hold, pace_failed)
            later, dead = [], set()
            for members in queue:
                if members[0].status == "failed" and members[0].channel in dead:
                    counts["held"] += len(members)  # (one failed retry a run per channel:
                    continue  # a dead receiver costs the others one timeout, not one each)
                failed = counts["failed"]
                self._refused = False
                later.append(self._send(members, unsent, counts))
                if counts["failed"] > failed and not self._refused:
                    dead.add(members[0].channel)
            for members in later:  # held back: their firing messages may have gone out since
                if members:
                    counts["held"] += len(self._send(members, unsent, counts))
        except LeaseLost as exc:
            log.warning("%s: this dispatcher stalled; it stops, the next holder sends the rest",
                        exc)
        finally:
            self._release()
        return counts

    def _release(self) -> None:
        """Give the lease back; a store error here must not hide how the run ended."""
        try:
            self.lease.release()
        except StoreError as exc:  # the claim lapses after its ttl
            log.warning("could not release the outbox lease: %s", exc)

    def _plan(self, include_failed: bool, hold: timedelta, pace_failed: bool,
              ) -> tuple[dict[str, int], list[list[Delivery]], set[tuple[str, str]]]:
        """What to send, in order (see :meth:`run`): the counts so far (``held``), the
        messages' members, and the (alert, channel) pairs whose firing row is unsent."""
        counts = {"sent": 0, "failed": 0, "skipped": 0, "held": 0}
        rows = self.outbox.pending(include_failed=True)
        unsent = {(d.alert_id, d.channel) for d in rows if d.kind == "firing"}
        now = self.outbox.clock()
        self._wait_until = {}  # rate-limited messages wait, and so does their channel
        for d in rows:  # (a failed one too: its 20th 429, tried or not in this run)
            if d.status != "pending" and d.updated_at is not None and d.updated_at > now:
                due = min(d.updated_at, now + timedelta(seconds=MAX_RETRY_AFTER))  # (a clock
                # ahead elsewhere)
                self._wait_until[d.channel] = max(due, self._wait_until.get(d.channel, due))
        rows = [d for d in rows if include_failed or d.status != "failed"]
        fixed: dict[str, list[Delivery]] = {}
        new: dict[tuple[str, str], list[Delivery]] = {}
        for d in rows:
            if d.status == "pending":
                new.setdefault((d.channel, d.group_key or f"\x00{d.delivery_id}"), []).append(d)
            else:
                fixed.setdefault(d.send_key or d.delivery_id, []).append(d)
        last_pass = self.outbox.last_pass() if hold and new else None
        due_failed = now - timedelta(seconds=self.backoff_max)
        queue = [g for g in fixed.values() if g[0].status == "sending"]
        for (_, group), members in new.items():
            newest = max(d.created_at for d in members)
            released = (not hold or group.startswith("\x00") or newest <= now - hold
                        or (last_pass is not None and newest <= last_pass))
            if released:
                queue.append(members)
            else:
                counts["held"] += len(members)
        queue += [g for g in fixed.values() if g[0].status == "failed" and (
            not pace_failed or all(d.updated_at is None or d.updated_at <= due_failed
                                   for d in g))]
        queue = _failed_first_per_channel(queue)
        queue, behind = _model_order(queue, [g for g in fixed.values() if g[0].status == "failed"])
        counts["held"] += sum(len(g) for g in behind)
        waiting = [g for g in queue if self._wait_until.get(g[0].channel, now) > now]
        counts["held"] += sum(len(g) for g in waiting)  # (no lease for them alone)
        return counts, [g for g in queue if g not in waiting], unsent

    def _send(self, members: list[Delivery], unsent: set[tuple[str, str]],
              counts: dict[str, int]) -> list[Delivery]:
        """Deliver one message, less the resolutions of alerts whose firing message to its
        channel is not sent yet (``unsent``); returns those rows, held back (all of them
        where the members are fixed)."""
        channel = self.channels.get(members[0].channel)
        if channel is None:
            counts["skipped"] += len(members)
            return []
        if self._wait_until.get(members[0].channel, datetime.min.replace(tzinfo=UTC)) > (
                self.outbox.clock()):  # the receiver asked to wait (429)
            counts["held"] += len(members)
            return []
        early = [d for d in members if d.kind in LATER and (d.alert_id, d.channel) in unsent]
        if early and members[0].status != "pending":
            return members
        members = [d for d in members if d not in early]
        if members:
            outcome = self._deliver(members, channel)
            counts[outcome] += len(members)
            if outcome == "sent":
                unsent -= {(d.alert_id, d.channel) for d in members if d.kind == "firing"}
        return early

    def _deliver(self, rows: list[Delivery], channel: Channel) -> str:
        """Send one message with its retries: ``sent``, ``failed``, or ``held`` (the
        receiver asked to wait past what this run would wait)."""
        failed = rows[0].status == "failed"
        # pending rows, and rows from before send keys (migration 203), have none yet
        key = rows[0].send_key or message_key(rows)
        if rows[0].status == "pending":  # fix the members before the first attempt
            rows = self.outbox.mark(rows, "sending", [d.attempts for d in rows], key=key)
        else:
            rows = [replace(d, send_key=key) for d in rows]
        if len(rows) == 1:
            payload = rows[0].payload
        else:
            payload = merge(rows[0].channel,
                            [{**d.payload, "delivery_id": d.delivery_id} for d in rows])
        waits = [] if failed else [min(self.backoff * 2 ** k, self.backoff_max)
                                   for k in range(self.retries)]
        error, made, due = "", 0, None
        while True:
            self.lease.renew()
            made += 1
            try:
                channel.send(payload, key)
            except Exception as exc:  # any failure is a failed attempt, never a stuck queue
                error = _failure(exc)
                self._failed_attempt(rows[0].channel, key, rows[0].attempts + made, error)
                if isinstance(exc, Rejected):
                    self._refused = True
                    break
                after = exc.retry_after if isinstance(exc, RateLimited) else None
                if after is not None and rows[0].attempts + made >= RATE_LIMITED_ATTEMPTS:
                    # so many 429s: failed (reported), and the channel still waits, in
                    # this run and the next (its updated_at); never a wait in the run
                    due = self.outbox.clock() + timedelta(seconds=after)
                    self._wait_until[rows[0].channel] = due
                    break
                if after is not None and (
                        not waits or after > min(sum(waits), self.backoff_max)):
                    return self._defer(rows, made, error, after)
                if not waits:
                    break
                wait = waits.pop(0)
                if after is not None:
                    wait = max(wait, after)
                self.lease.renew()
                self.sleep(wait)
                continue
            if self.after_send is not None:
                self.after_send(key)
            self.outbox.mark(rows, "sent", [d.attempts + made for d in rows])
            self._sent(rows[0].channel)
            return "sent"
        self.outbox.mark(rows, "failed", [d.attempts + made for d in rows], error, due=due)
        return "failed"

    def _failed_attempt(self, channel: str, key: str, attempt: int, error: str) -> None:
        """Log a failed attempt: a channel's first failure, then a reminder at most every
        ``REMIND_EVERY`` while its attempts keep failing (the rest at DEBUG): a receiver
        down for an hour writes a few lines, not one per retry."""
        now = time.monotonic()
        state = self._failing.get(channel)
        if state is None:
            self._failing[channel] = _Failing(now, 1, now)
            log.warning("delivery via %s failed (message %s, attempt %d): %s; while it keeps "
                        "failing, a reminder every %.0f min", channel, key, attempt, error,
                        REMIND_EVERY / 60)
            return
        state.attempts += 1
        if now - state.logged < REMIND_EVERY:
            log.debug("delivery via %s failed (message %s, attempt %d): %s",
                      channel, key, attempt, error)
            return
        state.logged = now
        log.warning("deliveries via %s still failing: %d failed attempts in %.0f min; the last "
                    "(message %s, attempt %d): %s", channel, state.attempts,
                    (now - state.since) / 60, key, attempt, error)

    def _sent(self, channel: str) -> None:
        state = self._failing.pop(channel, None)
        if state is not None:
            log.warning("deliveries via %s succeed again, after %d failed attempts in %.0f min",
                        channel, state.attempts, (time.monotonic() - state.since) / 60)

    def health(self, hold: timedelta = timedelta(0)) -> dict[str, Any]:
        """What ``driftscope health alerts`` judges, for the heartbeat: each configured
        channel's undelivered messages (how many, how many failed, the oldest's time and
        since when the first has been due, in epoch seconds, the last error). ``hold``:
        the runs' (:meth:`run`; a message held for a monitor's pass, or a receiver's
        ``429`` wait, is not late)."""
        return {"undelivered": [
            {"channel": b.channel, "messages": b.messages, "failed": b.failed,
             "oldest": round(b.oldest.timestamp(), 3), "due": round(b.due.timestamp(), 3),
             "error": b.last_error}
            for b in self.outbox.backlog(hold) if b.channel in self.channels]}

    def _defer(self, rows: list[Delivery], made: int, error: str, wait: float) -> str:
        """Leave a rate-limited message for a run after ``wait`` seconds, and its channel
        alone until then."""
        due = self.outbox.clock() + timedelta(seconds=wait)
        self._wait_until[rows[0].channel] = due
        self.outbox.mark(rows, "sending", [d.attempts + made for d in rows], error, due=due)
        log.info("%s asked to wait %gs: message %s and the rest of the channel wait",
                 rows[0].channel, wait, rows[0].send_key)
        return "held"


def _failed_first_per_channel(queue: list[list[Delivery]]) -> list[list[Delivery]]:
    """``queue`` with each channel's failed messages moved just before its first new
    (pending) message, the one tried least recently first (a message the receiver keeps
    refusing does not take every run's one retry from the others); the failed messages
    of a channel with nothing new stay last, in their order. Crash-interrupted
    (``sending``) messages keep their place."""
    failed: dict[str, list[list[Delivery]]] = {}
    for g in queue:
        if g[0].status == "failed":
            failed.setdefault(g[0].channel, []).append(g)
    out: list[list[Delivery]] = []
    for g in queue:
        if g[0].status == "failed":
            continue
        if g[0].status == "pending":
            out += sorted(failed.pop(g[0].channel, []), key=_last_tried)
        out.append(g)
    return out + [g for gs in failed.values() for g in sorted(gs, key=_last_tried)]


def _model_of(group: list[Delivery]) -> str:
    """The model an alert message is about (its group key's first part), "" for others."""
    return group[0].group_key.split("\x1f", 1)[0] if "\x1f" in group[0].group_key else ""


def _model_order(queue: list[list[Delivery]], failed: list[list[Delivery]],
                 ) -> tuple[list[list[Delivery]], list[list[Delivery]]]:
    """``queue`` with each failed resolution or update (:data:`LATER`) moved just before
    the first message after it about the same model to the same channel that was made
    later; and the messages held back (second) because such a one is failed but not in
    this run (paced). Found in review: after an outage, a firing message tried less
    recently than the previous alert's failed "Resolved" went out first, and the
    channel's last word on the model read "Resolved" while it fired. Such a resolution's
    own alert message, where it failed too, goes before it (else the resolution waits
    for it, :meth:`Dispatcher._send`, and went out after the next alert all the same)."""
    def made(g: list[Delivery]) -> datetime:
        return min(d.created_at for d in g)

    earlier = [g for g in failed if g[0].kind in LATER and _model_of(g)]
    if not earlier:
        return queue, []
    theirs = {(d.alert_id, d.channel) for g in earlier for d in g}
    earlier += [g for g in failed if g[0].kind == "firing"
                and any((d.alert_id, d.channel) in theirs for d in g)]
    queued = {id(g) for g in queue}
    out: list[list[Delivery]] = []
    held: list[list[Delivery]] = []
    placed: set[int] = set()
    for g in queue:
        if id(g) in placed:
            continue
        before = sorted((h for h in earlier if h is not g and id(h) not in placed
                         and h[0].channel == g[0].channel and _model_of(h) == _model_of(g)
                         and made(h) < made(g)), key=made)
        if any(id(h) not in queued for h in before):
            held.append(g)  # (an older one waits its pace: this one waits with it)
            continue
        for h in [*before, g]:
            out.append(h)
            placed.add(id(h))
    return out, held


def _last_tried(group: list[Delivery]) -> tuple[datetime, datetime]:
    """When a message was last tried, then made (``created_at`` where never updated)."""
    made = min(d.created_at for d in group)
    return max((d.updated_at or made) for d in group), made
