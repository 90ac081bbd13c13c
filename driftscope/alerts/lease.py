"""The outbox lease: one dispatcher sends at a time per store, and a crash never blocks.

Why: ``driftscope alerts run --follow``, ``driftscope monitor`` and ``driftscope backfill
--notify`` each run a :class:`~driftscope.alerts.outbox.Dispatcher`. Two at once would read
the same pending rows and both send them (Slack ignores idempotency keys: people see the
message twice).

The store is ClickHouse: no row locks, no compare-and-set, and a ReplacingMergeTree keeps
the *last* write of a key, so one shared "lock" row would let two writers both believe they
won. The lease is a set of **claims** instead, each a row only its claimant writes: rows of
``alert_outbox`` with kind ``lease`` (status ``claimed``, never sent as a message), keyed
``lease:{name}:{holder}``. To take the lease a dispatcher

1. reads the claims: another one is live → it skips this run, writing nothing;
2. writes its own claim;
3. reads again: no other live claim → the lease is its own. Otherwise two claimed at once:
   the claim made first (earlier ``claimed_at``, then the lower holder id) waits a moment
   for the others to withdraw; the rest withdraw at once and skip their run.

Safe without trusting a clock: a dispatcher takes the lease only on a read, made after its
own claim was written, that shows no other live claim. Had A and B both taken it, A read
before B wrote (else A had seen B's claim) and B read before A wrote: A writes, A reads,
B writes, B reads, A writes — a cycle, impossible. The order of step 3 decides only who
gives way when each sees the other. "The earliest claim wins" alone would not be safe: a
claim stamped first can become visible after the other's read, and then both would win.
Both may give way at once; they try again on their next run.

A claim is live until ``expires_at`` (written + ``ttl``). The holder renews it as it sends
(:meth:`Lease.renew`, before each attempt and each backoff wait) and gives it up as lost once
half the ``ttl`` has passed since its last write (it stalled: another dispatcher may take
over from ``expires_at`` on). So a renewal is visible long before anyone counts the claim
expired. A crashed holder's claim lapses after ``ttl``; a claim made on this machine (same
boot and pid namespace) by a process that is gone is dead at once. The holder deletes dead
claims and, when done, its own: between runs the outbox has no lease rows.

Assumes what the outbox already does: a read sees every insert that finished before it
(one ClickHouse server, synchronous inserts, the defaults), and clocks that agree to well
within ``ttl / 2``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from driftscope.durations import as_utc
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

O = S.ALERT_OUTBOX  # noqa: E741
KIND = "lease"
_SETTLE_POLLS = 5  # the first of two claims at once waits this many times …
_SETTLE_PAUSE = 0.05  # … this long for the other to withdraw, then gives way too
log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _process_space() -> str:
    """Where pids mean the same process: this boot and pid namespace ("" off Linux)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        return f"{boot}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return ""


def _running(pid: int) -> bool:
    """Whether a process of this pid exists here (one that exists but is not ours: yes)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists
        return True
    return True


@dataclass(frozen=True)
class Holder:
    """Who claims: an id no other claimant has, and where its process runs."""

    id: str
    space: str = ""
    pid: int = 0

    @classmethod
    def here(cls) -> Holder:
        """A new holder in this process (each :class:`Lease` is a claimant of its own)."""
        pid = os.getpid()
        return cls(f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:12]}",
                   _process_space(), pid)

    def gone(self) -> bool:
        """Provably dead: its process ran on this machine and is not running now."""
        return (bool(self.space) and self.space == _process_space() and self.pid > 0
                and self.pid != os.getpid() and not _running(self.pid))


@dataclass(frozen=True)
class Claim:
    """One claimant's row."""

    key: str
    holder: Holder
    claimed_at: datetime
    expires_at: datetime
    version: int

    def rank(self) -> tuple[datetime, str]:
        """Who claimed first: the one all claimants agree gives way last."""
        return self.claimed_at, self.holder.id


class LeaseLost(Exception):
    """The holder stalled past its lease: it must stop sending (another may hold it)."""


