"""The pure alert rules: minimum duration, dedup, resolve, cooldown, silence, replay."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from driftscope.alerts import messages
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.rules import (
    UNJUDGED,
    Alert,
    Policy,
    Track,
    acknowledge,
    alert_id,
    seen_of,
    step,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(minutes=5)


def verdict(i: int, bad: bool, carried: bool = False, follows: bool = True,
            features: tuple[str, ...] = ("x",), kind: str = "drift") -> WindowVerdict:
    f = tuple(Finding(kind, "*", x, "linf", 0.3, 0.1, "permutation", "fdr")
              for x in features) if bad else ()
    return WindowVerdict("m", "mon", T0 + i * W, T0 + (i + 1) * W, 100, f, carried=carried,
                         follows=follows)


def run(pattern: str, policy: Policy | None = None, silenced: bool | range = False) -> list[str]:
    """``x``: a bad window; ``c``: a bad window whose predecessor moved the same way;
    ``o``: a bad window that drifted another way than the bad window before it; ``_``: a
    window without events (never processed, ``""``). ``silenced``: always, or the windows
    in a range."""
    track, out = Track(), []
    for i, c in enumerate(pattern):
        if c == "_":
            out.append("")
            continue
        v = verdict(i, c in "xco", carried=c == "c", follows=c != "o")
        quiet = i in silenced if isinstance(silenced, range) else silenced
        d = step(track, v, policy or Policy(), silenced=quiet)
        track = d.track
        out.append(d.action + ("!" if d.notify else ""))
    return out


def test_a_single_bad_window_does_not_page() -> None:
    assert run("..x..") == ["none", "none", "pending", "none", "none"]


def test_two_bad_windows_page_once_then_dedup_then_resolve() -> None:
    assert run("xxxx..") == ["pending", "open!", "update", "update", "update", "resolve!"]


def test_a_bad_window_carried_by_the_one_before_opens_at_once_from_that_window() -> None:
    assert run("..c..") == ["none", "none", "open!", "update", "resolve!"]
    d = step(Track(), verdict(3, True, carried=True), Policy(), silenced=False)
    assert d.alert is not None and d.alert.opened_window == T0 + 2 * W and d.alert.windows == 2
    assert "open!" not in run("..c..", Policy(min_windows=3))  # it stands for one window only
    assert run("..cx.", Policy(min_windows=3))[2:4] == ["pending", "open!"]


def test_two_bad_windows_that_drifted_different_ways_count_one_and_a_half() -> None:
    assert run(".xo..") == ["none", "pending", "pending", "none", "none"]  # spike + chance
    assert run(".xoo.")[3] == "open!"  # a third bad window in a row pages all the same
    assert run(".ox..")[2] == "open!"  # "another way" than a good window means nothing


def steps(*windows: tuple[tuple[str, ...], str]) -> list[str]:
    """Bad windows, each given as its findings' features and kind."""
    track, out = Track(), []
    for i, (features, kind) in enumerate(windows):
        d = step(track, verdict(i, True, features=features, kind=kind), Policy(),
                 silenced=False)
        track = d.track
        out.append(d.action)
    return out


def test_two_bad_windows_that_drifted_on_no_feature_in_common_count_one_and_a_half() -> None:
    spike, chance = (("age", "income"), "drift"), (("sessions",), "drift")
    assert steps(spike, chance) == ["pending", "pending"]  # a spike, then a chance finding
    assert steps(spike, chance, chance)[2] == "open"  # a third bad window pages all the same
    assert steps(spike, (("income", "plan"), "drift")) == ["pending", "open"]  # one in common
    assert steps(spike, (("income",), "quality")) == ["pending", "open"]  # any finding's feature
    # a finding about the whole model (a performance metric) has no opinion: same incident
    assert steps(spike, (("*",), "performance")) == ["pending", "open"]
    # … nor has one about several columns at once, an output or a segment's traffic
    for other in ("multivariate", "projection:pca", "output:score", "segment:country=US"):
        assert steps(((other,), "drift"), spike) == ["pending", "open"], other


def test_min_windows_is_configurable() -> None:
    assert run("x.", Policy(min_windows=1))[0] == "open!"
    assert "open!" not in run("xx.xx", Policy(min_windows=3))


