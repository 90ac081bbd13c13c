"""Alerts recorded but not announced — opened by a backfill without --notify, or held back
by a silence — across monitor passes (each pass an engine of its own, its tracks rebuilt
from the store): the next pass that can tell people tells them, and a resolution is told
only of an alert that was."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from driftscope.alerts.config import AlertsConfig
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.state import AlertStore
from driftscope.monitor.results import mark_processed
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=5)
A, O = S.ALERTS, S.ALERT_OUTBOX  # noqa: E741
DRIFT = Finding("drift", "*", "age", "linf", 0.3, 0.1, "permutation", "fdr")
ACCURACY = Finding("performance", "*", "*", "accuracy", 0.6, 0.9, "rule < 0.9", "rule")


def window(monitor: str, i: int, *found: Finding, unjudged: bool = False) -> WindowVerdict:
    return WindowVerdict("m", monitor, T0 + i * W, T0 + (i + 1) * W, 500, found,
                         unjudged=frozenset({"performance"}) if unjudged else frozenset())


def one_pass(store: Store, engine: AlertEngine, v: WindowVerdict) -> str:
    """One window through a pass's engine, recorded; ``!``: people are told."""
    d = engine.process(v)
    mark_processed(store, [v], "fp", T0)
    return d.action + ("!" if d.notify else "")


def messages(store: Store, monitor: str) -> list[str]:
    found = AlertStore(store).recent(model_id="m")
    ids = {a.alert_id for a, _, _ in found if a.monitor == monitor}
    return [kind for aid, kind in store.query(
        f"SELECT {O.alert_id}, {O.kind} FROM {O} FINAL ORDER BY {O.created_at}, {O.kind}")
        if aid in ids]


def test_alerts_of_a_backfill_without_notify_are_announced_by_the_next_pass(
    store: Store,
) -> None:
    """A backfill without --notify (an engine without channels) tells no one, so its alerts
    are recorded as not announced, as in a silence: the live pass after it pages one still
    firing on its next bad window and tells its resolution; one that recovers first
    resolves untold (before: recorded as announced, the live pass never paged it, then sent
    "Resolved" for an alert nobody had been told of)."""
    cfg = AlertsConfig.model_validate({"console": True})

    def backfill(v: WindowVerdict) -> str:  # as `driftscope backfill` without --notify
        return one_pass(store, AlertEngine(store, cfg, channels=(), requests=False), v)

    def live(v: WindowVerdict) -> str:
        return one_pass(store, AlertEngine(store, cfg), v)

    assert [backfill(window("still", i, DRIFT)) for i in range(3)] == [
        "pending", "open", "update"]
    assert [backfill(window("recovers", i, DRIFT)) for i in range(2)] == ["pending", "open"]
    assert store.count(O) == 0
    assert [live(window("still", 3, DRIFT)), live(window("still", 4)),
            live(window("still", 5))] == ["update!", "update", "resolve!"]
    assert messages(store, "still") == ["firing", "resolved"]
    assert [live(window("recovers", i)) for i in (2, 3)] == ["update", "resolve"]
    assert messages(store, "recovers") == []


def _as_stored_before_seen_kinds(store: Store) -> None:
    """Rewrite the alert's latest row as a version without ``seen`` kept would have."""
    row = list(store.query(f"SELECT * FROM {A} FINAL")[0])
    i = A.columns.index("details")
    details = json.loads(row[i])
    del details["seen"]
    row[i] = json.dumps(details, sort_keys=True)
    for c in ("created_at", "updated_at"):
        row[A.columns.index(c)] += timedelta(milliseconds=1)
    store.insert(A, [tuple(row)], A.columns)
    assert "seen" not in AlertStore(store).recent()[0][2]


@pytest.mark.parametrize("stored_before", [False, True], ids=["seen kept", "stored before"])
def test_windows_without_labels_keep_a_held_back_performance_alert_open_across_passes(
    store: Store, stored_before: bool
) -> None:
    """A performance alert opened in a silence told no kind of problem; after the silence,
    windows with too few labels to judge it are no good windows for it in the passes that
    follow (their tracks rebuilt from the store), and its next bad window pages it
    (before: they counted as good and it resolved unmeasured, never paged). An alert stored
    before the kinds seen were kept gets them from its recorded windows."""
    cfg = AlertsConfig.model_validate({"console": True})
    AlertStore(store).silence("m", "*", T0 + timedelta(hours=1), "maintenance", T0)

    def at(hour: int) -> AlertEngine:  # each pass has an engine of its own
        return AlertEngine(store, cfg, clock=lambda: T0 + timedelta(hours=hour))

    assert [one_pass(store, at(0), window("acc", i, ACCURACY)) for i in (0, 1)] == [
        "pending", "open"]
    if stored_before:
        _as_stored_before_seen_kinds(store)
    unjudged = [one_pass(store, at(2), window("acc", i, unjudged=True)) for i in (2, 3, 4)]
    assert unjudged == ["update"] * 3
    assert one_pass(store, at(2), window("acc", 5, ACCURACY)) == "update!"
    assert messages(store, "acc") == ["firing"]