class Lease:
    """A claim on the outbox of one store (see the module docstring for the protocol).

    Parameters
    ----------
    store : Store
    ttl : timedelta
        How long a claim lives without renewal: a crashed holder blocks the others at most
        this long. More than twice the longest gap between :meth:`renew` calls (one send
        or one backoff wait).
    name : str
        What is leased; dispatchers of one name exclude each other.
    holder, clock, pause
        Injected for tests: who claims, the time, how to wait.
    """

    def __init__(self, store: Store, ttl: timedelta = timedelta(minutes=3), *,
                 name: str = "dispatcher", holder: Holder | None = None,
                 clock: Callable[[], datetime] = _now,
                 pause: Callable[[float], None] = time.sleep) -> None:
        self.store = store
        self.ttl = ttl
        self.name = name
        self.holder = holder or Holder.here()
        self.clock = clock
        self.pause = pause
        self.key = f"lease:{name}:{self.holder.id}"
        self._claim: Claim | None = None
        self._written = datetime.min.replace(tzinfo=UTC)
        self._dead: list[Claim] = []

    def acquire(self) -> bool:
        """Take the lease; False, at once, where another dispatcher holds or takes it."""
        if self._live_others():
            log.debug("outbox lease %s is held by another dispatcher", self.name)
            return False
        now = self.clock()
        return self._settle(self._write(now.replace(microsecond=now.microsecond // 1000 * 1000),
                                        now))

    def _settle(self, mine: Claim) -> bool:
        """Step 3: the lease is ours on a read that shows no other live claim; where another
        claimed at the same time, the later claim withdraws at once, the first after a
        moment (the other may hold the lease: it saw no claim of ours)."""
        for poll in range(_SETTLE_POLLS + 1):
            others = self._live_others()
            if not others:
                self._sweep()
                return True
            if poll == _SETTLE_POLLS or min(c.rank() for c in others) < mine.rank():
                break
            self.pause(_SETTLE_PAUSE)  # claimed first: the others are withdrawing
        self.release()
        log.debug("outbox lease %s is being taken by another dispatcher", self.name)
        return False

    def renew(self) -> None:
        """Keep the lease while sending (one write a second at most); raises
        :class:`LeaseLost` once half the ``ttl`` has passed since the last renewal (this
        holder stalled, and from ``expires_at`` on another may take over)."""
        claim, now = self._claim, self.clock()
        if claim is None or now >= self._written + self.ttl / 2:
            self._claim = None
            raise LeaseLost(f"outbox lease {self.name} lapsed")
        if now - self._written >= timedelta(seconds=1):
            self._write(claim.claimed_at, now)

    def release(self) -> None:
        """Withdraw this holder's claim, so no one waits for it to lapse."""
        self._claim = None
        self.store.command(f"DELETE FROM {O} WHERE {O.delivery_id} = {{k:String}}",
                           {"k": self.key})

    # -- rows ------------------------------------------------------------------------
    def _write(self, claimed_at: datetime, now: datetime) -> Claim:
        expires = now + self.ttl
        version = max(time.time_ns(), self._claim.version + 1 if self._claim else 0)
        body = {"expires_at": expires.isoformat(), "pid": self.holder.pid,
                "space": self.holder.space}
        self.store.insert(O, [(self.key, self.holder.id, KIND, self.name,
                               json.dumps(body, sort_keys=True), "claimed", 0, "", claimed_at,
                               now, version, "", "")], O.columns)
        self._claim = Claim(self.key, self.holder, claimed_at, expires, version)
        self._written = now
        return self._claim

    def _claims(self) -> list[Claim]:
        rows = self.store.query(
            f"SELECT {O.delivery_id}, {O.alert_id}, {O.payload}, {O.created_at}, {O.version} "
            f"FROM {O} FINAL WHERE {O.kind} = {{k:String}} AND {O.channel} = {{n:String}}",
            {"k": KIND, "n": self.name})
        out = []
        for key, holder, payload, claimed_at, version in rows:
            body = json.loads(payload)
            out.append(Claim(key, Holder(holder, body.get("space", ""), int(body.get("pid", 0))),
                             as_utc(claimed_at), as_utc(datetime.fromisoformat(body["expires_at"])),
                             int(version)))
        return out

    def _live_others(self) -> list[Claim]:
        """Other claimants' live claims; the dead ones are kept for :meth:`_sweep`."""
        now = self.clock()
        others = [c for c in self._claims() if c.key != self.key]
        self._dead = [c for c in others if c.expires_at <= now or c.holder.gone()]
        return [c for c in others if c not in self._dead]

    def _sweep(self) -> None:
        """Delete the dead claims last seen, as they were seen (a later write survives)."""
        for c in self._dead:
            log.info("outbox lease %s: removing the lapsed claim of %s", self.name, c.holder.id)
            self.store.command(f"DELETE FROM {O} WHERE {O.delivery_id} = {{k:String}} AND "
                               f"{O.version} <= {{v:UInt64}}", {"k": c.key, "v": c.version})
        self._dead = []
