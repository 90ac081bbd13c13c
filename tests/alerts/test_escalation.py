"""A new kind of problem during an open alert is told, once: the accuracy falls while a
drift alert is open (before: the alert was updated in silence, and nobody learned that the
drift now costs accuracy until they looked)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from driftscope.alerts.config import AlertsConfig
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.notifiers import SlackNotifier, WebhookNotifier
from driftscope.alerts.outbox import Dispatcher, Outbox
from driftscope.alerts.rules import Policy, Track, acknowledge, step
from driftscope.alerts.state import AlertStore
from driftscope.monitor.results import mark_processed
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(hours=1)
O = S.ALERT_OUTBOX  # noqa: E741

DRIFT = Finding("drift", "*", "age", "emd", 0.3, 0.1, "reference-quantile", "fdr")
ACCURACY = Finding("performance", "*", "*", "accuracy", 0.61, 0.8, "rule < 0.8", "rule")
MISSING = Finding("quality", "*", "income", "missing_rate", 0.4, 0.05, "limit", "limit")


def window(i: int, *found: Finding) -> WindowVerdict:
    return WindowVerdict("churn", "mon", T0 + i * W, T0 + (i + 1) * W, 1000, found,
                         persistence_z=1.0 if found else None)


def _run(verdicts: list[WindowVerdict], silenced_at: frozenset[int] = frozenset(),
         ack_at: int | None = None) -> list[str]:
    """Each window's action (``!``: people are told), through the pure rules."""
    track, out = Track(), []
    for i, v in enumerate(verdicts):
        if ack_at == i and track.alert is not None:
            track = replace(track, alert=acknowledge(track.alert))
        d = step(track, v, Policy(), silenced=i in silenced_at)
        out.append(d.action + ("!" if d.notify else "") + (f" ({d.reason})" if
                                                           d.action == "escalate" else ""))
        track = d.track
    return out


def test_the_rule_tells_a_performance_problem_joining_an_alert_once() -> None:
    drift, both = (DRIFT,), (DRIFT, ACCURACY)
    assert _run([window(0, *drift), window(1, *drift), window(2, *both), window(3, *both),
                 window(4, DRIFT, ACCURACY, MISSING), window(5, *drift), window(6, *both)]) == [
        "pending", "open!", "escalate! (new: performance)", "update", "update", "update",
        "update"]
    # data quality or drift joining an alert is mostly the same cause: no update; a
    # performance problem after them is told with the kinds not told yet
    assert _run([window(0, *drift), window(1, *drift), window(2, DRIFT, MISSING),
                 window(3, DRIFT, MISSING, ACCURACY)]) == [
        "pending", "open!", "update", "escalate! (new: performance, quality)"]
    assert _run([window(0, MISSING), window(1, MISSING), window(2, MISSING, ACCURACY)]) == [
        "pending", "open!", "escalate! (new: performance)"]
    # acknowledged: a person knows of the drift, not of the accuracy
    assert _run([window(0, *drift), window(1, *drift), window(2, *both)], ack_at=2) == [
        "pending", "open!", "escalate! (new: performance)"]
    # silenced: nothing is told; the first bad window after the silence tells it
    assert _run([window(0, *drift), window(1, *drift), window(2, *both), window(3, *both)],
                silenced_at=frozenset({2})) == [
        "pending", "open!", "update", "escalate! (new: performance)"]
    # an alert not announced yet (cooldown, silence) is paged late with every kind at once
    assert _run([window(0, *drift), window(1, *both), window(2, *both), window(3, *both)],
                silenced_at=frozenset({1})) == ["pending", "open", "update!", "update"]


def test_the_update_reaches_slack_and_webhooks_after_the_alert_and_survives_a_restart(
    store: Store, slack: Any, webhook: Any
) -> None:
    cfg = AlertsConfig.model_validate({"console": False, "slack": True, "webhook": True})
    channels: dict[str, Any] = {"slack": SlackNotifier(SecretStr(slack.url), 2),
                                "webhook": WebhookNotifier(SecretStr(webhook.url), 2)}
    dispatcher = Dispatcher(Outbox(store), channels, retries=1, sleep=lambda s: None)

    def one_pass(v: WindowVerdict) -> str:  # each monitor pass has an engine of its own
        d = AlertEngine(store, cfg).process(v)
        mark_processed(store, [v], "fp", T0)
        dispatcher.run()
        return d.action

    many = tuple(Finding("drift", "*", f"f{i}", "emd", 0.5, 0.1, "reference-quantile", "fdr")
                 for i in range(12))  # more drifted features than a message lists
    actions = [one_pass(window(0, DRIFT)), one_pass(window(1, DRIFT)),
               one_pass(window(2, *many, ACCURACY)), one_pass(window(3, DRIFT, ACCURACY))]
    assert actions == ["pending", "open", "escalate", "update"]
    titles = [m["blocks"][0]["text"]["text"] for m in slack.accepted]
    assert titles == ["Drift alert: churn", "New performance problem: churn"]
    update = slack.accepted[1]
    section = update["blocks"][1]["text"]["text"]
    assert ("12 features drifted (f0, f1, f10, +9), 1 performance check failed (accuracy)"
            in section)
    assert "(new in this alert: performance; it was open for drift)" in section
    # the new problem leads the findings, however many drifted features come before it
    assert update["blocks"][2]["text"]["text"].splitlines()[1].startswith("• accuracy")
    assert update["text"].startswith("New performance problem: churn — ")
    events = [(b["event"], b.get("new_kinds")) for b in webhook.accepted]
    assert events == [("firing", None), ("escalated", ["performance"])]
    assert webhook.accepted[0]["alert_id"] == webhook.accepted[1]["alert_id"]
    # after a restart (a new engine: its track rebuilt from the store) the kinds told are
    # remembered: performance again is no news
    assert one_pass(window(4, DRIFT)) == "update"
    assert one_pass(window(5, DRIFT, ACCURACY)) == "update"
    assert [b["event"] for b in webhook.accepted] == ["firing", "escalated"]
    assert len(slack.accepted) == 2


