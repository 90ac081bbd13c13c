"""The outbox on chDB: a message's key always names the same members, whatever happens,
and a channel gets an alert before its resolution."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from driftscope.alerts.notifiers import SlackNotifier
from driftscope.alerts.notifiers.http import Rejected
from driftscope.alerts.outbox import Dispatcher, Outbox
from driftscope.errors import NotifierError
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store


class Receiver:
    """A webhook receiver that honours idempotency keys; fails while ``down``, and always
    for the alerts in ``refuse`` (alert id → the error it raises)."""

    name = "webhook"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.applied: dict[str, dict[str, Any]] = {}
        self.down = False
        self.refuse: dict[str, Exception] = {}

    def send(self, payload: Mapping[str, Any], key: str) -> None:
        self.calls.append((key, dict(payload)))
        if self.down:
            raise NotifierError("webhook answered HTTP 503")
        if payload.get("alert_id") in self.refuse:
            raise self.refuse[str(payload["alert_id"])]
        self.applied.setdefault(key, dict(payload))


class Crash(Exception):
    pass


def enqueue(box: Outbox, name: str, group: str = "m\x1fw1\x1fw2\x1ffiring") -> None:
    box.enqueue(f"{name}:firing:webhook", name, "firing", "webhook",
                {"type": "alert", "alert_id": name, "model_id": "m"}, group_key=group)


def ids(payload: dict[str, Any]) -> list[str]:
    return sorted(a["alert_id"] for a in payload.get("alerts", [payload]))


def test_a_crash_between_send_and_record_resends_the_same_members_under_the_same_key(
    store: Store,
) -> None:
    store.migrate()
    box, rx = Outbox(store), Receiver()

    def crash(key: str) -> None:
        raise Crash(key)

    enqueue(box, "a")
    enqueue(box, "b")
    with pytest.raises(Crash):
        Dispatcher(box, {"webhook": rx}, after_send=crash).run()
    enqueue(box, "c")  # another monitor's alert for the same window, after the crash
    counts = Dispatcher(box, {"webhook": rx}).run()
    assert counts["sent"] == 3
    keys = [k for k, _ in rx.calls]
    assert keys[0] == keys[1] and keys[0].startswith("group:")  # same message, same key
    assert ids(rx.calls[1][1]) == ["a", "b"] and ids(rx.calls[2][1]) == ["c"]
    assert sorted(ids(p) for p in rx.applied.values()) == [["a", "b"], ["c"]]  # once each
    assert Dispatcher(box, {"webhook": rx}).run()["sent"] == 0


def test_a_failed_message_is_retried_alone_after_new_ones_and_paced(store: Store) -> None:
    store.migrate()
    box, rx = Outbox(store), Receiver()
    enqueue(box, "d")
    rx.down = True
    assert Dispatcher(box, {"webhook": rx}, retries=2, sleep=lambda s: None).run() == {
        "sent": 0, "failed": 1, "skipped": 0, "held": 0}
    assert len(rx.calls) == 3
    rx.down = False
    enqueue(box, "e")  # same group key as d, but d's members were fixed when first tried
    paced = Dispatcher(box, {"webhook": rx}, backoff_max=3600).run(
        include_failed=True, pace_failed=True)
    assert paced["sent"] == 1 and ids(rx.calls[-1][1]) == ["e"]  # d is not due yet
    counts = Dispatcher(box, {"webhook": rx}).run(include_failed=True)
    assert counts["sent"] == 1 and rx.calls[-1][0] == "d:firing:webhook"
    rows = dict(store.query(f"SELECT {S.ALERT_OUTBOX.alert_id}, {S.ALERT_OUTBOX.attempts} "
                            f"FROM {S.ALERT_OUTBOX} FINAL"))
    assert rows == {"d": 4, "e": 1}  # each row its own attempts


def test_after_an_outage_messages_go_out_oldest_first(store: Store) -> None:
    """Found operating the service: alert a's resolution failed while the receiver was
    down, then alert b opened; once the receiver answered, b's alert went out first and
    a's "Resolved" last, so the channel's last word on the model was "Resolved" while b
    fired."""
    store.migrate()
    box, rx = Outbox(store), Receiver()
    box.enqueue("a:resolved:webhook", "a", "resolved", "webhook",
                {"type": "resolved", "alert_id": "a", "model_id": "m"})
    rx.down = True
    Dispatcher(box, {"webhook": rx}, retries=0, sleep=lambda s: None).run()
    rx.down = False
    enqueue(box, "b")
    counts = Dispatcher(box, {"webhook": rx}).run(include_failed=True)
    assert counts["sent"] == 2
    assert [k for k, _ in rx.calls[-2:]] == ["a:resolved:webhook", rx.calls[-1][0]]
    assert ids(rx.calls[-1][1]) == ["b"]


def test_a_dead_receiver_gets_one_failed_retry_a_run_and_holds_up_no_other_channel(
    store: Store,
) -> None:
    store.migrate()
    box, hook, other = Outbox(store), Receiver(), Receiver()
    for name in ("x1", "x2"):
        box.enqueue(f"{name}:firing:webhook", name, "firing", "webhook",
                    {"type": "alert", "alert_id": name, "model_id": "m"})
    hook.down = True
    Dispatcher(box, {"webhook": hook}, retries=0, sleep=lambda s: None).run()
    assert len(hook.calls) == 2
    box.enqueue("y:firing:other", "y", "firing", "other",
                {"type": "alert", "alert_id": "y", "model_id": "n"})
    counts = Dispatcher(box, {"webhook": hook, "other": other}, retries=0,
                        sleep=lambda s: None).run(include_failed=True)
    assert counts == {"sent": 1, "failed": 1, "skipped": 0, "held": 1}
    assert len(hook.calls) == 3 and [k for k, _ in other.calls] == ["y:firing:other"]


def test_a_message_the_receiver_keeps_refusing_does_not_starve_the_others(
    store: Store,
) -> None:
    """Found in review: the one failed retry a run went to the oldest message every run;
    one the receiver refuses for its own content held the channel's others for ever."""
    store.migrate()
    box, rx = Outbox(store), Receiver()
    for name in ("p", "a", "b"):
        box.enqueue(f"{name}:firing:webhook", name, "firing", "webhook",
                    {"type": "alert", "alert_id": name, "model_id": "m"})
    rx.down = True
    Dispatcher(box, {"webhook": rx}, retries=0, sleep=lambda s: None).run()
    rx.down = False
    rx.refuse = {"p": NotifierError("webhook answered HTTP 503")}
    for _ in range(3):
        Dispatcher(box, {"webhook": rx}, retries=0, sleep=lambda s: None).run(
            include_failed=True)
    assert sorted(k for k in rx.applied) == ["a:firing:webhook", "b:firing:webhook"]


