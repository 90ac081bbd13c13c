"""An open alert whose performance problem people were told of tells them when another
metric of the model joins it (the F1, the ROC AUC fall too) and when a metric told of
falls much further (:mod:`driftscope.alerts.followups`): before, an accuracy alert was
updated in silence while the F1 collapsed and the accuracy halved, and nobody learned it
until they looked. Not for every window: once per new metric, and again only when a
metric's severity reaches 1.5 times the one last told."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from driftscope.alerts.config import AlertsConfig
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.notifiers import SlackNotifier, WebhookNotifier
from driftscope.alerts.outbox import Dispatcher, Outbox
from driftscope.alerts.state import AlertStore
from driftscope.monitor.results import mark_processed
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(hours=1)
O = S.ALERT_OUTBOX  # noqa: E741
DRIFT = Finding("drift", "*", "age", "emd", 0.3, 0.1, "reference-quantile", "fdr")


def acc(x: float) -> Finding:  # below its predicted range (the band's lower bound)
    return Finding("performance", "*", "*", "accuracy", x, 0.85, "band", "band")


def f1(x: float, segment: str = "*") -> Finding:
    return Finding("performance", segment, "*", "f1", x, 0.7, "band", "band")


def auc(x: float) -> Finding:
    return Finding("performance", "*", "*", "roc_auc", x, 0.8, "band", "band")


def window(i: int, *found: Finding) -> WindowVerdict:
    return WindowVerdict("churn", "perf", T0 + i * W, T0 + (i + 1) * W, 1000, found,
                         {f.metric: f.statistic for f in found if f.segment == "*"})


def passes(store: Store, cfg: AlertsConfig, verdicts: list[WindowVerdict],
           silenced: frozenset[int] = frozenset(), acked: int | None = None) -> list[str]:
    """Each window in a monitor pass of its own (its engine rebuilt from the store, as
    after a restart); its action, ``!`` where people are told."""
    out = []
    for i, v in enumerate(verdicts):
        engine = AlertEngine(store, cfg)
        now = datetime.now(UTC)
        sid = engine.alerts.silence("churn", "perf", now + W, "planned", now) \
            if i in silenced else None
        if i == acked:
            alert = AlertStore(store).open_alerts()[0][0]
            AlertStore(store).acknowledge(alert.alert_id, "alice", T0)
        d = engine.process(v)
        mark_processed(store, [v], "fp", T0)
        if sid is not None:
            assert engine.alerts.end_silence(sid, datetime.now(UTC))
        out.append(d.action + ("!" if d.notify else ""))
    return out


def console(store: Store) -> list[dict[str, Any]]:
    rows = store.query(f"SELECT {O.payload} FROM {O} FINAL WHERE {O.channel} = 'console' "
                       f"ORDER BY {O.created_at}")
    return [json.loads(p) for p, in rows]


COLLAPSE = [window(0, acc(0.77)), window(1, acc(0.77)), window(2, acc(0.76)),
            window(3, acc(0.76), f1(0.31)),  # the F1 collapses too
            window(4, acc(0.76), f1(0.30)),
            window(5, acc(0.76), f1(0.30), auc(0.52)),  # and the ROC AUC
            window(6, acc(0.40), f1(0.30), auc(0.52)),  # the accuracy halves
            window(7, acc(0.45), f1(0.29), auc(0.50)),
            window(8, acc(0.77), f1(0.31))]


def test_a_metric_joining_an_open_performance_alert_and_a_collapse_are_told(
    store: Store, slack: Any, webhook: Any,
) -> None:
    cfg = AlertsConfig.model_validate({"console": False, "slack": True, "webhook": True})
    channels: dict[str, Any] = {"slack": SlackNotifier(SecretStr(slack.url), 2),
                                "webhook": WebhookNotifier(SecretStr(webhook.url), 2)}
    actions = passes(store, cfg, COLLAPSE)
    Dispatcher(Outbox(store), channels, retries=1, sleep=lambda s: None).run()
    assert actions == ["pending", "open!", "update", "escalate!", "update", "escalate!",
                       "escalate!", "update", "update"]
    titles = [m["blocks"][0]["text"]["text"] for m in slack.accepted]
    assert titles == ["Performance alert: churn", "New performance problem: churn",
                      "New performance problem: churn", "Performance worse: churn"]
    said = [m["blocks"][1]["text"]["text"] for m in slack.accepted[1:]]
    assert said[0].endswith("(new in this alert: f1; it was open for accuracy)")
    assert said[1].endswith("(new in this alert: roc_auc; it was open for accuracy and f1)")
    assert said[2].endswith("(worse since told: accuracy 0.4, was 0.77)")
    # the metric the update tells of leads its findings
    leads = [m["blocks"][2]["text"]["text"].splitlines()[1] for m in slack.accepted[1:]]
    assert [line.split(" (")[0] for line in leads] == ["• f1", "• roc_auc", "• accuracy"]
    assert slack.accepted[1]["text"].startswith("New performance problem: churn — churn / ")
    bodies = [(b["event"], b.get("new_kinds"), b.get("new_metrics"), b.get("worse_metrics"))
              for b in webhook.accepted]
    assert bodies == [
        ("firing", None, None, None), ("escalated", [], ["f1"], []),
        ("escalated", [], ["roc_auc"], []),
        ("escalated", [], [], [{"metric": "accuracy", "told": 0.77, "now": 0.4}])]
    assert [b["findings"][0]["metric"] for b in webhook.accepted[1:]] == [
        "f1", "roc_auc", "accuracy"]
    assert len({b["alert_id"] for b in webhook.accepted}) == 1


def test_a_metric_joining_a_drift_alert_after_its_accuracy_is_told_too(store: Store) -> None:
    """The accuracy joining a drift alert is the rules' update (a new kind of problem);
    the F1 after it is this one; a metric found in a segment only counts as that metric."""
    cfg = AlertsConfig.model_validate({"console": True})
    assert passes(store, cfg, [
        window(0, DRIFT), window(1, DRIFT), window(2, DRIFT, acc(0.7)),
        window(3, DRIFT, acc(0.7), f1(0.4, "country=FR")), window(4, DRIFT, acc(0.7), f1(0.3)),
    ]) == ["pending", "open!", "escalate!", "escalate!", "update"]
    texts = [m["text"] for m in console(store)]
    assert texts[1].endswith("(new in this alert: performance; it was open for drift)")
    assert texts[2].startswith("[UPDATE] churn / perf: 1 feature drifted (age), 2 "
                               "performance checks failed (f1, accuracy)")
    assert texts[2].endswith("(new in this alert: f1; it was open for accuracy)")
    assert console(store)[2]["lines"][0] == "f1 [country=FR] (f1 0.4 < 0.7, band)"


def test_a_metric_is_not_told_while_silenced_and_is_told_after_also_when_acknowledged(
    store: Store,
) -> None:
    cfg = AlertsConfig.model_validate({"console": True})
    assert passes(store, cfg, [
        window(0, acc(0.77)), window(1, acc(0.77)), window(2, acc(0.77), f1(0.3)),
        window(3, acc(0.77), f1(0.3)), window(4, acc(0.77), f1(0.3), auc(0.5)),
    ], silenced=frozenset({2}), acked=4) == ["pending", "open!", "update", "escalate!",
                                             "escalate!"]
    texts = [m["text"] for m in console(store)]
    assert [t.split(" ")[0] for t in texts] == ["[ALERT]", "[UPDATE]", "[UPDATE]"]
    assert texts[1].endswith("(new in this alert: f1; it was open for accuracy)")
    assert texts[2].endswith("(new in this alert: roc_auc; it was open for accuracy and f1)")
    found = AlertStore(store).open_alerts()
    assert found[0][0].state == "acknowledged" and found[0][2]["acknowledged_by"] == "alice"


def test_a_lost_follow_up_is_enqueued_again_as_it_was(store: Store) -> None:
    """A crash between the alert's save and its messages: the redone window enqueues the
    same follow-up (not the update of a new kind of problem), once."""
    cfg = AlertsConfig.model_validate({"console": True})
    passes(store, cfg, COLLAPSE[:3])
    assert AlertEngine(store, cfg).process(COLLAPSE[3]).action == "escalate"
    first = console(store)[-1]
    store.command(f"DELETE FROM {O} WHERE {O.kind} = 'escalated'")
    for _ in range(2):
        assert AlertEngine(store, cfg).process(COLLAPSE[3]).action == "recount"
    assert store.count(O, f"{O.kind} = 'escalated'") == 1
    assert console(store)[-1] == first
    assert first["text"].endswith("(new in this alert: f1; it was open for accuracy)")


def test_an_alert_stored_before_metrics_were_kept_tells_nothing_at_once(store: Store) -> None:
    """An open alert saved by an earlier version (no record of the metrics told): its
    window's metrics count as told, so the upgrade sends no follow-up of its own; a metric
    joining later is told."""
    cfg = AlertsConfig.model_validate({"console": True})
    passes(store, cfg, COLLAPSE[:2])
    alerts = AlertStore(store)
    alert, summary, details = alerts.open_alerts()[0]
    old = {k: v for k, v in details.items() if k not in ("told_metrics", "follow_up")}
    alerts.save(alert, summary, old, T0 + 3 * W)
    engine = AlertEngine(store, cfg)
    assert [engine.process(v).action for v in (
        window(2, acc(0.76), f1(0.3)), window(3, acc(0.76), f1(0.3), auc(0.5)))] == [
        "update", "escalate"]
