"""Delivery when a receiver misbehaves: one bad channel never stops the others, and a
message whose retries were spent goes out once its receiver is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from driftscope.alerts.notifiers import ConsoleNotifier, SlackNotifier, WebhookNotifier
from driftscope.alerts.outbox import Dispatcher, Outbox
from driftscope.config import Config, Secrets
from driftscope.monitor.seed import write_windows
from driftscope.monitor.service import run_pass
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

O = S.ALERT_OUTBOX  # noqa: E741


def test_a_receiver_that_breaks_fails_its_own_message_and_the_rest_still_go_out(
    store: Store, slack: Any, webhook: Any
) -> None:
    def closed_stdout(text: str) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    webhook.mode = "garbage"  # the port answers, but not in HTTP
    box = Outbox(store)
    box.enqueue("r1:retrain:webhook", "r1", "retrain", "webhook",
                {"type": "retrain_request", "request_id": "r1"})
    box.enqueue("a1:firing:console", "a1", "firing", "console", {"text": "[ALERT] churn"})
    box.enqueue("a1:firing:slack", "a1", "firing", "slack",
                {"text": "Drift alert: churn", "blocks": []})
    channels: dict[str, Any] = {"webhook": WebhookNotifier(SecretStr(webhook.url), 2),
                                "console": ConsoleNotifier(closed_stdout),
                                "slack": SlackNotifier(SecretStr(slack.url), 2)}
    dispatcher = Dispatcher(box, channels, retries=1, sleep=lambda s: None)
    assert dispatcher.run() == {"sent": 1, "failed": 2, "skipped": 0, "held": 0}
    assert [m["text"] for m in slack.accepted] == ["Drift alert: churn"]
    assert len(webhook.bodies) == 2  # retried like any failure
    errors = dict(store.query(f"SELECT {O.delivery_id}, {O.last_error} FROM {O} FINAL "
                              f"WHERE {O.status} = 'failed'"))
    assert errors == {"r1:retrain:webhook": "webhook answered badly: BadStatusLine",
                      "a1:firing:console": "BrokenPipeError"}
    webhook.mode = "ok"
    assert dispatcher.run(include_failed=True)["sent"] == 1
    assert [b["request_id"] for b in webhook.accepted] == ["r1"]


def test_the_monitor_alone_delivers_an_alert_once_slack_is_back(
    store: Store, slack: Any
) -> None:
    t0 = datetime(2026, 4, 1, tzinfo=UTC)
    write_windows(store, "m", t0, timedelta(minutes=5), 12, 300,
                  lambda i, rng, n: {"x": rng.normal(2.0 if i >= 8 else 0.0, 1, n)}, seed=9)
    cfg = Config.model_validate({
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "m", "window": "5m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "reference": {
            "kind": "fixed", "start": t0.isoformat(),
            "end": (t0 + timedelta(minutes=25)).isoformat()}}],
        "alerts": {"console": False, "slack": True, "retries": 1, "backoff": "0s",
                   "backoff_max": "0s"},
    })
    secrets = Secrets(slack_webhook_url=SecretStr(slack.url))
    slack.mode = "down"  # Slack is down through the pass that opens the alert
    _, sent = run_pass(store, cfg, secrets)
    assert sent["sent"] == 0 and sent["failed"] == 1 and len(slack.bodies) == 2
    slack.mode = "ok"
    _, sent = run_pass(store, cfg, secrets)  # the next pass: no new window, Slack is back
    assert sent["sent"] == 1
    assert [m["text"].split(" — ")[0] for m in slack.accepted] == [
        "Drift and data-quality alert: m"]  # (x is out of range too)
    assert {s for (s,) in store.query(f"SELECT {O.status} FROM {O} FINAL")} == {"sent"}
