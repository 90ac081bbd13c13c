"""Pure alert decisions: the state machine, minimum duration, dedup, cooldown, silences.

No I/O, no clock: :func:`step` takes what is known about a (model, monitor) pair and one
window's verdict and returns what to do. One alert covers one model × monitor incident and
groups every finding of its windows (twelve drifted features make one message); the
alerts of several monitors of one model opening in one window are sent as one message
(see :mod:`driftscope.alerts.outbox`).

States: ``firing`` → (``acknowledged``) → ``resolved``. An alert opens when
``min_windows`` consecutive windows are bad (so a one-window spike does not page by
default); a bad window whose verdict is ``carried`` (the window before drifted the same
way, too weakly to be flagged on its own) counts that window as bad too, and one that does
not ``follow`` the bad window before it (it drifted another way: a spike next to a chance
finding) counts half (:func:`next_streak`). Windows are consecutive when one starts
where the one before ended: a gap (windows without events, never processed) ends a bad
streak, while good windows on both sides of a gap still add up to ``resolve_windows`` (a
model with sparse traffic resolves on the traffic it has). An alert resolves after
``resolve_windows`` good windows.
A firing alert is never announced twice (dedup); a new incident within ``cooldown`` of the
last announcement, or while silenced, is recorded but not announced then: it is announced
on its first bad window after the cooldown or silence has ended, if still firing (not
acknowledged). A resolution during a silence is not announced. A pass that can tell no one
(an engine without channels: a backfill without ``--notify``) holds everything back the
same way (``announce=False``), so a later pass announces what it did not. A performance
problem joining an open drift or data-quality alert (the accuracy falls: the drift now costs
something) is told once, as an update (``escalate``), also when the alert is acknowledged;
never while silenced. Drift or data quality joining an open alert is not: it is mostly the
same cause (a growing drift pushes values out of the reference's range) and shows in the
alert's details and on the dashboards.

Examples
--------
>>> from datetime import datetime, timedelta, timezone
>>> from driftscope.alerts.model import Finding, WindowVerdict
>>> t0, size = datetime(2026, 1, 1, tzinfo=timezone.utc), timedelta(minutes=5)
>>> bad = lambda i: WindowVerdict("m", "mon", t0 + i * size, t0 + (i + 1) * size, 100,
...     (Finding("drift", "*", "x", "linf", 0.3, 0.1, "permutation", "fdr"),))
>>> p, track = Policy(), Track()
>>> d1 = step(track, bad(0), p, silenced=False); d1.action, d1.notify
('pending', False)
>>> d2 = step(d1.track, bad(1), p, silenced=False); d2.action, d2.notify
('open', True)
>>> step(d2.track, bad(2), p, silenced=False).action
'update'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from driftscope.alerts.model import VERSUS_REST, WindowVerdict

FIRING, ACKNOWLEDGED, RESOLVED = "firing", "acknowledged", "resolved"
OPEN_STATES = (FIRING, ACKNOWLEDGED)


@dataclass(frozen=True)
class Policy:
    """Noise control, from :class:`driftscope.alerts.config.AlertsConfig`."""

    min_windows: int = 2
    resolve_windows: int = 2
    cooldown: timedelta = timedelta(hours=1)
    notify_resolved: bool = True
    unjudged_wait: timedelta | None = timedelta(days=1)
    """How long windows that cannot judge an open alert hold it (None: for ever): the
    time they span, gaps without events left out, and at least ``resolve_windows`` of
    them; then it resolves as not judged (:data:`UNJUDGED`), not as recovered."""


@dataclass(frozen=True)
class Alert:
    """One incident of one model × monitor."""

    alert_id: str
    model_id: str
    monitor: str
    opened_window: datetime
    last_window: datetime
    state: str
    severity: float  # the highest of its windows
    windows: int  # its bad windows (good windows while open do not count)
    notified: bool
    reason: str = ""
    notified_at: datetime | None = None  # event time of the announcement (for cooldown)
    kinds: frozenset[str] = frozenset()  # the kinds of problem people were told of
    escalated: frozenset[str] = frozenset()  # the kinds its last update told of, and when
    escalated_at: datetime | None = None
    seen: frozenset[str] = frozenset()  # the kinds of problem its windows found, told or not
    unjudged_since: datetime | None = None  # Track.waiting_since, kept with the alert
    unjudged_for: timedelta = timedelta(0)  # Track.waited, kept with the alert
    told_resolved: bool = False  # its resolution was announced (no cooldown after it)


@dataclass(frozen=True)
class Track:
    """What is remembered per model × monitor between windows."""

    last_window: datetime | None = None
    bad_streak: int = 0
    good_streak: int = 0
    alert: Alert | None = None
    last_notified: datetime | None = None
    drift_streak: int = 0
    points: int = 0  # the incident's points (:func:`next_streak`)
    last_features: frozenset[str] = frozenset()  # the window before's :func:`features_of`
    last_end: datetime | None = None  # end of ``last_window`` (None: unknown, no gap seen)
    alerted_until: datetime | None = None
    """Windows up to this start were applied to ``alert`` but not recorded (a crash between
    the two): redone, they count in the streaks and leave the alert as it is."""
    waiting_since: datetime | None = None
    """Start of the first of the windows in a row that could not judge the open alert
    (:func:`waits`), none since its last judged window."""
    waited: timedelta = timedelta(0)
    """The time those windows span (gaps without events left out): what
    ``Policy.unjudged_wait`` bounds."""


@dataclass(frozen=True)
class Decision:
    """``none`` | ``pending`` | ``open`` | ``update`` | ``escalate`` (an update that tells of
    a new kind of problem) | ``resolve`` | ``seen`` (replayed) | ``recount`` (redone after a
    crash: counted in the streaks, the alert already has it)."""

    action: str
    notify: bool
    track: Track
    alert: Alert | None = None
    reason: str = ""


RULE = "consecutive-bad-windows"
UNJUDGED = "not judged"
"""The reason of an alert resolved after ``Policy.unjudged_wait`` of windows that could
not judge it (too few events, in all or in its segments; no labels): nobody saw it
recover."""


def alert_id(model_id: str, monitor: str, opened: datetime, rule: str = RULE,
             again: datetime | None = None) -> str:
    """Deterministic id: the same incident always gets the same id (idempotent sends);
    ``again``: the window an incident with the same first window opened once more."""
    raw = f"{model_id}\x1f{monitor}\x1f{opened.isoformat()}\x1f{rule}"
    if again is not None:
        raw += f"\x1f{again.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def next_streak(
    streak: int, points: int, bad: bool, follows: bool = True, carried: bool = False
) -> tuple[int, int]:
    """Bad windows in a row, and the incident's points, after one more window.

    A bad window that ``follows`` the bad one before it scores 2 points, one that does
    not (the monitor's persistence check found the two drifts unrelated, or their
    findings name no column in common: :func:`shares`) scores 1: an alert needs
    ``2·min_windows`` points, so two bad windows that disagree (a spike beside a chance
    finding) do not page, while a third bad window in a row does. A ``carried`` bad
    window counts the window before as bad too.

    >>> next_streak(1, 2, True), next_streak(1, 2, True, follows=False)
    ((2, 4), (2, 3))
    >>> next_streak(0, 0, True, carried=True)
    (2, 4)
    """
    if not bad:
        return 0, 0
    n, p = streak + 1, 2 if points == 0 else points + (2 if follows else 1)
    return (max(n, 2), max(p, 4)) if carried else (n, p)


def features_of(features: Iterable[str]) -> frozenset[str]:
    """The columns a bad window's findings name; none — no opinion — when one of them is
    not a column: about the whole model (``*``: a performance metric, volume, schema),
    several columns at once (``multivariate``, ``projection:…``), an output
    (``output:…``) or a segment's traffic (``segment:…``)."""
    named = frozenset(features)
    if any(f == "*" or f == "multivariate" or ":" in f for f in named):
        return frozenset()
    return named