def test_one_good_window_does_not_resolve_by_default() -> None:
    assert run("xx.x") == ["pending", "open!", "update", "update"]


def test_cooldown_keeps_a_quick_relapse_quiet_and_silence_records_without_paging() -> None:
    quiet = Policy(cooldown=timedelta(hours=1), notify_resolved=False)
    assert run("xx..xx", quiet) == ["pending", "open!", "update", "resolve", "pending", "open"]
    assert run("xx..xx", Policy(cooldown=timedelta(0), notify_resolved=False))[-1] == "open!"
    assert run("xxx..", silenced=True) == ["pending", "open", "update", "update", "resolve"]


def test_a_relapse_after_an_announced_all_clear_is_announced_at_once() -> None:
    """The channel read "Resolved": a problem back inside the cooldown is told at once,
    as a new incident (held back, the model fired for up to an hour under "Resolved")."""
    out = run("xx..xx", Policy(cooldown=timedelta(hours=1)))
    assert out == ["pending", "open!", "update", "resolve!", "pending", "open!"]
    # an all-clear not told (a silence) is no last word: the cooldown holds the relapse
    assert run("xx..xx", Policy(cooldown=timedelta(hours=1)), silenced=range(3, 4))[3:] == [
        "resolve", "pending", "open"]


def test_an_incident_closed_by_hand_while_its_streak_went_on_reopens_under_a_new_id() -> None:
    """`alerts resolve` on the alert of a monitor taken out of the configuration, then the
    monitor put back while the drift goes on: the streak opens an incident with the same
    first window. Under the same id its announcement was dropped as sent already."""
    policy = Policy(cooldown=timedelta(0))
    track = Track()
    for i in range(2):
        track = step(track, verdict(i, True), policy, silenced=False).track
    first = track.alert
    assert first is not None and first.state == "firing"
    track = replace(track, alert=replace(first, state="resolved"))  # by hand
    d = step(track, verdict(2, True), policy, silenced=False)
    assert (d.action, d.notify) == ("open", True)
    assert d.alert is not None and d.alert.alert_id != first.alert_id
    assert d.alert.opened_window == first.opened_window  # the same streak
    again = step(track, verdict(2, True), policy, silenced=False)  # (replayed: same id)
    assert again.alert is not None and again.alert.alert_id == d.alert.alert_id


def test_an_incident_held_back_by_the_cooldown_is_announced_once_when_it_ends() -> None:
    # announced at the end of window 1; a relapse opens at window 5, inside the hour (no
    # resolution announced in between: notify_resolved off)
    out = run("xx.." + "x" * 20, Policy(cooldown=timedelta(hours=1), notify_resolved=False))
    assert out[5] == "open" and out[3] == "resolve"
    assert [i for i, a in enumerate(out) if a.endswith("!")] == [1, 13]  # 1h after w1
    assert out[13] == "update!"


def test_an_incident_opened_in_a_silence_is_announced_once_after_it() -> None:
    assert run("xxxxx..", silenced=range(3)) == [
        "pending", "open", "update", "update!", "update", "update", "resolve!"]
    # not on a good window, and an announced alert's resolution stays quiet while silenced
    assert run("xxx...", silenced=range(3))[3:] == ["update", "resolve", "none"]
    assert run("xxxx..", silenced=range(4, 6)) == [
        "pending", "open!", "update", "update", "update", "resolve"]
    track = Track()  # someone acknowledged it during the silence: they know
    for i in range(2):
        track = step(track, verdict(i, True), Policy(), silenced=True).track
    assert track.alert is not None and not track.alert.notified
    track = replace(track, alert=acknowledge(track.alert))
    assert not step(track, verdict(2, True), Policy(), silenced=False).notify


def test_bad_windows_with_a_gap_between_them_are_not_consecutive() -> None:
    assert run("x_x..") == ["pending", "", "pending", "none", "none"]
    assert run("x_xx")[-1] == "open!"
    d = step(Track(), verdict(0, True), Policy(), silenced=False)
    for i in (2, 3):
        d = step(d.track, verdict(i, True), Policy(), silenced=False)
    assert d.alert is not None and d.alert.opened_window == T0 + 2 * W and d.alert.windows == 2
    assert d.track.drift_streak == 2 and d.track.last_end == T0 + 4 * W
    # good windows on both sides of a gap count towards resolving
    assert run("xx._.") == ["pending", "open!", "update", "", "resolve!"]


