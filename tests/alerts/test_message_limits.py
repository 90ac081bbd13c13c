"""Messages Slack and webhook receivers accept, and findings ranked by how bad they are:
Block Kit's length limits, strict JSON, and severity for metrics where lower is worse."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from driftscope.alerts import messages
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.notifiers import WebhookNotifier
from driftscope.alerts.rules import Alert, Policy, Track, step

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(minutes=5)


def verdict(i: int, findings: list[Finding]) -> WindowVerdict:
    return WindowVerdict("churn", "mon", T0 + i * W, T0 + (i + 1) * W, 500, tuple(findings))


def firing(findings: list[Finding]) -> tuple[Alert, WindowVerdict]:
    first = step(Track(), verdict(0, findings), Policy(), silenced=False)
    d = step(first.track, verdict(1, findings), Policy(), silenced=False)
    assert d.alert is not None and d.notify
    return d.alert, verdict(1, findings)


def test_slack_blocks_stay_within_slacks_limits_and_count_what_is_left_out() -> None:
    fs = [Finding("drift", f"country=DE-{i % 7}", f"customer_lifetime_value_rolling_{i:02d}d_mean",
                  "jensen_shannon", 0.3 + i / 1000, 0.1, "reference-quantile", "fdr")
          for i in range(60)]
    fs.append(Finding("drift", "*", "x" * 5000, "linf", 0.9, 0.1, "permutation", "fdr"))
    alert, v = firing(fs)
    blocks = messages.slack_blocks(alert, v, 50, "http://grafana.local/d/x")["blocks"]
    header = blocks[0]["text"]["text"]
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    texts += [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert len(header) <= 150 and all(len(t) <= 3000 for t in texts)
    top = texts[1].splitlines()
    shown = [line for line in top if line.startswith("• ")]
    assert shown[0].startswith("• xxx") and len(shown[0]) < 300  # the worst, its name clipped
    assert len(shown) > 20 and top[-1] == f"…and {len(fs) - len(shown)} more"


def test_an_anomaly_without_a_bound_is_strict_json_for_webhooks_and_readable_in_slack(
    webhook: Any,
) -> None:
    anomaly = Finding("performance", "*", "*", "accuracy", 0.62, math.nan, "none", "anomaly")
    drift = Finding("drift", "*", "age", "linf", 0.11, 0.1, "permutation", "fdr")
    alert, v = firing([anomaly, drift])
    WebhookNotifier(SecretStr(webhook.url), 2).send(
        {"type": "alert", **messages.details(alert, v, 5)}, "key")

    def reject(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    body = json.loads(webhook.bodies[0], parse_constant=reject)
    assert math.isfinite(body["severity"])
    assert {f["metric"]: f["threshold"] for f in body["findings"]} == {"accuracy": None,
                                                                       "linf": 0.1}
    slack = json.dumps(messages.slack_blocks(alert, v, 5, None), ensure_ascii=False)
    assert "accuracy (accuracy 0.62, anomaly)" in slack and "nan" not in slack
    other_way = WindowVerdict("churn", "mon", v.window_start, v.window_end, 500,
                              (drift, anomaly))
    assert other_way.severity == v.severity and other_way.top(2) == v.top(2)


def test_a_metric_far_below_its_bound_is_severe_and_shown_first() -> None:
    def accuracy(value: float) -> Finding:
        return Finding("performance", "*", "*", "accuracy", value, 0.9, "rule < 0.9", "rule")

    assert 1 < accuracy(0.89).severity < accuracy(0.6).severity < accuracy(0.3).severity
    band = [Finding("performance", "*", "*", "f1", x, 0.8, "band", "band") for x in (0.7, 0.4)]
    assert 1 < band[0].severity < band[1].severity
    error_rate = Finding("performance", "*", "*", "error_rate", 0.3, 0.1, "rule > 0.1", "rule")
    assert error_rate.severity == pytest.approx(3.0)  # higher is worse: as before
    marginal = [Finding("drift", "*", f"f{i}", "linf", 0.12, 0.1, "permutation", "fdr")
                for i in range(5)]
    alert, v = firing([*marginal, accuracy(0.3)])
    assert v.top(1) == [accuracy(0.3)] and alert.severity == pytest.approx(3.0)
    slack = json.dumps(messages.slack_blocks(alert, v, 5, None), ensure_ascii=False)
    assert "accuracy (accuracy 0.3, rule &lt; 0.9)" in slack and "…and 1 more" in slack


def test_a_large_group_keeps_slacks_notification_text_short_and_counts_the_rest() -> None:
    fs = [Finding("drift", "*", "age", "linf", 0.3, 0.1, "permutation", "fdr")]
    payloads = []
    for m in range(300):
        first = step(Track(), replace(verdict(0, fs), monitor=f"monitor-{m:03d}"), Policy(),
                     silenced=False)
        v = replace(verdict(1, fs), monitor=f"monitor-{m:03d}")
        d = step(first.track, v, Policy(), silenced=False)
        assert d.alert is not None
        payloads.append(messages.slack_blocks(d.alert, v, 5, None))
    text = messages.merge("slack", payloads)["text"]
    assert len(text) <= 4000
    assert text.startswith("Drift alert: churn — 300 alerts: churn / monitor-000: 1 feature")
    shown = text.count("churn / monitor-")
    assert text.endswith(f"; …and {300 - shown} more") and 0 < shown < 300


def test_long_model_and_monitor_names_keep_slacks_notification_text_short() -> None:
    """Names of thousands of characters (each ``&`` five once escaped) are clipped to 200
    in Slack text: a message's top-level text stays within Slack's 4000 and still says what
    is wrong (before: the model's name in its head was never clipped: 15,000 characters)."""
    fs = [Finding("drift", "*", "age", "linf", 0.3, 0.1, "permutation", "fdr")]
    payloads = []
    for monitor in ("a", "b"):
        v0, v1 = (replace(verdict(i, fs), model_id="m*" + "&" * 3000, monitor=monitor * 3000)
                  for i in (0, 1))
        d = step(step(Track(), v0, Policy(), silenced=False).track, v1, Policy(), silenced=False)
        assert d.alert is not None
        payloads.append(messages.slack_blocks(d.alert, v1, 5, None))
        resolved = messages.slack_blocks(d.alert, v1, 5, None, resolved=True)
        assert len(resolved["text"]) <= 4000
        assert "…: recovered from drift after 2 bad windows" in resolved["text"]
    for payload in [*payloads, messages.merge("slack", payloads)]:
        assert len(payload["text"]) <= 4000
        assert "…: 1 feature drifted (age) for 2 windows" in payload["text"]


def test_a_fallback_head_that_leaves_no_room_adds_no_text() -> None:
    """Where the head alone fills the limit, no text is added (before: a negative room
    kept nearly all of it)."""
    assert messages.fallback("h" * 3999, ["x" * 3000]) == "h" * 3999 + " — "
    assert messages.fallback("h" * 3996, ["x" * 3000]) == "h" * 3996 + " — …"
