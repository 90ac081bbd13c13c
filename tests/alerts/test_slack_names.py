"""Names from users (model, monitor, feature, segment) in Slack's mrkdwn: shown as they
are, never as bold, italic, strike or code; raw in webhook bodies and on the console."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from driftscope.alerts import messages
from driftscope.alerts.config import AlertsConfig
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.notifiers import WebhookNotifier
from driftscope.alerts.rules import Alert, Policy, Track, step
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(minutes=5)
FEATURE = "_x_*y*~z~"
SEGMENT = "tier=*gold*"
MODEL, MONITOR = "a*b*c", "_nightly_"
CODE = re.compile(r"`[^`\n]*`")
EDGE = r"[^0-9A-Za-z]"  # what may stand before an opening and after a closing mark


def formatting_pairs(text: str) -> list[str]:
    """The spans Slack would format in one mrkdwn text, by the usual rules: code spans,
    then ``*bold*``, ``_italic_``, ``~strike~`` opening after a line start, a space or a
    punctuation mark and closing before one (on one line). Stricter than Slack for ``*``
    and ``~``: a mark inside a word counts too."""
    found = CODE.findall(text)
    rest = CODE.sub(" ", text)
    for mark in "*~":
        found += re.findall(rf"\{mark}[^\s{mark}][^\n]*?\{mark}", rest)
    found += re.findall(rf"(?:^|(?<={EDGE}))_[^\s_][^\n]*?_(?=$|{EDGE})", rest, re.M)
    return found


def mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    """Every mrkdwn text of a Block Kit payload, the top-level fallback first."""
    texts = [payload["text"]]
    for b in payload["blocks"]:
        if b.get("text", {}).get("type") == "mrkdwn":
            texts.append(b["text"]["text"])
        texts += [e["text"] for e in b.get("elements", []) if e.get("type") == "mrkdwn"]
    return texts


def firing(*findings: Finding, model: str = MODEL) -> tuple[Alert, WindowVerdict]:
    v0, v1 = (WindowVerdict(model, MONITOR, T0 + i * W, T0 + (i + 1) * W, 500, findings)
              for i in range(2))
    d = step(step(Track(), v0, Policy(), silenced=False).track, v1, Policy(), silenced=False)
    assert d.alert is not None and d.notify
    return d.alert, v1


def test_formatting_marks_in_names_are_shown_as_they_are_in_slack(webhook: Any) -> None:
    odd = Finding("drift", SEGMENT, FEATURE, "linf", 0.3, 0.1, "permutation", "fdr")
    snake = Finding("drift", "*", "user_id", "jensen_shannon", 0.2, 0.1, "permutation", "fdr")
    alert, v = firing(odd, snake)
    payload = messages.slack_blocks(alert, v, 5, None)
    texts = mrkdwn_texts(payload)
    spans = [s for t in texts for s in formatting_pairs(t)]
    # only what the message means to format: its own heading and each odd name in code
    assert set(spans) == {"*Top findings*", f"`{FEATURE}`", f"`{SEGMENT}`", f"`{MODEL}`",
                          f"`{MONITOR}`", f"`{alert.alert_id}`"}
    top = texts[2].splitlines()
    assert top[1] == f"• `{FEATURE}` [`{SEGMENT}`] (linf 0.3 &gt; 0.1, permutation)"
    # a name inside a word (snake_case) formats nothing: it stays as it is, no code span
    assert top[2] == "• user_id (jensen_shannon 0.2 &gt; 0.1, permutation)"
    assert texts[1].startswith(f":rotating_light: `{MODEL}` / `{MONITOR}`: 2 features drifted")
    assert payload["blocks"][0]["text"]["text"] == f"Drift alert: {MODEL}"  # plain text

    # webhooks and the console get the names as they are
    body = {"type": "alert", "event": "firing", **messages.details(alert, v, 5)}
    WebhookNotifier(SecretStr(webhook.url), 2).send(body, "key")
    sent = json.loads(webhook.bodies[0])
    assert (sent["model_id"], sent["monitor"]) == (MODEL, MONITOR)
    assert sent["drifted"] == sorted([FEATURE, "user_id"])
    assert (sent["findings"][0]["feature"], sent["findings"][0]["segment"]) == (FEATURE, SEGMENT)
    console = messages.console_text(alert, v, 5, resolved=False)
    assert console["text"].startswith(f"[ALERT] {MODEL} / {MONITOR}: ")
    assert console["lines"][0] == f"{FEATURE} [{SEGMENT}] (linf 0.3 > 0.1, permutation)"


def test_a_backtick_in_a_name_cannot_end_its_code_span() -> None:
    f = Finding("drift", "*", "it`s_*odd*", "linf", 0.3, 0.1, "permutation", "fdr")
    alert, v = firing(f, model="churn")
    top = mrkdwn_texts(messages.slack_blocks(alert, v, 5, None))[2].splitlines()[1]
    assert top == "• `it\u02cbs_*odd*` (linf 0.3 &gt; 0.1, permutation)"
    assert formatting_pairs(top) == ["`it\u02cbs_*odd*`"]


def test_clipping_never_cuts_a_name_out_of_its_code_span() -> None:
    long = Finding("drift", "*", "_" * 500, "linf", 0.3, 0.1, "permutation", "fdr")
    alert, v = firing(long, model="*<" * 2000)
    texts = mrkdwn_texts(messages.slack_blocks(alert, v, 5, None))
    name = texts[2].splitlines()[1].split(" (")[0]
    assert name == "• `" + "_" * 199 + "…`"  # clipped inside, then closed
    lead, model = texts[1], "`" + "*&lt;" * 99 + "*…`"  # the model's name clipped, closed
    assert lead.startswith(f":rotating_light: {model} / `_nightly_`: 1 feature drifted")
    assert "&" not in lead.replace("&lt;", "")  # no half entity
    assert formatting_pairs(lead) == [model, "`_nightly_`", "`" + "_" * 39 + "…`"]  # (named
    # in the summary too, clipped shorter)


def test_only_the_slack_row_of_an_alert_is_escaped(store: Store) -> None:
    engine = AlertEngine(store, AlertsConfig(console=True, slack=True, webhook=True))
    f = Finding("drift", "*", FEATURE, "linf", 0.3, 0.1, "permutation", "fdr")
    for i in range(2):
        engine.process(WindowVerdict(MODEL, MONITOR, T0 + i * W, T0 + (i + 1) * W, 500, (f,)))
    O = S.ALERT_OUTBOX  # noqa: E741
    rows = dict(store.query(f"SELECT {O.channel}, {O.payload} FROM {O} FINAL"))
    slack, hook, console = (json.loads(rows[c]) for c in ("slack", "webhook", "console"))
    assert f"`{FEATURE}`" in slack["blocks"][2]["text"]["text"]
    assert hook["findings"][0]["feature"] == FEATURE and hook["model_id"] == MODEL
    assert hook["summary"].startswith(f"{MODEL} / {MONITOR}: 1 feature drifted")
    assert console["lines"] == [f"{FEATURE} (linf 0.3 > 0.1, permutation)"]


def test_an_emoji_code_in_a_name_stays_text() -> None:
    assert messages.slack_name("status:fire:") == "`status:fire:`"
    assert messages.slack_name("time=10:30") == "time=10:30"  # one colon: no emoji code


def test_the_header_shows_an_emoji_code_in_a_model_name_as_text() -> None:
    f = Finding("drift", "*", "age", "linf", 0.3, 0.1, "permutation", "fdr")
    alert, v = firing(f, model="fraud:us:east")
    header = messages.slack_blocks(alert, v, 5, None)["blocks"][0]["text"]
    assert header == {"type": "plain_text", "text": "Drift alert: fraud:us:east", "emoji": False}