def shares(before: frozenset[str], now: frozenset[str]) -> bool:
    """Whether two bad windows can be one incident: their findings name a feature in
    common (:func:`features_of`; a window about the whole model has no opinion).

    A spike on some features followed by a window flagged by chance on another feature
    are two findings, not one incident.

    >>> shares(frozenset({"age", "income"}), frozenset({"income"}))
    True
    >>> shares(frozenset({"age", "income"}), frozenset({"sessions"}))
    False
    """
    return not before or not now or bool(before & now)


ESCALATING = frozenset({"performance", "silence"})
"""Kinds of problem that, joining an open alert, are told at once (:func:`step`): the
accuracy falling, and the stream stopping (an app that died while a drift alert was open
was told of by no one)."""


def kinds_of(v: WindowVerdict) -> frozenset[str]:
    """The kinds of problem a window's findings are (``drift``, ``quality``,
    ``performance``; ``silence`` for a window with no event, ``quality.silence``)."""
    return frozenset(f.problem for f in v.findings)


# quality checks that need ``min_events`` events in the window (not volume or schema): a
# window with fewer cannot show that such a problem is gone ("columns" in ``unjudged``)
COUNTLESS = frozenset({"volume", "schema_violations"})


def next_drift(streak: int, drifted: bool, held: bool) -> int:
    """Windows drifted in a row (``drift_sustained``): a window too small for a drift test
    (``held``: :func:`drift_held`) neither adds to the streak nor ends it."""
    return streak + 1 if drifted else streak if held else 0


