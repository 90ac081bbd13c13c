"""A pair's track rebuilt from the processed windows (after a restart) replays the same
streak rule as the live engine: points, carried windows and features in common."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from driftscope.alerts.config import AlertsConfig
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.outbox import Outbox
from driftscope.alerts.retrain import request_id
from driftscope.alerts.rules import Policy, Track, step
from driftscope.alerts.state import AlertStore
from driftscope.monitor.results import mark_processed
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=5)


def window(i: int, *features: str, kind: str = "drift", follows: bool = True) -> WindowVerdict:
    found = tuple(Finding(kind, "*", f, "linf", 0.3, 0.1, "permutation", "fdr")
                  for f in features)
    return WindowVerdict("m", "mon", T0 + i * W, T0 + (i + 1) * W, 500, found,
                         persistence_z=1.0 if found else None, follows=follows)


def test_the_rebuilt_track_has_the_live_engines_points(store: Store) -> None:
    cases = {
        "spike then another feature": [window(0), window(1, "age", "income"),
                                       window(2, "sessions")],
        "spike then a feature in common": [window(0), window(1, "age", "income"),
                                           window(2, "income")],
        "spike then another way": [window(0), window(1, "age"), window(2, "age", follows=False)],
        "drift then a model-wide finding": [window(0), window(1, "age"),
                                            window(2, "*", kind="performance")],
        "drift then quality on another feature": [window(0), window(1, "age"),
                                                  window(2, "sessions", kind="quality")],
        "drift, a window without events, drift": [window(0, "age"), window(2, "age")],
    }
    expected = {"spike then another feature": 3, "spike then a feature in common": 4,
                "spike then another way": 3, "drift then a model-wide finding": 4,
                "drift then quality on another feature": 3,
                "drift, a window without events, drift": 2}
    for name, verdicts in cases.items():
        verdicts = [replace(v, monitor=name) for v in verdicts]
        mark_processed(store, verdicts, "fp", T0)
        live = Track()
        for v in verdicts:
            live = step(live, v, Policy(), silenced=False).track
        rebuilt = AlertStore(store).track("m", name)
        assert (rebuilt.bad_streak, rebuilt.points) == (live.bad_streak, live.points), name
        assert rebuilt.points == expected[name], name
        assert rebuilt.last_features == live.last_features, name
        assert (rebuilt.drift_streak, rebuilt.last_end) == (live.drift_streak, live.last_end)


def test_streaks_longer_than_fifty_windows_count_across_passes(store: Store) -> None:
    cfg = AlertsConfig.model_validate({"console": True, "resolve_windows": 60, "retrain": {
        "policies": [{"name": "sustained", "kind": "drift_sustained", "windows": 60}]}})

    def one_pass(v: WindowVerdict) -> str:  # each monitor pass has an engine of its own
        action = AlertEngine(store, cfg).process(v).action
        mark_processed(store, [v], "fp", T0)
        return action

    assert [one_pass(window(i, "age")) for i in (0, 1)] == ["pending", "open"]
    mark_processed(store, [window(i, "age") for i in range(2, 59)], "fp", T0)
    assert one_pass(window(59, "age")) == "update"
    assert store.count(S.RETRAIN_REQUESTS) == 1  # drifted for 60 windows
    mark_processed(store, [window(i) for i in range(60, 119)], "fp", T0)
    assert one_pass(window(119)) == "resolve"  # good for 60 windows


def test_a_periodic_retrain_fires_after_a_boundary_in_a_window_without_events(
    store: Store,
) -> None:
    cfg = AlertsConfig.model_validate({"console": True, "retrain": {
        "policies": [{"name": "daily", "kind": "periodic", "every": "1d"}]}})
    # T0 is midnight; the windows around it, [T0-5m, T0+5m), had no events
    for i in (-2, 1, 2):
        AlertEngine(store, cfg).process(window(i))  # each monitor pass has its own engine
        mark_processed(store, [window(i)], "fp", T0)
    rows = store.query(f"SELECT {S.RETRAIN_REQUESTS.window_start} FROM {S.RETRAIN_REQUESTS}")
    assert [r[0].replace(tzinfo=UTC) for r in rows] == [T0 + W]  # once, on the next window


def test_an_alert_opened_in_a_silence_is_announced_once_after_it_across_passes(
    store: Store,
) -> None:
    cfg = AlertsConfig.model_validate({"console": True})
    AlertStore(store).silence("m", "*", T0 + timedelta(hours=1), "maintenance", T0)
    events = []
    for i, hour in enumerate([0, 0, 2, 2, 2]):  # the silence ends before the third pass
        engine = AlertEngine(store, cfg, clock=lambda h=hour: T0 + timedelta(hours=h))
        d = engine.process(window(i, "age"))
        mark_processed(store, [window(i, "age")], "fp", T0)
        events.append(d.action + ("!" if d.notify else ""))
    assert events == ["pending", "open", "update!", "update", "update"]
    O = S.ALERT_OUTBOX  # noqa: E741
    assert store.query(f"SELECT {O.kind}, {O.channel} FROM {O}") == [("firing", "console")]


def test_a_relapse_after_an_announced_all_clear_is_announced_across_passes(
    store: Store,
) -> None:
    """Each window in a pass of its own (a restart between them): the engine that opens
    the relapse knows from the store that the channel's last word was "Resolved"."""
    cfg = AlertsConfig.model_validate({"console": True, "cooldown": "1h"})
    events = []
    for i, bad in enumerate([True, True, False, False, True, True]):
        v = window(i, "age") if bad else window(i)
        d = AlertEngine(store, cfg).process(v)
        mark_processed(store, [v], "fp", T0)
        events.append(d.action + ("!" if d.notify else ""))
    assert events == ["pending", "open!", "update", "resolve!", "pending", "open!"]
    O = S.ALERT_OUTBOX  # noqa: E741
    assert sorted(store.query(f"SELECT {O.kind} FROM {O}")) == [
        ("firing",), ("firing",), ("resolved",)]