def test_replaying_a_window_changes_nothing() -> None:
    d1 = step(Track(), verdict(0, True), Policy(), silenced=False)
    d2 = step(d1.track, verdict(1, True), Policy(), silenced=False)
    again = step(d2.track, verdict(1, True), Policy(), silenced=False)
    assert again.action == "seen" and again.track == d2.track and not again.notify


def test_alert_ids_are_deterministic_and_opened_at_the_first_bad_window() -> None:
    d1 = step(Track(), verdict(3, True), Policy(), silenced=False)
    d2 = step(d1.track, verdict(4, True), Policy(), silenced=False)
    assert d2.alert is not None and d2.alert.opened_window == T0 + 3 * W
    assert d2.alert.alert_id == alert_id("m", "mon", T0 + 3 * W)
    assert acknowledge(d2.alert).state == "acknowledged"


def test_twelve_drifted_features_are_one_alert() -> None:
    fs = tuple(Finding("drift", "*", f"f{i}", "linf", 0.2 + i / 100, 0.1, "permutation", "fdr")
               for i in range(12))
    track = Track()
    actions = []
    for i in range(3):
        v = WindowVerdict("m", "mon", T0 + i * W, T0 + (i + 1) * W, 100, fs)
        d = step(track, v, Policy(), silenced=False)
        track, actions = d.track, [*actions, d.action]
    assert actions.count("open") == 1 and v.top(3)[0].feature == "f11"


def test_windows_without_labels_do_not_resolve_an_alert_held_back_by_the_cooldown() -> None:
    """A performance alert opened within the cooldown is recorded, not announced; windows
    with too few labels to judge it are no good windows for it, so it stays open and the
    first bad window after the cooldown pages it (before: held back, the alert had told no
    kind, those windows counted as good and it resolved unmeasured, never paged)."""
    track = Track(last_notified=T0)  # another incident of the pair announced at T0
    out = []
    for i in range(13):
        v = verdict(i, i in (0, 1, 12), kind="performance")
        if not v.bad:
            v = replace(v, unjudged=frozenset({"performance"}))
        d = step(track, v, Policy(cooldown=timedelta(hours=1)), silenced=False)
        track = d.track
        out.append(d.action + ("!" if d.notify else ""))
    assert out == ["pending", "open", *["update"] * 10, "update!"]  # 12 ends after 1h
    assert track.alert is not None and track.alert.state == "firing"


def test_a_step_that_can_announce_nothing_holds_back_as_a_silence_does() -> None:
    """``announce=False`` (an engine without channels: a backfill without --notify): the
    alert opens unannounced and the first bad window of a step that can announce pages it;
    one that recovers before that resolves untold."""
    track, out = Track(), []
    for i, (bad, announce) in enumerate([(True, False), (True, False), (True, False),
                                         (True, True), (False, True), (False, True)]):
        d = step(track, verdict(i, bad), Policy(), silenced=False, announce=announce)
        track = d.track
        out.append(d.action + ("!" if d.notify else ""))
    assert out == ["pending", "open", "update", "update!", "update", "resolve!"]
    track = Track()  # recovered while nothing could be announced: no resolution told
    for i in range(4):
        track = step(track, verdict(i, i < 2), Policy(), silenced=False, announce=False).track
    assert track.alert is not None and track.alert.state == "resolved"
    assert not track.alert.notified


def test_a_window_too_small_for_a_drift_test_neither_ends_nor_adds_to_a_drift_streak() -> None:
    """``drift_sustained`` counts drifted windows in a row: a window under ``min_events``
    (no drift test) between them does not restart the count (before: it did, and the
    same drift asked for retraining again once traffic came back)."""
    track = Track()
    for i, state in enumerate("xx?x"):
        v = verdict(i, state == "x")
        if state == "?":
            v = replace(v, unjudged=frozenset({"drift", "columns"}))
        track = step(track, v, Policy(), silenced=False).track
    assert track.drift_streak == 3
    assert track.alert is not None and track.alert.state == "firing"
    track = step(track, verdict(4, False), Policy(), silenced=False).track  # judged, good
    assert track.drift_streak == 0