def check_of(kind: str, metric: str, reason: str) -> str | None:
    """The check a finding or a result is of, as ``unjudged`` names it: ``drift``,
    ``performance``, ``columns`` (a column check: not volume, schema or silence, which need
    no minimum of events), ``versus`` (a segment's drift against the rest of its window,
    :data:`~driftscope.alerts.model.VERSUS_REST`: no drift of the model's data, so no
    window that holds a ``drift_sustained`` streak for it); None for the others."""
    if kind == "quality":
        return "columns" if reason != "silence" and metric not in COUNTLESS else None
    if kind == "drift" and reason == VERSUS_REST:
        return "versus"
    return kind if kind in ("drift", "performance") else None


def _untested(seen: frozenset[str], judged: Iterable[str] | None) -> set[str]:
    """The segments of ``seen`` (``drift:country=FR``) a window did not test."""
    return set() if judged is None else {t for t in seen if ":" in t} - set(judged)


def drift_held(seen: Iterable[str], unjudged: Iterable[str],
               judged: Iterable[str] | None) -> bool:
    """Whether a window that found no drift leaves a ``drift_sustained`` streak as it was
    (:func:`next_drift`): it made no drift test (too few events), or did not test a
    segment whose drift the open alert (``seen``) is about."""
    return "drift" in set(unjudged) or any(
        t.startswith("drift:") for t in _untested(frozenset(seen), judged))


def seen_of(v: WindowVerdict) -> frozenset[str]:
    """What an alert remembers of a window's findings, to know which windows cannot
    resolve it (:func:`waits`): their kinds of problem, ``columns`` when a quality finding
    is one of the column checks, and, for a problem a check found in segments only (not
    on the same column over all events), each segment: ``drift:country=FR``. A window
    whose FR events were too few to test is then no good window for it, though all its
    events were judged good. A problem found over all events is judged over all events:
    its segments are not kept (a global drift seen in 30 countries is not held by each
    country's quiet night).

    >>> from datetime import datetime, timezone
    >>> from driftscope.alerts.model import Finding
    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> fr = Finding("drift", "country=FR", "x", "emd", 2.3, 0.4, "permutation", "fdr")
    >>> sorted(seen_of(WindowVerdict("m", "mon", t, t, 400, (fr,))))
    ['drift', 'drift:country=FR']
    >>> every = Finding("drift", "*", "x", "emd", 0.9, 0.4, "permutation", "fdr")
    >>> sorted(seen_of(WindowVerdict("m", "mon", t, t, 400, (fr, every))))
    ['drift']

    A segment's drift against the rest of its own window (``versus_rest``) is tested
    without the reference: only its segment is kept, as a check of its own, so a window
    whose reference is not ready (no drift test over all events) can still resolve it, and
    one that did not compare it holds no ``drift_sustained`` streak (:func:`drift_held`).

    >>> v2 = Finding("drift", "model_version=2", "x", "emd", 0.4, 0.2, "q", VERSUS_REST)
    >>> sorted(seen_of(WindowVerdict("m", "mon", t, t, 400, (v2,))))
    ['versus:model_version=2']
    """
    checks = {(check_of(f.kind, f.metric, f.reason), f.segment, f.feature)
              for f in v.findings}
    whole = {(c, feature) for c, seg, feature in checks if c is not None and seg == "*"}
    parts = {f"{c}:{seg}" for c, seg, feature in checks
             if c is not None and seg != "*" and (c, feature) not in whole}
    columns = any(c == "columns" for c, _, _ in checks)
    kinds = kinds_of(v)
    if "drift" in kinds and not v.drifted:  # (its drift all against the rest: segments)
        kinds -= {"drift"}
    return kinds | ({"columns"} if columns else frozenset()) | parts