def test_an_acknowledgement_survives_the_next_windows(store: Store) -> None:
    """Acknowledged by a person, the alert stays acknowledged (and says by whom) while
    later bad windows update it — in the same engine and in a new one after a restart."""
    e = AlertEngine(store, AlertsConfig(console=False), channels=[])
    for i in (0, 1):
        d = e.process(window(i, "age"))
        mark_processed(store, [window(i, "age")], "fp", T0)
    assert d.action == "open" and d.alert is not None
    alerts = AlertStore(store)
    alerts.acknowledge(d.alert.alert_id, "alice", T0)
    e.process(window(2, "age"))  # the same engine, with its track in memory
    mark_processed(store, [window(2, "age")], "fp", T0)
    found = alerts.get(d.alert.alert_id)
    assert found is not None
    assert (found[0].state, found[2].get("acknowledged_by")) == ("acknowledged", "alice")
    e2 = AlertEngine(store, AlertsConfig(console=False), channels=[])  # after a restart
    later = e2.process(window(3, "age"))
    found = alerts.get(d.alert.alert_id)
    assert found is not None and later.action == "update"
    assert (found[0].state, found[2].get("acknowledged_by")) == ("acknowledged", "alice")


def test_windows_the_alert_saw_before_a_crash_count_in_the_streaks(store: Store) -> None:
    """The scheduler hands a batch of windows to the alert engine, then records them; a
    crash in between leaves the alert ahead of the recorded windows. The next process redoes
    the batch: the alert is not changed twice, and the redone windows count in the streaks
    (a retraining request after 5 drifted windows; a resolution after 3 good ones)."""
    cfg = AlertsConfig.model_validate({"console": False, "resolve_windows": 3, "retrain": {
        "policies": [{"name": "sustained", "kind": "drift_sustained", "windows": 5}]}})

    def engine() -> AlertEngine:
        return AlertEngine(store, cfg, channels=[])

    def batch(verdicts: list[WindowVerdict], record: bool = True) -> list[str]:
        e = engine()  # each pass (process) has an engine of its own
        actions = [e.process(v).action for v in verdicts]
        if record:
            mark_processed(store, verdicts, "fp", T0)
        return actions

    drifted = [window(i, "age") for i in range(5)]
    assert batch(drifted[:2]) == ["pending", "open"]
    assert batch(drifted[2:4], record=False) == ["update", "update"]  # then the crash
    assert batch(drifted[2:5]) == ["recount", "recount", "update"]
    R = S.RETRAIN_REQUESTS
    assert store.query(f"SELECT {R.window_start} FROM {R}")[0][0].replace(tzinfo=UTC) == \
        T0 + 4 * W, "the fifth drifted window in a row asks for retraining"
    alert = AlertStore(store).track("m", "mon").alert
    assert alert is not None and alert.windows == 5, "each window counted once in the alert"

    good = [window(i) for i in range(5, 8)]
    assert batch(good[:2], record=False) == ["update", "update"]  # then the crash
    assert batch(good) == ["recount", "recount", "resolve"]
    alert = AlertStore(store).track("m", "mon").alert
    assert alert is not None and alert.state == "resolved" and alert.last_window == T0 + 7 * W


