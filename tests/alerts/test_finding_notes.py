"""A finding's note: what is wrong, in a few words a user can act on (the new values, the
reference range, the reference rate …), from the monitor's details of its row, in every
message (console, Slack escaped, webhook) and in the stored alert; never part of what
makes an alert (another new value is the same problem, not a new alert)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.alerts import messages
from driftscope.alerts.config import AlertsConfig
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
A, OUT = S.ALERTS, S.ALERT_OUTBOX
PLANS = np.array(["basic", "pro", "enterprise"], dtype=object)
CODE = re.compile(r"`[^`\n]*`")

Columns = Callable[[int, np.random.Generator, int], dict[str, Any]]


def _config() -> Config:
    mon = {"name": "mon", "model": "m", "features": ["plan", "age"],
           "reference": {"kind": "fixed", "start": T0.isoformat(),
                         "end": (T0 + 4 * W).isoformat()}}
    return Config.model_validate({"models": [{"id": "m", "window": "10m"}],
                                  "monitors": [mon], "alerts": {"console": False}})


def _columns(new: Callable[[int], list[str]]) -> Columns:
    """Windows 0-3 (the reference): three plans, ages 18-90; from window 4 a fifth of the
    plans are ``new(i)`` (cycled) and ages are sent in another unit (x100)."""
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        plan = PLANS[rng.integers(0, 3, n)]
        age = rng.uniform(18, 90, n)
        if i < 4:
            age[:2] = [18.0, 90.0]  # the reference's range is exactly 18 – 90
        else:
            values = new(i)
            plan[: n // 5] = [values[k % len(values)] for k in range(n // 5)]
            age = age * 100
        return {"plan": plan, "age": age}
    return gen


def _run(store: Store, new: Callable[[int], list[str]], windows: int = 6
         ) -> tuple[list[WindowVerdict], dict[str, dict[str, Any]]]:
    """The real monitor and alert engine over ``windows`` windows: the verdicts, and the
    outbox's last payload of each channel."""
    write_windows(store, "m", T0, W, windows, 400, _columns(new), seed=3)
    engine = AlertEngine(store, AlertsConfig(console=True, slack=True, webhook=True))
    verdicts = Monitor(store, _config(), alerts=engine).run_once()
    rows = store.query(f"SELECT {OUT.channel}, {OUT.payload} FROM {OUT} FINAL "
                       f"ORDER BY {OUT.created_at}")
    return verdicts, {channel: json.loads(p) for channel, p in rows}


def _finding(v: WindowVerdict, feature: str, metric: str) -> Finding:
    (f,) = [f for f in v.findings if (f.feature, f.metric) == (feature, metric)]
    return f


def test_the_message_names_the_new_values_and_the_reference_range(store: Store) -> None:
    verdicts, sent = _run(store, lambda i: ["premium_v2", "premium_v2", "premium_v2",
                                            "gold_plus"])
    last = verdicts[-1]
    plan = _finding(last, "plan", "new_categories")
    age = _finding(last, "age", "out_of_range")
    assert plan.note == "new: premium_v2, gold_plus"  # the most frequent first
    assert age.note == "reference range 18 – 90"
    assert re.fullmatch(r"plan \(new_categories 0\.2 > [0-9.]+, limit\) — "
                        r"new: premium_v2, gold_plus", messages.describe(plan))
    assert re.fullmatch(r"age \(out_of_range 1 > [0-9.]+, limit\) — reference range 18 – 90",
                        messages.describe(age))

    # console, Slack and the webhook body each say it
    lines = sent["console"]["lines"]
    assert any(x.startswith("plan (new_categories") and x.endswith("new: premium_v2, gold_plus")
               for x in lines), lines
    assert any(x.endswith("— reference range 18 – 90") for x in lines), lines
    top = sent["slack"]["blocks"][2]["text"]["text"]
    assert "limit) — new: premium_v2, gold_plus" in top
    assert "— reference range 18 – 90" in top
    notes = {f["metric"]: f.get("note") for f in sent["webhook"]["findings"]}
    assert notes["new_categories"] == "new: premium_v2, gold_plus"
    assert notes["out_of_range"] == "reference range 18 – 90"