def waits(seen: Iterable[str], unjudged: Iterable[str],
          judged: Iterable[str] | None) -> bool:
    """Whether a window cannot judge an alert that remembers ``seen`` (:func:`seen_of`):
    a check it is about was not made (``unjudged``: too few events or labels), or a
    segment it is about was not tested (``judged``: the segments the window tested, as
    ``drift:country=FR``; None: not known, a window summary stored before it was kept)."""
    seen = frozenset(seen)
    return bool(seen & frozenset(unjudged)) or bool(_untested(seen, judged))


def next_wait(since: datetime | None, waited: timedelta, start: datetime, end: datetime,
              waiting: bool) -> tuple[datetime | None, timedelta]:
    """``Track.waiting_since`` and ``Track.waited`` after the window ``start``–``end``: a
    window that cannot judge the open alert (``waiting``) adds its span, any other ends
    the wait."""
    if not waiting:
        return None, timedelta(0)
    return since or start, waited + (end - start)


def gap(last_end: datetime | None, start: datetime) -> bool:
    """Whether windows are missing (no events) between a window ending at ``last_end``
    and one starting at ``start``."""
    return last_end is not None and start > last_end


def cooling(last_notified: datetime | None, v: WindowVerdict, policy: Policy) -> bool:
    """Whether ``v`` ends within ``cooldown`` of the last announcement."""
    return last_notified is not None and v.window_end - last_notified < policy.cooldown


def all_clear_told(alert: Alert | None) -> bool:
    """Whether the last word people had of this model × monitor is ``alert``'s
    resolution: a problem back after it is a new incident, told at once (held back by
    the cooldown, the channel read "Resolved" while the model fired)."""
    return alert is not None and alert.state == RESOLVED and alert.told_resolved