def test_two_monitors_of_one_model_ask_once_for_its_sustained_drift(store: Store) -> None:
    """Monitor a sees x drift from window 3, monitor b sees y drift from window 4: one
    sustained drift of the model, one retraining request, in either order of judging
    (a live pass judges window by window; a pass after an outage, monitor by monitor)."""
    cfg = AlertsConfig.model_validate({"console": False, "retrain": {"cooldown": "0s",
        "policies": [{"name": "sus", "kind": "drift_sustained", "windows": 3}]}})
    R = S.RETRAIN_REQUESTS

    def monitor(name: str, feature: str, onset: int, windows: range) -> list[WindowVerdict]:
        return [replace(window(i, *([feature] if i >= onset else [])), monitor=name)
                for i in windows]

    for order in ("a first", "b first"):
        store.command(f"TRUNCATE TABLE {R}")
        a = monitor("a" + order, "x", 3, range(0, 12))
        b = monitor("b" + order, "y", 4, range(0, 12))
        e = AlertEngine(store, cfg, channels=[])
        for v in (a + b if order == "a first" else b + a):
            e.process(v)
        rows = store.query(f"SELECT {R.window_start}, {R.evidence} FROM {R}")
        assert len(rows) == 1, (order, rows)
    # a later drift, after both streaks ended, is a sustained drift of its own
    e = AlertEngine(store, cfg, channels=[])
    for v in monitor("b first", "y", 20, range(12, 24)):
        e.process(v)
    assert store.count(R) == 2