def test_another_new_value_is_the_same_alert_and_the_stored_alert_keeps_the_note(
    store: Store,
) -> None:
    verdicts, _ = _run(store, lambda i: [f"premium_v{i}"], windows=8)
    notes = [_finding(v, "plan", "new_categories").note for v in verdicts[4:]]
    assert notes == [f"new: premium_v{i}" for i in range(4, 8)]
    rows = store.query(f"SELECT {A.alert_id}, {A.details} FROM {A} FINAL")
    assert len(rows) == 1  # one incident: the note is no part of what makes an alert
    stored = {f["metric"]: f.get("note") for f in json.loads(rows[0][1])["findings"]}
    assert stored["new_categories"] == "new: premium_v7"


def test_a_hostile_new_value_is_shown_as_it_is_in_slack_and_raw_elsewhere(
    store: Store,
) -> None:
    hostile = "*free*_<!channel>`x`"
    verdicts, sent = _run(store, lambda i: [hostile, "y" * 5000])
    plan = _finding(verdicts[-1], "plan", "new_categories")
    assert hostile in plan.note and len(plan.note) < 200  # a long value is clipped
    top = sent["slack"]["blocks"][2]["text"]["text"]
    (line,) = [x for x in top.splitlines() if x.startswith("• plan (new_categories")]
    note = line.split(" — ", 1)[1]
    assert "<" not in line and "&lt;!channel&gt;" in note  # no @channel, no link
    # the note in one code span, its backticks changed so they cannot end it
    assert CODE.fullmatch(note), note
    assert "*free*_" in note and "\u02cbx\u02cb" in note
    assert len(top) <= messages.SLACK_MAX_TEXT
    # console and webhook get the value as it is
    assert any(hostile in x for x in sent["console"]["lines"])
    hook = [f for f in sent["webhook"]["findings"] if f["metric"] == "new_categories"]
    assert hostile in hook[0]["note"]


def test_notes_of_the_other_checks() -> None:
    note = messages.note
    assert note("quality", "missing_rate", {"reference_rate": 0.01, "by_chance": 0.1}) \
        == "reference 1.0 %"
    assert note("quality", "missing_rate", {"reference_rate": 0.0}) == "reference 0.0 %"
    assert note("quality", "type_mismatch", {"reference": "numeric", "window": "categorical"}) \
        == "numbers in the reference, strings now"
    assert note("quality", "type_mismatch", {"reference": "categorical", "window": "numeric"}) \
        == "strings in the reference, numbers now"
    assert note("performance", "accuracy", {"labels": 25, "standard_error": 0.09}) \
        == "on 25 labels"
    assert note("performance", "accuracy", {"labels": 1}) == "on 1 label"
    assert note("quality", "volume", {"n": 12, "median": 400.0}) == "12 events, usually 400"
    assert note("quality", "volume", {"n": 3, "expected": 41.5}) == "3 events, 41.5 expected"
    assert note("quality", "schema_violations", {}) == ""
    # (dead-letter reasons, once quality.schema_violations keeps them: [reason, error, n])
    assert note("quality", "schema_violations", {"reasons": [
        ["type_change", "zip: was numeric, now categorical", 50], ["schema", "", 2], "odd"]}) \
        == "50 type_change (zip: was numeric, now categorical); 2 schema"
    assert note("drift", "emd", {"min_effect": 0.1}) == ""
    assert note("quality", "new_categories", {"new": ["", " a", "b,c"]}) \
        == 'new: "", " a", "b,c"'  # quoted where a bare value would mislead
    assert note("quality", "out_of_range", {"min": "nan", "max": 3.0}) == ""  # not numbers


def test_the_note_is_no_part_of_a_findings_identity() -> None:
    a = Finding("quality", "*", "plan", "new_categories", 0.2, 0.02, "limit", "limit",
                note="new: a")
    b = Finding("quality", "*", "plan", "new_categories", 0.2, 0.02, "limit", "limit",
                note="new: b")
    assert a == b and hash(a) == hash(b)
    plain = Finding("quality", "*", "plan", "new_categories", 0.2, 0.02, "limit", "limit")
    assert plain.note == "" and messages.describe(plain) == \
        "plan (new_categories 0.2 > 0.02, limit)"
