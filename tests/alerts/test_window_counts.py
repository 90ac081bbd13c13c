"""What an alert's messages count: its bad windows, through the engine on chDB, and a
resolution that does not show the incident's severity as the current one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftscope.alerts.config import AlertsConfig
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.outbox import Outbox
from driftscope.alerts.state import AlertStore
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 4, 1, tzinfo=UTC)
W = timedelta(minutes=5)


def window(i: int, bad: bool) -> WindowVerdict:
    fs = (Finding("drift", "*", "x", "linf", 0.4, 0.1, "permutation", "fdr"),) if bad else ()
    return WindowVerdict("m", "mon", T0 + i * W, T0 + (i + 1) * W, 200, fs)


def test_an_incident_of_four_bad_windows_says_four_when_it_resolves(store: Store) -> None:
    cfg = AlertsConfig.model_validate({"console": True, "slack": True, "resolve_windows": 3})
    engine = AlertEngine(store, cfg)
    for i, bad in enumerate([True, True, False, True, True, False, False]):
        engine.process(window(i, bad))  # bad 0-1, a good window, bad 3-4, then good
    alert, summary, _ = AlertStore(store).recent()[0]
    assert alert.state == "firing" and alert.windows == 4
    assert summary == ("m / mon: no findings in this window; 4 bad windows since "
                       "2026-04-01 00:00 UTC")  # still open: not "recovered"
    engine.process(window(7, False))
    pending = {d.channel: d.payload for d in Outbox(store).pending() if d.kind == "resolved"}
    line = "m / mon: recovered from drift after 4 bad windows since 2026-04-01 00:00 UTC"
    assert pending["console"]["text"] == f"[RESOLVED] {line}"
    slack = pending["slack"]
    assert slack["text"] == f"Resolved: m — {line}"
    context = slack["blocks"][-1]["elements"][0]["text"]
    assert "peak severity 4" in context and " · severity" not in context
    assert AlertStore(store).recent()[0][0].windows == 4