def test_an_announcement_lost_to_a_crash_after_the_alert_was_saved_is_made_again(
    store: Store,
) -> None:
    """The process dies after saving the alert, before enqueueing its message: redone after
    a restart, the window's announcement is enqueued (once), the alert left as it is."""
    cfg = AlertsConfig.model_validate({"console": True, "resolve_windows": 1})
    O = S.ALERT_OUTBOX  # noqa: E741

    def kinds() -> list[tuple[str, str]]:
        return store.query(f"SELECT {O.kind}, {O.status} FROM {O} FINAL ORDER BY {O.kind}")

    first = AlertEngine(store, cfg)
    first.process(window(0, "age"))
    mark_processed(store, [window(0, "age")], "fp", T0)

    def dies(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("killed")

    first.outbox.enqueue = dies  # type: ignore[method-assign]
    try:
        first.process(window(1, "age"))  # opens and saves the alert, then dies
    except RuntimeError:
        pass
    assert kinds() == [] and AlertStore(store).track("m", "mon").alert is not None
    again = AlertEngine(store, cfg)  # the restarted process redoes window 1
    assert again.process(window(1, "age")).action == "recount"
    assert kinds() == [("firing", "pending")]
    assert again.process(window(1, "age")).action == "seen" and len(kinds()) == 1
    mark_processed(store, [window(1, "age")], "fp", T0)
    # the same for a resolution
    third = AlertEngine(store, cfg)
    third.outbox.enqueue = dies  # type: ignore[method-assign]
    try:
        third.process(window(2))
    except RuntimeError:
        pass
    assert AlertEngine(store, cfg).process(window(2)).action == "recount"
    assert kinds() == [("firing", "pending"), ("resolved", "pending")]


@pytest.mark.parametrize("untold", ["silence", "backfill"])
def test_a_resolution_not_told_when_made_is_not_told_by_a_redo_after_a_crash(
    store: Store, untold: str,
) -> None:
    """Found in review: an announced alert resolved in a silence (or a backfill without
    ``--notify``), and the pass died before the window was recorded; the live pass that
    redid the window, the silence over, sent "Resolved" after all."""
    cfg = AlertsConfig.model_validate({"console": True, "resolve_windows": 1})
    O = S.ALERT_OUTBOX  # noqa: E741
    live = AlertEngine(store, cfg)
    for i in (0, 1):
        live.process(window(i, "age"))
        mark_processed(store, [window(i, "age")], "fp", T0)
    alerts = AlertStore(store)
    if untold == "silence":
        now = datetime.now(UTC)
        sid = alerts.silence("m", "*", now + timedelta(hours=1), "migration", now)
        assert AlertEngine(store, cfg).process(window(2)).action == "resolve"
        alerts.end_silence(sid, datetime.now(UTC))
    else:
        engine = AlertEngine(store, cfg, channels=(), requests=False)
        assert engine.process(window(2)).action == "resolve"
    # ... the pass dies here: window 2 is not recorded; the next pass redoes it
    assert AlertEngine(store, cfg).process(window(2)).action == "recount"
    assert store.query(f"SELECT {O.kind} FROM {O} FINAL ORDER BY {O.created_at}") == [
        ("firing",)]


def test_a_monitor_whose_streak_starts_during_anothers_sustained_drift_does_not_ask_again(
    store: Store,
) -> None:
    """A drifts in windows 1–10 and asks at 3; B drifts in 5–7. The model drifted without a
    break from A's request to B's streak: one sustained drift, one request. A drift of B
    after the model was quiet asks again."""
    cfg = AlertsConfig.model_validate({"console": False, "retrain": {"cooldown": "0s",
        "policies": [{"name": "sus", "kind": "drift_sustained", "windows": 3}]}})
    R = S.RETRAIN_REQUESTS
    e = AlertEngine(store, cfg, channels=[])
    a = [replace(window(i, *(["x"] if 1 <= i <= 10 else [])), monitor="a") for i in range(12)]
    b = [replace(window(i, *(["y"] if 5 <= i <= 7 else [])), monitor="b") for i in range(12)]
    for i in range(12):  # a live pass: window by window, both monitors
        for v in (a[i], b[i]):
            e.process(v)
            mark_processed(store, [v], "fp", T0)
    assert [r[0].replace(tzinfo=UTC) for r in store.query(f"SELECT {R.window_start} FROM {R}")] \
        == [T0 + 3 * W]
    later = [replace(window(i, *(["y"] if i >= 14 else [])), monitor="b") for i in range(12, 17)]
    for v in later:
        e.process(v)
        mark_processed(store, [v], "fp", T0)
    assert store.count(R) == 2


@pytest.mark.parametrize("crash_at", [1, 2], ids=["first request", "second request"])
def test_a_retrain_request_lost_to_a_crash_before_its_outbox_row_is_enqueued_again(
    store: Store, crash_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two policies ask for retraining on one window; the process dies after storing one
    request, before enqueueing it. Redone after a restart, the window enqueues every request
    it made, once (before: the stored request, read back as the policy's latest, kept the
    window from asking again, and the request was never sent)."""
    cfg = AlertsConfig.model_validate({"console": False, "retrain": {"policies": [
        {"name": "hourly", "kind": "periodic", "every": "1h"},
        {"name": "accuracy", "kind": "performance_below", "metric": "accuracy",
         "bound": 0.8, "windows": 1}]}})

    def scored(i: int, accuracy: float) -> WindowVerdict:
        return replace(window(i), metrics={"accuracy": accuracy})

    for i in range(11):
        AlertEngine(store, cfg).process(scored(i, 0.95))
        mark_processed(store, [scored(i, 0.95)], "fp", T0)
    enqueue, calls = Outbox.enqueue, []

    def dies_once(self: Outbox, *args: Any, **kwargs: Any) -> bool:
        calls.append(args[0])
        if len(calls) == crash_at:
            raise RuntimeError("killed")
        return enqueue(self, *args, **kwargs)

    monkeypatch.setattr(Outbox, "enqueue", dies_once)
    with pytest.raises(RuntimeError):  # window 11 ends on the hour, its accuracy is low
        AlertEngine(store, cfg).process(scored(11, 0.5))
    for _ in range(2):  # the restarted process redoes window 11 (and a second time)
        AlertEngine(store, cfg).process(scored(11, 0.5))
    O, R = S.ALERT_OUTBOX, S.RETRAIN_REQUESTS  # noqa: E741
    asked = sorted(request_id(p, "m", T0 + 11 * W) for p in ("hourly", "accuracy"))
    assert sorted(r[0] for r in store.query(f"SELECT {R.request_id} FROM {R}")) == asked
    assert sorted(r[0] for r in store.query(f"SELECT {O.delivery_id} FROM {O}")) == [
        f"{r}:retrain:kafka" for r in asked]


def test_the_rebuilt_track_waits_for_the_segments_its_alert_is_about(store: Store) -> None:
    """After a restart, windows where the segment an open alert is about was not tested
    still neither resolve it nor restart its wait (``judged`` in the window summary); a
    summary stored before ``judged`` was kept tested every segment it could."""
    fr = Finding("drift", "country=FR", "x", "emd", 0.3, 0.1, "permutation", "fdr")
    tested = frozenset({"drift:country=FR"})

    def seg(i: int, state: str, monitor: str) -> WindowVerdict:
        return WindowVerdict("m", monitor, T0 + i * W, T0 + (i + 1) * W, 500,
                             (fr,) if state == "x" else (), judged=tested if state == "."
                             else None if state == "o" else frozenset())

    for name, states in {"quiet": "xxqqq", "one good then quiet": "xx.qq",
                         "old summaries": "xxooo"}.items():
        verdicts = [seg(i, s, name) for i, s in enumerate(states)]
        engine = AlertEngine(store, AlertsConfig.model_validate({"console": True}))
        for v in verdicts:
            engine.process(v)
            mark_processed(store, [v], "fp", T0)
        live = engine._tracks[("m", name)]
        rebuilt = AlertStore(store).track("m", name)
        assert (rebuilt.good_streak, rebuilt.waiting_since) == (live.good_streak,
                                                                live.waiting_since), name
    assert AlertStore(store).track("m", "quiet").waiting_since == T0 + 2 * W
    assert AlertStore(store).track("m", "quiet").alert.state == "firing"
    assert AlertStore(store).track("m", "old summaries").alert.state == "resolved"


def test_a_wait_longer_than_the_windows_read_back_still_ends(store: Store) -> None:
    """Found in review: every monitor pass makes its engine anew and reads 51 windows
    back, so with 5-minute windows a wait of 6 hours (72 windows) never ended: the
    rebuilt wait was never older than 51 windows. The open alert keeps it."""
    fr = Finding("drift", "country=FR", "x", "emd", 0.3, 0.1, "permutation", "fdr")
    cfg = AlertsConfig.model_validate({"console": True, "unjudged_wait": "6h"})
    actions = []
    for i in range(80):
        v = WindowVerdict("m", "long", T0 + i * W, T0 + (i + 1) * W, 500,
                          (fr,) if i < 2 else (), judged=frozenset())
        actions.append(AlertEngine(store, cfg).process(v).action)  # one engine per pass
        mark_processed(store, [v], "fp", T0)
    assert actions.index("resolve") == 2 + 71  # the 72nd window without FR
    (closed, _, details), = AlertStore(store).recent()
    assert closed.reason == "not judged" and details["unjudged_for"] == 6 * 3600
