"""Grouped Slack messages (several alerts of one model × window, :func:`messages.merge`):
what a group past Slack's 50 blocks leaves out is named, not only counted; and the head
and texts of a group do not depend on the names in them (a model id with `` — `` in it
garbled both: the text was split on the first `` — ``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from driftscope.alerts import messages
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.rules import Policy, Track, step

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(minutes=5)
SINCE = "for 2 windows since 2026-01-01 00:00 UTC"
DRIFT = [Finding("drift", "*", f"f{i}", "linf", 0.3, 0.1, "permutation", "fdr")
         for i in range(8)]
ACCURACY = Finding("performance", "*", "*", "accuracy", 0.4, 0.9, "rule < 0.9", "rule")


def payload(monitor: str, found: list[Finding], model: str = "churn",
            link: str | None = "http://g/d/x", resolved: bool = False) -> dict[str, Any]:
    """The Slack message of an alert of ``model`` × ``monitor`` opened on its 2nd window."""
    vs = [WindowVerdict(model, monitor, T0 + i * W, T0 + (i + 1) * W, 500, tuple(found))
          for i in (0, 1)]
    d = step(step(Track(), vs[0], Policy(), silenced=False).track, vs[1], Policy(),
             silenced=False)
    assert d.alert is not None and d.notify
    return messages.slack_blocks(d.alert, vs[1], 5, link, resolved=resolved)


def sections(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def test_a_group_past_slacks_block_limit_names_the_alerts_it_leaves_out() -> None:
    """14 monitors of one model fire in one window, the last an accuracy collapse: the
    blocks hold 9, and the line after them named none of the 5 others ("…and 5 more
    alerts in this window"): nobody could tell that an accuracy alert was among them."""
    group = [payload(f"drift-{m:02d}", DRIFT) for m in range(13)]
    group.append(payload("performance", [ACCURACY]))
    merged = messages.merge("slack", group)
    assert len(merged["blocks"]) <= messages.SLACK_MAX_BLOCKS
    last = merged["blocks"][-1]["text"]["text"]
    shown = sum(t.startswith(":rotating_light: churn / ") for t in sections(merged))
    assert 0 < shown < 14
    lines = last.splitlines()
    assert lines[0] == f"…and {14 - shown} more alerts in this window:"
    # each by its monitor and what it found (the model is the header's), in order
    assert lines[1:] == [f"• drift-{m:02d}: 8 features drifted (f0, f1, f2, +5) {SINCE}"
                         for m in range(shown, 13)] + [
        f"• performance: 1 performance check failed (accuracy) {SINCE}"]
    # the notification's text names them all (it has room for them)
    assert "churn / performance: 1 performance check failed (accuracy)" in merged["text"]
    assert merged["text"].count("churn / drift-") == 13


def test_the_alerts_left_out_are_clipped_to_slacks_limit_and_the_rest_counted() -> None:
    """Monitors with long names (200 characters shown of each): the line stays within
    Slack's 3000 characters, each left-out alert clipped, those that do not fit counted."""
    group = [payload(f"{m:03d}-" + "m" * 300, DRIFT, link=None) for m in range(80)]
    merged = messages.merge("slack", group)
    assert len(merged["blocks"]) <= messages.SLACK_MAX_BLOCKS
    texts = [*sections(merged), merged["blocks"][0]["text"]["text"]]
    assert all(len(t) <= messages.SLACK_MAX_TEXT for t in texts)
    assert len(merged["text"]) <= messages.SLACK_MAX_FALLBACK
    lines = merged["blocks"][-1]["text"]["text"].splitlines()
    shown = sum(t.startswith(":rotating_light: churn / ") for t in sections(merged))
    named = [line for line in lines if line.startswith("• 0")]
    assert lines[0] == f"…and {80 - shown} more alerts in this window:"
    assert named[0].startswith(f"• {shown:03d}-mmm") and named[0].endswith("…")
    assert 5 <= len(named) < 80 - shown
    assert lines[-1] == f"• …and {80 - shown - len(named)} more"


def test_a_retraining_notice_in_a_full_group_keeps_the_line_of_what_is_left_out() -> None:
    """A retraining notice joins a group whose blocks are full: its line was added after
    cutting the blocks to make room, and the cut took the "…and 2 more alerts" line away
    (two alerts left out without a word)."""
    group = [payload("m-00", DRIFT[:1])] + [payload(f"m-{i:02d}", DRIFT[:1], link=None)
                                           for i in range(1, 14)]
    assert "more alerts" in json.dumps(messages.merge("slack", group)["blocks"][-1])
    notice = messages.retrain_slack(WindowVerdict("churn", "m-00", T0 + W, T0 + 2 * W, 500),
                                    [("sustained", "3c55e236a43e21282e3d")])
    merged = messages.merge("slack", [*group, notice])
    assert len(merged["blocks"]) <= messages.SLACK_MAX_BLOCKS
    texts = sections(merged)
    assert texts[-1].startswith(":repeat: Retraining requested (policy sustained")
    left = texts[-2].splitlines()
    shown = sum(t.startswith(":rotating_light: churn / ") for t in texts)
    assert left[0] == f"…and {14 - shown} more alerts in this window:"
    assert left[-1] == f"• m-13: 1 feature drifted (f0) {SINCE}"


def test_a_model_id_with_a_dash_keeps_the_groups_head_and_texts_whole() -> None:
    """A model id ``churn — EU``: the group's text read "Alert: churn — 2 alerts: EU —
    churn — EU / drift: …" and its header "Alert: churn — EU" lost nothing only by luck
    (split on the first `` — ``, the head was "Drift alert: churn", each text "EU — …")."""
    model = "churn — EU"
    drift, perf = (payload("drift", DRIFT[:1], model), payload("perf", [ACCURACY], model))
    # a single message is as it was
    assert drift["text"] == (f"Drift alert: {model} — {model} / drift: 1 feature drifted "
                             f"(f0) {SINCE}")
    merged = messages.merge("slack", [drift, perf])
    assert merged["blocks"][0]["text"]["text"] == f"Alert: {model}"
    assert merged["text"] == (
        f"Alert: {model} — 2 alerts: {model} / drift: 1 feature drifted (f0) {SINCE}; "
        f"{model} / perf: 1 performance check failed (accuracy) {SINCE}")
    same = messages.merge("slack", [drift, payload("drift-b", DRIFT[:1], model)])
    assert same["text"].startswith(f"Drift alert: {model} — 2 alerts: {model} / drift: ")
    assert f"; {model} / drift-b: 1 feature" in same["text"]
    resolved = messages.merge("slack", [payload(m, DRIFT[:1], model, resolved=True)
                                        for m in ("a", "b")])
    assert resolved["text"].startswith(f"Resolved: {model} — 2 alerts: {model} / a: recovered")


def test_names_that_format_or_fill_the_header_keep_the_groups_head_whole() -> None:
    """The head is found from the alert's model, however it is shown: in inline code (a
    name that could format), clipped in the header (150 characters) and in the text (200),
    with `` — `` before and after the clip."""
    for model in ("_churn — EU_", "churn — " + "x" * 140 + " — EU",
                  "a — " * 80 + "z", "m*" + " — &" * 60):
        group = [payload(m, DRIFT[:1], model) for m in ("drift-a", "drift-b")]
        shown = group[0]["text"].removeprefix("Drift alert: ").split(" / drift-a: ")[0]
        shown = shown[: len(shown) // 2 - 1]  # "M — M": the model as the text shows it
        merged = messages.merge("slack", group)
        assert merged["text"].startswith(f"Drift alert: {shown} — 2 alerts: {shown} / "
                                         f"drift-a: 1 feature drifted (f0)"), model
        assert f"; {shown} / drift-b: 1 feature drifted (f0)" in merged["text"], model


def test_feature_and_segment_names_with_a_dash_stay_whole_in_a_group() -> None:
    odd = [Finding("drift", "country=A — B", "x — y", "linf", 0.3, 0.1, "permutation", "fdr")]
    merged = messages.merge("slack", [payload("a", odd), payload("b", odd)])
    assert merged["text"] == (
        f"Drift alert: churn — 2 alerts: churn / a: 1 feature drifted (x — y in country=A — "
        f"B) {SINCE}; churn / b: 1 feature drifted (x — y in country=A — B) {SINCE}")