def step(track: Track, v: WindowVerdict, policy: Policy, *, silenced: bool,
         announce: bool = True) -> Decision:
    """Apply one window's verdict to a model × monitor's track.

    ``announce``: whether anyone can be told (False: nothing is announced, as in a
    silence, and what is held back is announced by a later step that can)."""
    if track.last_window is not None and v.window_start <= track.last_window:
        return Decision("seen", False, track, track.alert, "window already applied")
    if gap(track.last_end, v.window_start):  # no window in between: no streak goes on
        track = replace(track, bad_streak=0, points=0, drift_streak=0,
                        last_features=frozenset())
    named = features_of(f.feature for f in v.findings)
    follows = v.follows and shares(track.last_features, named)
    bad_streak, points = next_streak(track.bad_streak, track.points, v.bad, follows,
                                     v.carried)
    # a window that could not judge what an open alert is about (no labels yet, too few
    # events in a segment it is about) is no good window for it: a performance alert
    # resolved while its labels were late (what it is about: the kinds its windows found,
    # also those not told: cooldown, silence)
    open_seen = track.alert.seen if track.alert and track.alert.state in OPEN_STATES \
        else frozenset()
    waiting = not v.bad and waits(open_seen, v.unjudged, v.judged)
    since, waited = next_wait(track.waiting_since, track.waited, v.window_start,
                              v.window_end, waiting)
    good_streak = 0 if v.bad else track.good_streak + (0 if waiting else 1)
    held = drift_held(open_seen, v.unjudged, v.judged)
    t = replace(track, last_window=v.window_start, bad_streak=bad_streak, good_streak=good_streak,
                drift_streak=next_drift(track.drift_streak, v.drifted, held),
                points=points,
                last_features=named, last_end=v.window_end, waiting_since=since,
                waited=waited)
    if track.alerted_until is not None and v.window_start <= track.alerted_until:
        return Decision("recount", False, t, track.alert, "the alert already has this window")
    open_alert = track.alert if track.alert and track.alert.state in OPEN_STATES else None
    quiet = silenced or not announce
    if open_alert is not None:
        size = v.window_end - v.window_start
        given_up = (waiting and policy.unjudged_wait is not None
                    and t.waited >= max(policy.unjudged_wait, policy.resolve_windows * size))
        if good_streak >= policy.resolve_windows or given_up:
            why = UNJUDGED if given_up else "recovered"
            done = replace(open_alert, state=RESOLVED, last_window=v.window_start,
                           unjudged_since=t.waiting_since, unjudged_for=t.waited)
            if given_up:  # the alert no longer holds the streak (as a rebuilt track sees)
                done = replace(done, reason=why)
                t = replace(t, drift_streak=next_drift(track.drift_streak, v.drifted,
                                                       "drift" in v.unjudged))
            notify = policy.notify_resolved and open_alert.notified and not quiet
            done = replace(done, told_resolved=notify)
            return Decision("resolve", notify, replace(t, alert=done), done, why)
        grown = replace(
            open_alert,
            last_window=v.window_start,
            windows=open_alert.windows + (1 if v.bad else 0),  # the incident's bad windows
            severity=max(open_alert.severity, v.severity),
            seen=open_alert.seen | seen_of(v),
            unjudged_since=t.waiting_since, unjudged_for=t.waited,
        )
        if (v.bad and open_alert.state == FIRING and not open_alert.notified and not quiet
                and not cooling(track.last_notified, v, policy)):  # held back until now
            grown = replace(grown, notified=True, reason="paged late",
                            notified_at=v.window_end, kinds=kinds_of(v))
            t = replace(t, last_notified=v.window_end)
            return Decision("update", True, replace(t, alert=grown), grown, "paged late")
        new_kinds = kinds_of(v) - open_alert.kinds
        if v.bad and open_alert.notified and not quiet and new_kinds & ESCALATING:
            grown = replace(grown, kinds=open_alert.kinds | new_kinds, escalated=new_kinds,
                            escalated_at=v.window_end)
            why = "new: " + ", ".join(sorted(new_kinds))
            return Decision("escalate", True, replace(t, alert=grown), grown, why)
        return Decision("update", False, replace(t, alert=grown), grown, "still open (dedup)")
    if points < 2 * policy.min_windows:
        action = "pending" if v.bad else "none"
        return Decision(action, False, t, None, f"{bad_streak}/{policy.min_windows} bad windows")
    size = v.window_end - v.window_start
    opened = v.window_start - (bad_streak - 1) * size
    in_cooldown = cooling(track.last_notified, v, policy) and not all_clear_told(track.alert)
    notify = not quiet and not in_cooldown
    reason = ("silenced" if silenced else "not announced (no channels)" if not announce
              else "cooldown" if in_cooldown else "paged")
    aid = alert_id(v.model_id, v.monitor, opened)
    if track.alert is not None and track.alert.alert_id == aid:
        # that incident was closed by hand while its streak went on (its monitor taken out
        # and put back): under the same id its announcement was dropped as sent already
        aid = alert_id(v.model_id, v.monitor, opened, again=v.window_start)
    new = Alert(aid, v.model_id, v.monitor, opened,
                v.window_start, FIRING, v.severity, bad_streak, notify, reason,
                v.window_end if notify else None, kinds_of(v) if notify else frozenset(),
                seen=seen_of(v))
    last = v.window_end if notify else track.last_notified
    return Decision("open", notify, replace(t, alert=new, last_notified=last), new, reason)


def acknowledge(alert: Alert) -> Alert:
    """A firing alert acknowledged by a person stays open but is marked as seen."""
    return replace(alert, state=ACKNOWLEDGED) if alert.state == FIRING else alert
