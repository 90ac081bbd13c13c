"""Slack Block Kit payloads against golden files; retrain decisions; secret redaction.

Regenerate the golden files with ``DRIFTSCOPE_REGEN_GOLDEN=1 pytest tests/alerts``.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from driftscope.alerts import messages, retrain
from driftscope.alerts.config import RetrainPolicy
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.notifiers import SlackNotifier, WebhookNotifier
from driftscope.alerts.rules import Alert, Policy, Track, step
from driftscope.errors import NotifierError

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "slack"
T0 = datetime(2026, 1, 1, 10, tzinfo=UTC)
W = timedelta(hours=1)


def grouped() -> tuple[WindowVerdict, WindowVerdict]:
    fs = tuple(Finding("drift", "*", f"feature_{i:02d}", "linf", 0.1 + i / 50, 0.08,
                       "permutation", "fdr") for i in range(12))
    fs += (Finding("quality", "*", "age", "missing_rate", 0.2, 0.05, "limit", "limit"),
           Finding("performance", "country=DE", "*", "accuracy", 0.81, 0.9, "rule < 0.9",
                   "rule"))
    mk = lambda i: WindowVerdict("churn", "churn-drift", T0 + i * W, T0 + (i + 1) * W,  # noqa: E731
                                 4200, fs, {"accuracy": 0.84}, "fixed", 36)
    return mk(0), mk(1)


def check_golden(name: str, payload: dict) -> None:
    path = GOLDEN / name
    text = json.dumps(payload, indent=2, sort_keys=True) + "\n"
    if os.environ.get("DRIFTSCOPE_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with DRIFTSCOPE_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_grouped_slack_message_matches_golden() -> None:
    v1, v2 = grouped()
    d = step(step(Track(), v1, Policy(), silenced=False).track, v2, Policy(), silenced=False)
    assert d.alert is not None and d.notify
    link = messages.grafana_link("http://grafana.local", "driftscope-model", v2)
    payload = messages.slack_blocks(d.alert, v2, 5, link)
    check_golden("grouped_drift.json", payload)
    text = json.dumps(payload, ensure_ascii=False)
    assert "12 features drifted" in text and "feature_11 (linf 0.32 &gt; 0.08, permutation)" in text
    assert "…and 9 more" in text and "Open in Grafana" in text
    resolved = messages.slack_blocks(d.alert, v2, 5, link, resolved=True)
    check_golden("resolved.json", resolved)


def firing(v0: WindowVerdict, v1: WindowVerdict) -> Alert:
    d = step(step(Track(), v0, Policy(), silenced=False).track, v1, Policy(), silenced=False)
    assert d.alert is not None
    return d.alert


def test_names_are_escaped_in_slack_text_but_not_in_the_grafana_link() -> None:
    f = Finding("drift", "age_band=<30", "income>50k & married", "linf", 0.3, 0.1,
                "permutation", "fdr")
    v0, v1 = (WindowVerdict("R&D <churn>", "mon", T0 + i * W, T0 + (i + 1) * W, 10, (f,))
              for i in range(2))
    link = messages.grafana_link("http://grafana.local", "dash", v1)
    payload = messages.slack_blocks(firing(v0, v1), v1, 5, link)
    head, lead, top = payload["blocks"][:3]
    assert "R&amp;D &lt;churn&gt; / mon: 1 feature drifted" in payload["text"]
    assert lead["text"]["text"].startswith(":rotating_light: R&amp;D &lt;churn&gt; / mon")
    assert "income&gt;50k &amp; married [age_band=&lt;30] (linf 0.3 &gt; 0.1" in top["text"]["text"]
    assert head["text"] == {"type": "plain_text", "text": "Drift alert: R&D <churn>",
                            "emoji": False}  # plain text is shown as it is
    assert payload["blocks"][-1]["elements"][0]["url"] == link and "R%26D+%3Cchurn" in link
    long = replace(v1, model_id="<" * 2000)  # clipped to 200 characters, never in an entity
    lead = messages.slack_blocks(firing(v0, long), long, 5, None)["blocks"][1]["text"]["text"]
    assert lead.startswith(f":rotating_light: {'&lt;' * 199}… / mon: 1 feature drifted")


def test_a_window_of_a_day_or_more_names_the_date_it_ends() -> None:
    day = timedelta(days=1)
    v0, v1 = (WindowVerdict("churn", "mon", T0.replace(hour=0) + i * day,
                            T0.replace(hour=0) + (i + 1) * day, 500, grouped()[0].findings)
              for i in range(2))
    context = messages.slack_blocks(firing(v0, v1), v1, 5, None)["blocks"][-1]
    assert context["elements"][0]["text"].startswith(
        "window 2026-01-02 00:00–2026-01-03 00:00 UTC · 500 events")


def test_retrain_policies_decide_once_per_policy_and_window() -> None:
    _, v = grouped()
    sustained = RetrainPolicy(name="s", kind="drift_sustained", windows=3,
                              training_window="14d")
    assert retrain.decide(sustained, v, drift_streak=2, last_request=None) is None
    req = retrain.decide(sustained, v, drift_streak=3, last_request=None)
    assert req is not None and req.train_until == v.window_end
    assert req.train_since == v.window_end - timedelta(days=14)
    assert retrain.decide(sustained, v, drift_streak=4, last_request=None) is None
    again = retrain.decide(sustained, v, drift_streak=3, last_request=None)
    assert again is not None and again.request_id == req.request_id
    perf = RetrainPolicy(name="p", kind="performance_below", metric="accuracy", bound=0.9)
    assert retrain.decide(perf, v, drift_streak=0, last_request=None) is not None
    assert retrain.decide(perf, v, drift_streak=0, last_request=v.window_start) is None
    weekly = RetrainPolicy(name="w", kind="periodic", every="1d")
    midnight = WindowVerdict("churn", "m", T0.replace(hour=23), T0.replace(hour=23) + W, 1)
    assert retrain.decide(weekly, midnight, drift_streak=0, last_request=None) is not None
    assert retrain.decide(weekly, v, drift_streak=0, last_request=None) is None


@pytest.mark.parametrize("cls", [SlackNotifier, WebhookNotifier])
def test_the_url_never_appears_in_errors_or_reprs(cls: type) -> None:
    with socket.socket() as closed:  # bound, not listening: the connection is refused
        closed.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{closed.getsockname()[1]}"
        url = f"http://{host}/services/T000/B000/s3cr3tTOKEN"
        notifier = cls(SecretStr(url), timeout=1)
        assert "s3cr3t" not in repr(notifier)
        with pytest.raises(NotifierError) as info:
            notifier.send({"text": "x"}, "key")
    assert "s3cr3t" not in str(info.value) and host not in str(info.value)


def test_merged_messages_keep_every_alert_within_slacks_block_limit() -> None:
    v0, v1 = grouped()
    d = step(step(Track(), v0, Policy(), silenced=False).track, v1, Policy(), silenced=False)
    assert d.alert is not None
    one = messages.slack_blocks(d.alert, v1, 5, "http://g/d/x")
    merged = messages.merge("slack", [one] * 3)
    assert [b["type"] for b in merged["blocks"]].count("header") == 1
    assert [b["type"] for b in merged["blocks"]].count("divider") == 2
    assert merged["text"].count("churn / churn-drift") == 3
    many = messages.merge("slack", [one] * 20)
    assert len(many["blocks"]) <= messages.SLACK_MAX_BLOCKS
    assert "more alerts in this window" in json.dumps(many["blocks"][-1])
    hook = messages.details(d.alert, v1, 5)
    body = messages.merge("webhook", [{**hook, "event": "firing"}] * 2)
    assert body["type"] == "alerts" and body["model_id"] == "churn" and len(body["alerts"]) == 2
    console = messages.merge("console", [messages.console_text(d.alert, v1, 2, False)] * 2)
    assert console["text"].count("[ALERT]") == 2 and console["text"].count("\n  ") == 4


def test_a_window_shorter_than_a_minute_shows_its_seconds() -> None:
    """A 10 s window read "window 2026-12-04 21:04–21:04 UTC" in Slack's context line."""
    from datetime import UTC, datetime

    from driftscope.alerts.messages import window_span

    start = datetime(2026, 12, 4, 21, 4, 10, tzinfo=UTC)
    assert window_span(start, start.replace(second=20)) == "2026-12-04 21:04:10–21:04:20"
    hour = datetime(2026, 12, 4, 23, tzinfo=UTC)
    assert window_span(hour, hour.replace(day=5, hour=0)) == "2026-12-04 23:00–2026-12-05 00:00"