def test_an_update_lost_in_a_crash_is_enqueued_again_once(store: Store) -> None:
    """A crash between the alert's save and its messages: the redone window enqueues the
    update again (the outbox keeps one row per delivery id)."""
    cfg = AlertsConfig.model_validate({"console": True})
    for i in (0, 1):
        AlertEngine(store, cfg).process(window(i, DRIFT))
        mark_processed(store, [window(i, DRIFT)], "fp", T0)
    e = AlertEngine(store, cfg)
    d = e.process(window(2, DRIFT, ACCURACY))
    assert d.action == "escalate"
    # the crash: the window was not recorded, and its outbox row was lost
    store.command(f"DELETE FROM {O} WHERE {O.kind} = 'escalated'")
    redone = AlertEngine(store, cfg).process(window(2, DRIFT, ACCURACY))
    assert redone.action == "recount"
    kinds = store.query(f"SELECT {O.kind}, count() FROM {O} GROUP BY {O.kind} ORDER BY 1")
    assert kinds == [("escalated", 1), ("firing", 1)]
    again = AlertEngine(store, cfg).process(window(2, DRIFT, ACCURACY))  # and again
    assert again.action == "recount"
    assert store.count(O, f"{O.kind} = 'escalated'") == 1
    found = AlertStore(store).get(d.alert.alert_id)  # type: ignore[union-attr]
    assert found is not None and found[0].kinds == {"drift", "performance"}


SILENT = Finding("quality", "*", "*", "volume", 0.0, 0.0, "quality.silence", "silence")


def test_the_stream_stopping_during_an_open_alert_is_told_once() -> None:
    """Found live: an app that died while a drift alert was open was told of by no one
    (the alert's summary changed in silence to "no events for 14 windows")."""
    drift = (DRIFT,)
    assert _run([window(0, *drift), window(1, *drift), window(2, SILENT), window(3, SILENT),
                 window(4, *drift), window(5, SILENT)]) == [
        "pending", "open!", "escalate! (new: silence)", "update", "update", "update"]
    # an alert opened for the silence: drift after it is not news
    assert _run([window(0, SILENT), window(1, SILENT), window(2, *drift)]) == [
        "pending", "open!", "update"]


def test_a_silence_update_says_so_first() -> None:
    from driftscope.alerts import messages
    from driftscope.alerts.rules import Alert

    alert = Alert("a1", "churn", "mon", T0, T0 + 2 * W, "firing", 1.0, 3, True, "new",
                  T0 + 3 * W, frozenset({"drift", "silence"}), frozenset({"silence"}))
    v = window(2, DRIFT, SILENT)
    assert messages.update_title(frozenset({"silence"})) == "New silent-stream problem"
    assert v.top(2, frozenset({"silence"}))[0] is SILENT
    text = messages.console_text(alert, v, 5, False, frozenset({"silence"}))
    assert text["text"].startswith("[UPDATE] churn / mon")
    assert text["text"].endswith("(new in this alert: silent-stream; it was open for drift)")
    assert text["lines"][0] == "volume (volume 0: no events, the stream is silent)"


def test_an_alert_opened_by_the_silence_says_so_in_its_title() -> None:
    from driftscope.alerts.messages import alert_kind

    assert alert_kind(window(0, SILENT)) == "Silent-stream alert"  # not "Data-quality"
    assert alert_kind(window(0, MISSING, SILENT)) == "Data-quality and silent-stream alert"


def test_an_updates_webhook_body_and_stored_details_lead_with_the_new_problem(
    store: Store,
) -> None:
    """Twelve drifted features, each worse than the accuracy is: the update that tells of
    the accuracy lists it first in the webhook's findings and in the alert's stored details,
    as Slack and the console do (before: the five worst, all drift, the news left out)."""
    cfg = AlertsConfig.model_validate({"console": False, "webhook": True, "top_features": 5})
    many = tuple(Finding("drift", "*", f"f{i}", "emd", 0.5, 0.1, "reference-quantile", "fdr")
                 for i in range(12))
    e = AlertEngine(store, cfg)
    for i in (0, 1):
        e.process(window(i, DRIFT))
    d = e.process(window(2, *many, ACCURACY))
    assert d.action == "escalate" and d.alert is not None
    body = json.loads(store.query(f"SELECT {O.payload} FROM {O} FINAL WHERE {O.kind} = "
                                  "'escalated'")[0][0])
    found = AlertStore(store).get(d.alert.alert_id)
    assert found is not None
    for findings in (body["findings"], found[2]["findings"]):
        assert [f["metric"] for f in findings] == ["accuracy", "emd", "emd", "emd", "emd"]