def test_a_failed_row_from_before_send_keys_is_retried_under_its_delivery_id(
    store: Store,
) -> None:
    store.migrate()
    box, rx = Outbox(store), Receiver()
    enqueue(box, "old", group="")
    box.mark(box.pending(), "failed", [6], "HTTP 500", key="")  # as rows before 203 were
    assert Dispatcher(box, {"webhook": rx}).run(include_failed=True)["sent"] == 1
    assert [k for k, _ in rx.calls] == ["old:firing:webhook"]


def test_a_resolution_never_reaches_slack_before_its_alert(store: Store, slack: Any) -> None:
    box = Outbox(store)
    dispatcher = Dispatcher(box, {"slack": SlackNotifier(SecretStr(slack.url), 2)}, retries=0)

    def enqueue_slack(alert: str, event: str, group: str) -> None:
        text = {"type": "mrkdwn", "text": f"{event} {alert}"}
        box.enqueue(f"{alert}:{event}:slack", alert, event, "slack",
                    {"text": f"{event} {alert}", "blocks": [{"type": "section", "text": text}]},
                    group_key=group)

    slack.mode = "down"
    enqueue_slack("a", "firing", "w1")
    assert dispatcher.run()["failed"] == 1
    slack.mode = "ok"
    enqueue_slack("b", "firing", "w2")
    enqueue_slack("a", "resolved", "w3")  # both recover in one window
    enqueue_slack("b", "resolved", "w3")
    assert dispatcher.run() == {"sent": 2, "failed": 0, "skipped": 0, "held": 1}
    assert [m["text"] for m in slack.accepted] == ["firing b", "resolved b"]
    assert dispatcher.run(include_failed=True)["sent"] == 2  # a's alert first, then the rest
    assert [m["text"] for m in slack.accepted][2:] == ["firing a", "resolved a"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _resolution_then_relapse(store: Store) -> tuple[Outbox, Clock]:
    """Alert a's resolution fails in an outage; alert b of the same model opens 10 minutes
    later and fails too; a's resolution is tried again after b (the least recently tried
    is b's)."""
    store.migrate()
    clock = Clock()
    box = Outbox(store, clock)
    box.enqueue("a:resolved:webhook", "a", "resolved", "webhook",
                {"type": "resolved", "alert_id": "a", "model_id": "m"},
                group_key="m\x1fw1\x1fw2\x1fresolved")
    box.mark(box.pending(), "failed", [1], "webhook answered HTTP 503")
    clock.now += timedelta(minutes=10)
    enqueue(box, "b", group="m\x1fw3\x1fw4\x1ffiring")
    b = [d for d in box.pending() if d.alert_id == "b"]
    box.mark(b, "failed", [1], "webhook answered HTTP 503")
    clock.now += timedelta(minutes=1)
    a = [d for d in box.pending(include_failed=True) if d.alert_id == "a"]
    box.mark(a, "failed", [2], "webhook answered HTTP 503")
    clock.now += timedelta(minutes=1)
    return box, clock


def test_after_an_outage_a_resolution_goes_before_the_next_alert_of_its_model(
    store: Store,
) -> None:
    """Found in review: b's alert, tried less recently, went out first and a's "Resolved"
    after it: the channel's last word on the model read "Resolved" while b fired."""
    box, _ = _resolution_then_relapse(store)
    rx = Receiver()
    counts = Dispatcher(box, {"webhook": rx}, retries=0).run(include_failed=True)
    assert counts["sent"] == 2
    assert [k for k, _ in rx.calls] == ["a:resolved:webhook", "b:firing:webhook"]


def test_a_relapse_waits_for_its_models_resolution_that_waits_its_pace(store: Store) -> None:
    box, clock = _resolution_then_relapse(store)
    rx = Receiver()
    dispatcher = Dispatcher(box, {"webhook": rx}, retries=0, backoff_max=90)
    counts = dispatcher.run(include_failed=True, pace_failed=True)  # a tried a minute ago
    assert counts == {"sent": 0, "failed": 0, "skipped": 0, "held": 1} and rx.calls == []
    clock.now += timedelta(seconds=31)
    assert dispatcher.run(include_failed=True, pace_failed=True)["sent"] == 2
    assert [k for k, _ in rx.calls] == ["a:resolved:webhook", "b:firing:webhook"]


def test_a_resolution_the_receiver_refuses_holds_no_alert_back(store: Store) -> None:
    box, _ = _resolution_then_relapse(store)
    rx = Receiver()
    rx.refuse = {"a": Rejected("webhook answered HTTP 400: invalid payload")}
    counts = Dispatcher(box, {"webhook": rx}, retries=0).run(include_failed=True)
    assert counts["failed"] == 1 and counts["sent"] == 1
    assert [k for k, _ in rx.calls] == ["a:resolved:webhook", "b:firing:webhook"]
    assert list(rx.applied) == ["b:firing:webhook"]


def test_a_resolution_whose_alert_message_failed_too_goes_with_it_before_the_next(
    store: Store,
) -> None:
    """The review of the change: alert a's message and its resolution both failed in the
    outage; the resolution, moved before b's alert, waited for a's message, and went out
    after b's alert all the same."""
    store.migrate()
    clock = Clock()
    box = Outbox(store, clock)
    enqueue(box, "a", group="m\x1fw1\x1fw2\x1ffiring")
    box.mark(box.pending(), "failed", [1], "webhook answered HTTP 503")
    clock.now += timedelta(minutes=5)
    box.enqueue("a:resolved:webhook", "a", "resolved", "webhook",
                {"type": "resolved", "alert_id": "a", "model_id": "m"},
                group_key="m\x1fw3\x1fw4\x1fresolved")
    box.mark([d for d in box.pending() if d.kind == "resolved"], "failed", [1],
             "webhook answered HTTP 503")
    clock.now += timedelta(minutes=1)  # a's alert message tried again since
    box.mark([d for d in box.pending(include_failed=True) if d.kind == "firing"], "failed",
             [2], "webhook answered HTTP 503")
    clock.now += timedelta(minutes=5)
    enqueue(box, "b", group="m\x1fw5\x1fw6\x1ffiring")
    clock.now += timedelta(minutes=1)
    rx = Receiver()
    assert Dispatcher(box, {"webhook": rx}, retries=0).run(include_failed=True)["sent"] == 3
    assert [k for k, _ in rx.calls] == ["a:firing:webhook", "a:resolved:webhook",
                                        "b:firing:webhook"]