FR = Finding("drift", "country=FR", "x", "emd", 0.3, 0.1, "permutation", "fdr")
EVERY = Finding("drift", "*", "x", "emd", 0.3, 0.1, "permutation", "fdr")


def segment_run(states: str, policy: Policy | None = None,
                found: tuple[Finding, ...] = (FR,)) -> tuple[list[str], Track]:
    """Hourly windows of a model monitored by country: ``x``: ``found``; ``.``: no finding,
    FR tested; ``q``: no finding, FR too small to test (a quiet night); ``s``: no finding,
    too few events for any drift test."""
    track, out = Track(), []
    hour = timedelta(hours=1)
    for i, s in enumerate(states):
        tested = frozenset() if s in "qs" else frozenset({"drift:country=FR",
                                                           "drift:country=DE"})
        v = WindowVerdict("m", "mon", T0 + i * hour, T0 + (i + 1) * hour, 500,
                          found if s == "x" else (), judged=tested,
                          unjudged=frozenset({"drift"}) if s == "s" else frozenset())
        d = step(track, v, policy or Policy(), silenced=False)
        track = d.track
        out.append(d.action + ("!" if d.notify else ""))
    return out, track


def test_a_window_too_small_for_the_segment_an_alert_is_about_does_not_resolve_it() -> None:
    """An alert about drift in FR alone: windows where FR had too few events for its own
    tests (a quiet night) are no good windows for it, though all the window's events were
    judged good (before: ``[RESOLVED] … recovered`` after two of them, FR unmeasured)."""
    out, track = segment_run("xx" + "q" * 8 + "..")
    assert out == ["pending", "open!", *["update"] * 8, "update", "resolve!"]
    assert track.alert is not None and track.alert.reason != UNJUDGED
    # a window where FR was tested and good counts; one where it was not neither counts
    # nor restarts the count
    assert segment_run("xx.q.")[0][-1] == "resolve!"


def test_a_drift_found_over_all_events_is_not_held_by_its_segments() -> None:
    """A global drift also found in FR is judged over all events: FR's quiet night does
    not hold it (a drift seen in 30 countries, with a daily rhythm, would never resolve)."""
    out, _ = segment_run("xxqq", found=(FR, EVERY))
    assert out == ["pending", "open!", "update", "resolve!"]


def test_windows_that_cannot_judge_an_alert_close_it_as_not_judged_after_the_wait() -> None:
    """A segment back to a trickle after the incident (or a model whose traffic stays
    under ``min_events``) held its alert open for ever; after ``unjudged_wait`` of such
    windows it resolves, said as not judged, never as recovered."""
    out, track = segment_run("xx" + "q" * 30, Policy(unjudged_wait=timedelta(hours=24)))
    assert out == ["pending", "open!", *["update"] * 23, "resolve!", *["none"] * 6]
    closed = track.alert
    assert closed is not None and closed.reason == UNJUDGED
    assert closed.unjudged_since == T0 + 2 * timedelta(hours=1)
    text = messages.recovered(closed)
    assert "not judged since 2026-01-01 02:00 UTC (1 day of windows" in text
    assert "recovered" not in text
    empty = WindowVerdict("m", "mon", T0, T0, 0)
    assert "Closed unverified" in json.dumps(messages.slack_blocks(closed, empty, 5, None,
                                                                   resolved=True))
    assert messages.details(closed, empty, 5)["resolution"] == UNJUDGED
    # the same for a window too small for any drift test, and a new incident then pages
    out, _ = segment_run("xx" + "s" * 24 + "xx", Policy(unjudged_wait=timedelta(hours=24)))
    assert out[-4:] == ["update", "resolve!", "pending", "open!"]
    # null: held for ever, as before
    out, track = segment_run("xx" + "q" * 60, Policy(unjudged_wait=None))
    assert track.alert is not None and track.alert.state == "firing"
    # a judged window in between starts the wait again
    out, _ = segment_run("xx" + "q" * 20 + "x" + "q" * 20, Policy(unjudged_wait=timedelta(
        hours=24)))
    assert "resolve!" not in out


