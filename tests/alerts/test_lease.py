"""Two dispatchers on one outbox: a lease lets one send at a time, so each message goes
out once; a crashed holder's lease lapses and never blocks the next dispatcher."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from http_recorder import Recorder, _Handler, serving
from pydantic import SecretStr

from driftscope.alerts.lease import Holder, Lease, _process_space
from driftscope.alerts.notifiers import SlackNotifier, WebhookNotifier
from driftscope.alerts.outbox import Dispatcher, Outbox
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

O = S.ALERT_OUTBOX  # noqa: E741


class _SlowHandler(_Handler):
    """Answers each POST after ``server.delay`` seconds, as a slow Slack does."""

    def do_POST(self) -> None:
        time.sleep(getattr(self.server, "delay", 0.0))
        super().do_POST()


def slow_server(delay: float) -> Iterator[Recorder]:
    server = Recorder()
    server.RequestHandlerClass = _SlowHandler
    server.delay = delay  # type: ignore[attr-defined]
    yield from serving(server)


@pytest.fixture
def slow_slack() -> Iterator[Recorder]:
    yield from slow_server(0.25)


@pytest.fixture
def slow_webhook() -> Iterator[Recorder]:
    yield from slow_server(0.25)


def enqueue(box: Outbox, n: int) -> None:
    """``n`` alerts, each to Slack and to the webhook, each a message of its own."""
    for i in range(n):
        box.enqueue(f"a{i}:firing:slack", f"a{i}", "firing", "slack",
                    {"text": f"alert {i}", "blocks": []}, group_key=f"w{i}")
        box.enqueue(f"a{i}:firing:webhook", f"a{i}", "firing", "webhook",
                    {"type": "alert", "alert_id": f"a{i}"}, group_key=f"w{i}")


def outbox_rows(store: Store) -> dict[str, str]:
    return dict(store.query(f"SELECT {O.delivery_id}, {O.status} FROM {O} FINAL"))


def test_two_dispatchers_at_once_send_each_message_exactly_once(
    store: Store, slow_slack: Recorder, slow_webhook: Recorder
) -> None:
    enqueue(Outbox(store), 4)

    def dispatcher() -> Dispatcher:  # as another process would: its own store client
        box = Outbox(Store(store.dsn, database=store.database))
        return Dispatcher(box, {"slack": SlackNotifier(SecretStr(slow_slack.url), 5),
                                "webhook": WebhookNotifier(SecretStr(slow_webhook.url), 5)},
                          retries=0)

    start, errors = threading.Barrier(2), []

    def keep_running(d: Dispatcher) -> None:  # as `alerts run --follow` beside the monitor
        try:
            start.wait()
            for _ in range(100):
                d.run()
                if not d.outbox.pending():
                    return
                time.sleep(0.02)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=keep_running, args=(dispatcher(),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(m["text"] for m in slow_slack.accepted) == [f"alert {i}" for i in range(4)]
    assert sorted(b["alert_id"] for b in slow_webhook.accepted) == [f"a{i}" for i in range(4)]
    assert len(slow_slack.posts) == len(slow_webhook.posts) == 4  # no second attempt either
    assert set(outbox_rows(store).values()) == {"sent"} and len(outbox_rows(store)) == 8


class Receiver:
    """A channel that records what it is sent; ``on_send`` runs inside each send."""

    name = "webhook"

    def __init__(self, on_send: Any = None) -> None:
        self.keys: list[str] = []
        self.on_send = on_send

    def send(self, payload: Mapping[str, Any], key: str) -> None:
        self.keys.append(key)
        if self.on_send is not None:
            self.on_send()


def enqueue_hooks(box: Outbox, n: int) -> None:
    for i in range(n):
        box.enqueue(f"a{i}:firing:webhook", f"a{i}", "firing", "webhook",
                    {"type": "alert", "alert_id": f"a{i}"})


def lease_rows(store: Store) -> int:
    return store.count(f"{O} FINAL", f"{O.kind} = 'lease'")


def test_a_dispatcher_skips_its_run_while_another_holds_the_lease(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    enqueue_hooks(Outbox(store), 2)
    other = Lease(store)  # another dispatcher, in the middle of its run
    assert other.acquire() and lease_rows(store) == 1
    rx = Receiver()
    d = Dispatcher(Outbox(store), {"webhook": rx})
    with caplog.at_level(logging.INFO, logger="driftscope.alerts"):
        started = time.monotonic()
        counts = d.run()
    assert time.monotonic() - started < 5  # skipped, not blocked
    assert counts == {"sent": 0, "failed": 0, "skipped": 0, "held": 2} and rx.keys == []
    assert "another dispatcher is sending the outbox: 2 row(s) left to it" in caplog.text
    other.release()
    assert d.run()["sent"] == 2 and sorted(rx.keys) == ["a0:firing:webhook", "a1:firing:webhook"]
    assert lease_rows(store) == 0  # released when done: no lease rows between runs


def test_the_expired_lease_of_a_crashed_dispatcher_does_not_block_the_next(store: Store) -> None:
    enqueue_hooks(Outbox(store), 1)
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    crashed = Lease(store, timedelta(minutes=3), clock=lambda: long_ago)
    assert crashed.acquire()  # … and never released: the process died while sending
    rx = Receiver()
    assert Dispatcher(Outbox(store), {"webhook": rx}).run()["sent"] == 1
    assert rx.keys == ["a0:firing:webhook"] and lease_rows(store) == 0  # and swept


def test_the_live_lease_of_a_process_gone_from_this_machine_is_taken_at_once(
    store: Store,
) -> None:
    if not _process_space():
        pytest.skip("no /proc: a dead holder is known only when its lease expires")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    holder = Holder("killed", _process_space(), int(gone.stdout))
    assert Lease(store, holder=holder).acquire()  # live for minutes, but its process is gone
    enqueue_hooks(Outbox(store), 1)
    rx = Receiver()
    assert Dispatcher(Outbox(store), {"webhook": rx}).run()["sent"] == 1
    assert lease_rows(store) == 0
    other_machine = Holder("elsewhere", "another-boot/pid:[1]", int(gone.stdout))
    assert Lease(store, holder=other_machine).acquire()  # its pid means nothing here
    enqueue_hooks(Outbox(store), 2)
    assert Dispatcher(Outbox(store), {"webhook": rx}).run()["held"] == 1


def test_two_claims_at_once_leave_one_holder_whichever_reads_first(store: Store) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for first_reader in ("early", "late"):
        early = Lease(store, pause=lambda s: None, holder=Holder("early"))
        late = Lease(store, pause=lambda s: None, holder=Holder("late"))
        claims = {"early": early._write(now, now),  # both claimed before either read back
                  "late": late._write(now + timedelta(milliseconds=1), now)}
        leases = {"early": early, "late": late}
        second_reader = "late" if first_reader == "early" else "early"
        won = {name: leases[name]._settle(claims[name]) for name in (first_reader,
                                                                     second_reader)}
        assert sum(won.values()) == 1, (first_reader, won)
        # the later claim gives way at once; the first one gives way only when the
        # other, reading second, could no longer see it
        assert won == ({"early": False, "late": True} if first_reader == "early"
                       else {"late": False, "early": True})
        for lease in leases.values():
            lease.release()


def test_claims_racing_in_threads_never_give_two_holders(store: Store) -> None:
    def claim(lease: Lease, start: threading.Barrier, won: list[bool]) -> None:
        start.wait()
        won.append(lease.acquire())

    for _ in range(6):
        leases = [Lease(Store(store.dsn, database=store.database)) for _ in range(3)]
        start = threading.Barrier(len(leases))
        won: list[bool] = []
        threads = [threading.Thread(target=claim, args=(lease, start, won))
                   for lease in leases]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sum(won) <= 1
        for lease in leases:
            lease.release()
    assert lease_rows(store) == 0


def test_a_dispatcher_that_stalls_past_its_lease_stops_sending(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    enqueue_hooks(Outbox(store), 3)
    t = [datetime.now(UTC)]

    def stall() -> None:  # the first send takes longer than half the lease
        t[0] += timedelta(minutes=2)

    rx = Receiver(on_send=stall)
    lease = Lease(store, timedelta(minutes=3), clock=lambda: t[0])
    d = Dispatcher(Outbox(store), {"webhook": rx}, lease=lease)
    with caplog.at_level(logging.WARNING):
        counts = d.run()
    assert counts["sent"] == 1 and len(rx.keys) == 1  # sent, recorded, then stopped
    assert "lapsed" in caplog.text and lease_rows(store) == 0
    rx.on_send = None
    assert Dispatcher(Outbox(store), {"webhook": rx}).run()["sent"] == 2
    assert len(set(rx.keys)) == len(rx.keys) == 3