def test_the_wait_takes_resolve_windows_windows_and_leaves_gaps_out() -> None:
    """Found in review: with daily or weekly windows, one window without labels (or a
    wait of 0) closed a performance alert unverified at once; and the weekend's gap
    (no events, no window) counted, so the first window on Monday closed an alert
    before the segment's morning traffic could judge it."""
    day = timedelta(days=1)

    def perf(i: int, bad: bool, start: datetime = T0, size: timedelta = day) -> WindowVerdict:
        f = (Finding("performance", "*", "*", "accuracy", 0.6, 0.9, "rule < 0.9", "rule"),)
        return WindowVerdict("m", "mon", start + i * size, start + (i + 1) * size, 500,
                             f if bad else (), unjudged=frozenset() if bad else
                             frozenset({"performance"}))

    for size in (day, 7 * day):
        track, out = Track(), []
        for i in range(5):
            d = step(track, perf(i, i < 2, size=size), Policy(), silenced=False)
            track, out = d.track, [*out, d.action]
        assert out == ["pending", "open", "update", "resolve", "none"], size
    # an alert about FR opens on Friday evening; FR is not tested at 20:00, then nothing
    # comes until Monday: the weekend is no wait
    hour, friday = timedelta(hours=1), datetime(2026, 1, 2, 18, tzinfo=UTC)
    track = Track()
    for start, state in [(friday, "x"), (friday + hour, "x"), (friday + 2 * hour, "q"),
                         (friday + 62 * hour, "q"), (friday + 63 * hour, "q")]:
        v = WindowVerdict("m", "mon", start, start + hour, 500, (FR,) if state == "x" else (),
                          judged=frozenset())
        track = step(track, v, Policy(), silenced=False).track
    assert track.alert is not None and track.alert.state == "firing"
    assert track.waited == 3 * hour and track.waiting_since == friday + 2 * hour


def test_a_segments_quiet_night_holds_a_drift_sustained_streak() -> None:
    """A window that did not test FR, for an alert about FR's drift, neither adds to
    the retraining streak nor ends it, as a window too small for any drift test."""
    _, track = segment_run("xxqx")
    assert track.drift_streak == 3
    _, track = segment_run("xx.x")  # tested and good: the streak starts again
    assert track.drift_streak == 1


def test_a_segment_is_remembered_unless_its_column_was_found_over_all_events() -> None:
    """FR's drift on ``x`` beside a global drift on another column is still about FR."""
    other = Finding("drift", "*", "y", "emd", 0.3, 0.1, "permutation", "fdr")
    assert "drift:country=FR" in seen_of(WindowVerdict("m", "mon", T0, T0, 1, (FR, other)))
    assert "drift:country=FR" not in seen_of(WindowVerdict("m", "mon", T0, T0, 1,
                                                           (FR, EVERY)))


def test_a_recovery_and_an_unverified_close_in_one_message_read_resolved() -> None:
    closed = Alert("a", "churn", "mon", T0, T0, "resolved", 2.0, 3, True)
    unverified = replace(closed, alert_id="b", monitor="mon2", reason=UNJUDGED,
                         unjudged_since=T0, unjudged_for=timedelta(days=1))
    empty = WindowVerdict("churn", "mon", T0, T0 + W, 0)
    merged = messages.merge("slack", [messages.slack_blocks(a, empty, 5, None, resolved=True)
                                      for a in (closed, unverified)])
    assert merged["blocks"][0]["text"]["text"] == "Resolved: churn"
    assert merged["text"].startswith("Resolved: churn — 2 alerts")


def test_the_window_that_closes_an_alert_unverified_ends_the_streak_it_held() -> None:
    """Found in review: the live engine held the ``drift_sustained`` streak on the
    closing window, a track rebuilt after it (the alert resolved) did not, so a
    retraining request depended on where the monitor's passes fell."""
    _, track = segment_run("xxqq", Policy(unjudged_wait=timedelta(hours=2)))
    assert track.alert is not None and track.alert.reason == UNJUDGED
    assert track.drift_streak == 0
