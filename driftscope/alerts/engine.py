"""The alert engine: window verdicts → alert state, outbox rows and retrain requests.

:class:`AlertEngine` is what the monitor hands each :class:`WindowVerdict` to. It applies
the pure rules, stores the alert's new state, and enqueues one outbox row per channel when
people must be told; :class:`~driftscope.alerts.outbox.Dispatcher` sends them. Replaying a
window (after a crash) changes nothing: the rules ignore a window already applied and the
outbox ignores a delivery id it has.

Examples
--------
>>> engine = AlertEngine(store, config.alerts)            # doctest: +SKIP
>>> decision = engine.process(verdict)                    # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from driftscope.alerts import followups, messages, retrain
from driftscope.alerts.config import AlertsConfig, RetrainPolicy
from driftscope.alerts.model import WindowVerdict
from driftscope.alerts.outbox import Outbox
from driftscope.alerts.rules import (
    ACKNOWLEDGED,
    FIRING,
    OPEN_STATES,
    RESOLVED,
    Alert,
    Decision,
    Policy,
    Track,
    step,
)
from driftscope.alerts.state import AlertRow, AlertStore
from driftscope.durations import as_utc
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
from driftscope.store.versions import serving_version

R = S.RETRAIN_REQUESTS
M = S.MONITOR_WINDOWS
D = S.DRIFT_RESULTS
O = S.ALERT_OUTBOX  # noqa: E741


def _now() -> datetime:
    return datetime.now(UTC)


def alert_channels(cfg: AlertsConfig) -> list[str]:
    """Channels alerts go to, from configuration."""
    return [c for c in ("console", "slack", "webhook") if getattr(cfg, c)]


def retrain_channels(cfg: AlertsConfig) -> list[str]:
    """Sinks retrain requests go to, from configuration."""
    r = cfg.retrain
    return [c for c, on in (("kafka", r.kafka), ("webhook", r.webhook),
                            ("command", r.command is not None)) if on]


_Seen = tuple[datetime, dict[str, float], frozenset[str], dict[str, tuple[float | None, float]]]
"""A processed window, for performance streaks: its start, metrics, the checks it could not
judge, and its metrics' noise (:attr:`WindowVerdict.noise`)."""


@dataclass
class _Redo:
    """A backfill of one model × monitor over windows the alerts may have seen
    (:meth:`AlertEngine.recall` with a range)."""

    old: dict[datetime, bool]
    """Each recorded window's verdict (bad) before the backfill forgot it."""
    alerts: list[Alert]
    """The pair's alerts before the backfill, newest first."""
    shadow: Track
    """The streaks of the re-judged windows so far (no alert): where a replay starts."""
    replay: Track | None = None
    """The track of the windows re-judged from the first one found bad now and good then."""
    made: set[str] = field(default_factory=set)
    """Alerts the replay opened."""


class AlertEngine:
    """Turns verdicts into alert state and outbox rows (no sending, no formatting rules)."""

    def __init__(self, store: Store, cfg: AlertsConfig, *,
                 clock: Callable[[], datetime] = _now,
                 channels: Sequence[str] | None = None, requests: bool = True) -> None:
        """``channels``: where alerts are enqueued (default: the configured ones; none: the
        alert state is kept, nothing is told, and alerts are recorded as not announced, as
        in a silence: a later engine with channels announces those still firing on their
        next bad window, and no resolution of them); ``requests``: whether retraining is
        asked for (a backfill without --notify asks for nothing and tells nothing)."""
        self.store = store
        self.cfg = cfg
        self.clock = clock
        self.alerts = AlertStore(store)
        self.outbox = Outbox(store, clock)
        self.policy = Policy(cfg.min_windows, cfg.resolve_windows, cfg.cooldown,
                             cfg.notify_resolved, cfg.unjudged_wait)
        self.channels = list(alert_channels(cfg) if channels is None else channels)
        self.requests = requests
        # windows to rebuild a track from: every streak the policy compares, plus one
        # (a streak that has passed its count is told from one that just reached it)
        self.lookback = max(50, cfg.min_windows, cfg.resolve_windows,
                            *(p.windows for p in cfg.retrain.policies)) + 1
        self._tracks: dict[tuple[str, str], Track] = {}
        self._last_request: dict[tuple[str, str], datetime | None] = {}
        # (model, monitor, policy) → the drift streak a request already covers
        self._covered: dict[tuple[str, str, str], int] = {}
        # (model, monitor) → window end → (start, metrics, unjudged, noise): for performance
        # streaks
        self._recent: dict[tuple[str, str], dict[datetime, _Seen]] = {}
        self._redo: dict[tuple[str, str], _Redo] = {}

    def recall(self, model_id: str, monitor: str, since: datetime | None = None,
               until: datetime | None = None) -> None:
        """Rebuild a pair's track now, before a backfill forgets the windows it redoes: a
        window the alerts already saw is then ``seen`` (left as it was) rather than
        replayed against today's alert. (Replayed, the windows before an open alert
        resolved it, told Slack "Resolved" while it was still firing and dropped its
        acknowledgement; its real resolution was then deduplicated away.)

        With the backfill's range (``since``: its first window's start, ``until``: its
        last one's), also what the alerts saw there (each recorded window's verdict, the
        pair's alerts): a window they saw good, outside every alert, and re-judged bad (the
        labels that came after its pass: a performance problem) is news, and the windows
        from it on are replayed (:meth:`_rejudging`). Call :meth:`redone` after it."""
        key = (model_id, monitor)
        if key not in self._tracks:
            self._tracks[key] = self.alerts.track(*key, lookback=self.lookback)
        if since is None or until is None:
            return
        rows = self.store.query(
            f"SELECT {M.window_start}, {M.bad} FROM {M} FINAL WHERE {M.model_id} = "
            f"{{m:String}} AND {M.monitor} = {{n:String}} AND {M.window_start} >= "
            f"{{a:DateTime64(3, 'UTC')}} AND {M.window_start} <= {{b:DateTime64(3, 'UTC')}}",
            {"m": model_id, "n": monitor, "a": since, "b": until})
        shadow = self.alerts.track(*key, lookback=self.lookback, before=since)
        self._redo[key] = _Redo(
            {as_utc(t): bool(bad) for t, bad in rows},
            [a for a, _, _ in self.alerts.pair(*key)],
            replace(shadow, alert=None, alerted_until=None, waiting_since=None,
                    waited=timedelta(0), good_streak=0))

    def redone(self, model_id: str, monitor: str) -> None:
        """The backfill of the pair is over: a replay that ended with its range (before the
        windows after the latest the alerts saw) leaves the store as the truth: the pair's
        track is read again when next needed."""
        key = (model_id, monitor)
        redo = self._redo.pop(key, None)
        if redo is not None and redo.replay is not None:
            self._tracks.pop(key, None)

    def _rejudging(self, key: tuple[str, str], v: WindowVerdict) -> Track | None:
        """The track ``v`` is applied to when a backfill re-judges windows the alerts saw
        (None: the pair's own, on which a window already seen is ``seen``).

        A replay starts at the first window the alerts saw good (as recorded), that lies
        outside each of the pair's alerts, and is bad now: from the streaks of the
        re-judged windows before it and the alerts that ended before it (cooldown, an
        all-clear told), as a live pass would have judged it. It goes on over the windows
        after it, and at the first window past those the alerts saw it becomes the pair's
        track. It stops at a window inside one of the pair's alerts: that incident was
        judged and told already (an alert the replay opened just before it is resolved,
        untold, as continued by it). A window re-judged with its verdict, and each one
        inside an alert, changes nothing: a second backfill tells nothing."""
        redo = self._redo.get(key)
        main = self._tracks[key]
        if redo is None:
            return None
        if main.last_window is None or v.window_start > main.last_window:
            if redo.replay is not None:  # the re-judged state goes on, live
                self._tracks[key] = self._joined(main, redo.replay)
                redo.replay = None
            return None
        start = v.window_start
        inside = next((a for a in redo.alerts if a.opened_window <= start and (
            a.state in OPEN_STATES or start <= a.last_window)), None)
        before = redo.shadow
        redo.shadow = replace(step(before, v, self.policy, silenced=True,
                                   announce=False).track, alert=None)
        if redo.replay is not None and inside is not None:
            self._continued(redo, inside)
            redo.replay = None
        elif redo.replay is None and inside is None and redo.old.get(start) is False and v.bad:
            ended = [a for a in redo.alerts if a.opened_window < start]
            told = [a.notified_at for a in redo.alerts
                    if a.notified_at is not None and a.notified_at <= start]
            redo.replay = replace(before, alert=ended[0] if ended else None,
                                  last_notified=max(told, default=None))
        return redo.replay

    def _continued(self, redo: _Redo, later: Alert) -> None:
        """A replay met ``later``'s windows: an alert it opened and left open is the same
        incident, resolved untold (its windows after are ``later``'s)."""
        alert = redo.replay.alert if redo.replay is not None else None
        if alert is None or alert.alert_id not in redo.made or alert.state not in OPEN_STATES:
            return
        found = self.alerts.get(alert.alert_id)
        done = replace(found[0] if found else alert, state=RESOLVED,
                       reason=f"continued as alert {later.alert_id}")
        self.alerts.save(done, found[1] if found else "", found[2] if found else {},
                         self.clock())

    def _unrecorded(self, key: tuple[str, str], v: WindowVerdict) -> Alert | None:
        """The alert that last changed on ``v``'s window, where a backfill finds that
        window without its record (a backfill that crashed after forgetting it, between the
        alert's save and the record): its messages may be lost, and are enqueued again
        (:meth:`_enqueue_again`; the outbox keeps one row per delivery id)."""
        redo = self._redo.get(key)
        if redo is None or v.window_start in redo.old:
            return None
        found = next((a for a in redo.alerts if a.last_window == v.window_start), None)
        return found

    @staticmethod
    def _joined(main: Track, replay: Track) -> Track:
        """The pair's track once a replay reaches the windows the alerts never saw."""
        told = [t for t in (main.last_notified, replay.last_notified) if t is not None]
        if replay.alert is None or (main.alert is not None
                                    and main.alert.alert_id == replay.alert.alert_id):
            return replace(replay, alert=main.alert, alerted_until=main.alerted_until,
                           last_notified=max(told, default=None))
        return replace(replay, last_notified=max(told, default=None))

    def process(self, v: WindowVerdict) -> Decision:
        """Apply one window's verdict; returns the decision taken."""
        key = (v.model_id, v.monitor)
        self.recall(*key)
        replay = self._rejudging(key, v)
        track = self._tracks[key] if replay is None else replay
        silenced = self.alerts.silenced(v.model_id, v.monitor, self.clock(), cached=True)
        d = step(track, v, self.policy, silenced=silenced, announce=bool(self.channels))
        now = self.clock()
        ack: dict[str, Any] = {}
        stored = None
        if d.alert is not None and d.action in ("update", "escalate", "resolve"):
            stored = self.alerts.get(d.alert.alert_id)
            d, ack = self._keep_acknowledgement(d, stored)
        follow = None
        if d.alert is not None and d.action in ("open", "update", "escalate", "resolve"):
            # a performance metric joining the incident, or much worse: told (followups)
            d, kept, follow = followups.follow_up(d, v, stored[2] if stored else None,
                                                  silenced or not self.channels)
            ack = {**ack, **kept}
        # requests first, so that the window's alert message can say so
        asked = (self._retrain(v, d.track, track.last_end, silenced)
                 if d.action != "seen" and self.requests else [])
        if d.alert is not None and d.action in ("open", "update", "escalate", "resolve"):
            first = d.alert.escalated if d.action == "escalate" else frozenset()
            self.alerts.save(d.alert, messages.summary(d.alert, v), {
                **messages.details(d.alert, v, self.cfg.top_features, first,
                                   follow.metrics if follow else ()), **ack}, now)
        told = False
        if d.notify and d.alert is not None:
            told = self._enqueue_alert(d, v, asked, follow)
        elif d.action == "recount" and track.alerted_until == v.window_start:
            told = self._enqueue_again(d, v, silenced, asked)
        elif d.action == "seen" and (last := self._unrecorded(key, v)) is not None:
            told = self._enqueue_again(replace(d, alert=last), v, silenced, asked)
        if asked and not told and not silenced:
            self._enqueue_notice(v, asked)
        redo = self._redo.get(key)
        if replay is not None and redo is not None:
            redo.replay = d.track
            if d.action == "open" and d.alert is not None:
                redo.made.add(d.alert.alert_id)
        else:
            self._tracks[key] = d.track
        return d

    def _enqueue_again(self, d: Decision, v: WindowVerdict, silenced: bool,
                       asked: Sequence[retrain.RetrainRequest] = ()) -> bool:
        """The window the alert last changed on, redone after a crash: the crash may have
        come between the alert's save and its messages, so the announcement this window
        made is enqueued again (the outbox keeps one row per delivery id: no duplicate).
        A resolution is enqueued only if it was told when first made (``told_resolved``):
        not one made in a silence or a backfill without ``--notify``, which a redo after
        the silence, or by a live pass, announced (found in review)."""
        alert = d.alert
        if alert is None or not alert.notified or alert.last_window != v.window_start:
            return False
        if alert.state == RESOLVED and alert.told_resolved and not silenced:
            return self._enqueue_alert(replace(d, action="resolve"), v, asked)
        if alert.state in (FIRING, ACKNOWLEDGED) and alert.notified_at == v.window_end:
            return self._enqueue_alert(replace(d, action="open"), v, asked)
        if alert.state in (FIRING, ACKNOWLEDGED) and alert.escalated_at == v.window_end:
            stored = self.alerts.get(alert.alert_id)  # (a follow-up: what it told)
            follow = followups.FollowUp.from_json(stored[2].get(followups.FOLLOW)
                                                  if stored else None)
            return self._enqueue_alert(replace(d, action="escalate"), v, asked, follow)
        return False

    def _keep_acknowledgement(self, d: Decision, found: AlertRow | None,
                              ) -> tuple[Decision, dict[str, Any]]:
        """A person may have acknowledged the alert since this engine last saw it (`driftscope
        alerts ack`, another process): the stored state and who acknowledged are kept, not
        overwritten by the next window's version (``found``: its stored row)."""
        assert d.alert is not None
        if found is None or found[0].state != ACKNOWLEDGED:
            return d, {}
        details = found[2]
        ack = {k: details[k] for k in ("acknowledged_by",) if k in details}
        if d.alert.state != FIRING:  # resolved: the acknowledgement is kept in the details
            return d, ack
        alert = replace(d.alert, state=ACKNOWLEDGED)
        return replace(d, alert=alert, track=replace(d.track, alert=alert)), ack

    def _enqueue_alert(self, d: Decision, v: WindowVerdict,
                       asked: Sequence[retrain.RetrainRequest] = (),
                       follow: followups.FollowUp | None = None) -> bool:
        """Enqueue the alert's message to each channel (with a line per retraining request
        the window made; ``follow``: an update that tells of performance metrics); True when
        there is a channel to tell."""
        assert d.alert is not None
        alert, top = d.alert, self.cfg.top_features
        resolved = d.action == "resolve"
        escalated = d.action == "escalate"
        event = "resolved" if resolved else "escalated" if escalated else "firing"
        new = alert.escalated if escalated else frozenset()
        lead = follow.metrics if follow else ()
        link = messages.grafana_link(self.cfg.grafana_url, self.cfg.grafana_dashboard, v, new)
        body = {"type": "alert", "event": event, **messages.details(alert, v, top, new, lead),
                "summary": messages.summary(alert, v), "grafana_url": link}
        if escalated:  # (a follow-up tells of no new kind: of the metrics it names)
            body["new_kinds"] = [] if follow else sorted(new)
            body |= follow.as_json() if follow else {}
        reqs = [told(r) for r in asked]
        if reqs:
            body["retrain_requests"] = [{"policy": p, "request_id": r, "model_version": m}
                                        for p, r, m in reqs]
        payloads: dict[str, dict[str, Any]] = {
            "console": messages.console_text(alert, v, top, resolved, new, reqs, follow),
            "slack": messages.slack_blocks(alert, v, top, link, resolved, new, reqs, follow),
            "webhook": body,
        }
        group = (f"{alert.model_id}\x1f{v.window_start.isoformat()}\x1f"
                 f"{v.window_end.isoformat()}\x1f{event}")
        # one firing and one resolution per alert; an update per window it escalated in
        what = f"escalated@{v.window_end.isoformat()}" if escalated else event
        for channel in self.channels:
            self.outbox.enqueue(f"{alert.alert_id}:{what}:{channel}", alert.alert_id, event,
                                channel, payloads[channel], group_key=group)
        return bool(self.channels)

    def _enqueue_notice(self, v: WindowVerdict, asked: Sequence[retrain.RetrainRequest]) -> None:
        """People are told of a request in the window's alert message; when none goes out
        (the usual case: the alert opened windows before the drift was sustained), in one
        message of its own to Slack and the console (the webhook gets the request itself
        under ``retrain.webhook``)."""
        reqs = [told(r) for r in asked]
        payloads = {"console": messages.retrain_console(v, reqs),
                    "slack": messages.retrain_slack(v, reqs)}
        first = asked[0].request_id
        for channel in self.channels:
            if channel in payloads:
                self.outbox.enqueue(f"{first}:told:{channel}", first, "retrain", channel,
                                    payloads[channel],
                                    group_key=self._unsent_group(v.model_id, channel))

    def _unsent_group(self, model_id: str, channel: str) -> str:
        """The group of the model's newest alert message to ``channel`` that no send has
        taken yet (a pass that judged a backlog): a notice put in it goes out as part of
        that message (:func:`messages.merge`). Once a send has fixed that message's
        members, a row added to its group goes in a message of its own: no race."""
        rows = self.store.query(
            f"SELECT {O.group_key} FROM {O} FINAL WHERE {O.channel} = {{c:String}} AND "
            f"{O.status} = 'pending' AND {O.kind} IN ('firing', 'escalated') AND "
            f"startsWith({O.group_key}, {{g:String}}) ORDER BY {O.created_at} DESC LIMIT 1",
            {"c": channel, "g": f"{model_id}\x1f"})
        return str(rows[0][0]) if rows else ""

    def _retrain(self, v: WindowVerdict, track: Track, last_end: datetime | None,
                 silenced: bool = False) -> list[retrain.RetrainRequest]:
        """Decide and store the window's retraining requests; returns those it made (or,
        redone after a crash, had made), enqueued to the retrain sinks. While the model's
        monitor is ``silenced`` (planned work: a migration, a backfill) no drift or
        performance request is made; a condition that still holds after it asks then."""
        self._remember(v)
        asked: list[retrain.RetrainRequest] = []
        for policy in self.cfg.retrain.policies:
            if policy.model is not None and policy.model != v.model_id:
                continue
            key = (v.model_id, policy.name)
            if key not in self._last_request:
                self._last_request[key] = self._latest_request(*key)
            last = self._last_request[key]
            req = retrain.decide(policy, v, drift_streak=track.drift_streak,
                                 last_request=last, last_end=last_end,
                                 pending=self._pending(v, policy, track.drift_streak),
                                 below_streak=self._below_streak(v, policy))
            if req is None and last is not None and last >= v.window_end:
                req = self._stored_request(policy.name, v)  # this window's, redone?
            elif req is not None:
                if silenced and policy.kind != "periodic":
                    continue  # (a silence's data is not what a model should learn)
                if policy.kind == "drift_sustained" and self._requested_in_streak(
                        req, track.drift_streak):
                    self._covered[(v.model_id, v.monitor, policy.name)] = track.drift_streak
                    continue
                if self._cooling(req):
                    continue  # one request per incident of the model, whatever asks
                if policy.kind == "drift_sustained":
                    self._covered[(v.model_id, v.monitor, policy.name)] = track.drift_streak
                if policy.kind == "performance_below":
                    req = self._with_labels(req, v, policy)
                req = self._with_version(req, v)
            if req is None:
                continue
            if last is None or last < req.window_end:
                self._last_request[key] = req.window_end
            if not self.store.count(R, f"{R.request_id} = {{r:String}}", r=req.request_id):
                self.store.insert(R, [(req.request_id, req.model_id, req.policy, req.window_start,
                                       req.window_end, req.train_since, req.train_until,
                                       json.dumps(req.evidence, sort_keys=True, default=str),
                                       self.clock())], R.columns)
            for channel in retrain_channels(self.cfg):
                self.outbox.enqueue(f"{req.request_id}:retrain:{channel}", req.request_id,
                                    "retrain", channel, req.payload())
            asked.append(req)
        return asked

    def _pending(self, v: WindowVerdict, policy: RetrainPolicy, streak: int) -> bool:
        """Whether a drift streak past its policy's count may still ask: no request covers
        it yet (its first windows had a data fault, or fell in the model's cooldown). The
        store is asked by :meth:`_requested_in_streak`; a streak known covered is not."""
        key = (v.model_id, v.monitor, policy.name)
        covered = self._covered.get(key)
        if covered is not None and streak < covered:
            del self._covered[key]  # the streak ended: a new one
            covered = None
        return (policy.kind == "drift_sustained" and streak > policy.windows and v.drifted
                and covered is None)

    def _cooling(self, req: retrain.RetrainRequest) -> bool:
        """Whether another request for the model under a ``drift_sustained`` or
        ``performance_below`` policy has a window ending within ``retrain.cooldown`` of this
        one's (before or after it: a pass may judge a later window of one monitor before an
        earlier one of another). Periodic requests hold nothing: a drift after a scheduled
        retraining is news the schedule did not train on."""
        cooldown = self.cfg.retrain.cooldown
        if cooldown <= timedelta(0):
            return False
        return bool(self.store.count(
            R, f"{R.model_id} = {{m:String}} AND {R.request_id} != {{r:String}} "
            f"AND NOT JSONHas({R.evidence}, 'every') "
            f"AND {R.window_end} > {{a:DateTime64(3, 'UTC')}} "
            f"AND {R.window_end} < {{b:DateTime64(3, 'UTC')}}",
            m=req.model_id, r=req.request_id, a=req.window_end - cooldown,
            b=req.window_end + cooldown))

    def _remember(self, v: WindowVerdict) -> None:
        """Keep the window's metrics for the performance streaks of later windows (the
        batch's windows are recorded in the store only after the batch)."""
        if not any(p.kind == "performance_below" and p.windows > 1
                   for p in self.cfg.retrain.policies):
            return
        recent = self._recent.setdefault((v.model_id, v.monitor), {})
        recent[v.window_end] = (v.window_start, dict(v.metrics), v.unjudged, dict(v.noise))
        while len(recent) > self.lookback:
            del recent[next(iter(recent))]

    def _below_streak(self, v: WindowVerdict, policy: RetrainPolicy) -> int | None:
        """Consecutive windows of ``v``'s monitor with the policy's metric short of its bound,
        ending with ``v`` (counted up to the policy's ``windows``); None for other kinds.
        A window too short of labels to measure it (``unjudged``) neither adds to the run
        nor ends it; a gap (a window without events) ends it."""
        if policy.kind != "performance_below":
            return None
        assert policy.metric is not None
        metric = policy.metric
        if not retrain.short_of(policy, v.metrics.get(metric), v.noise.get(metric)):
            return 0
        n, start = 1, v.window_start
        for _ in range(self.lookback):
            if n >= policy.windows:
                break
            before = self._window_ending(v.model_id, v.monitor, start)
            if before is None:
                break
            start, metrics, unjudged, noise = before
            value = metrics.get(metric)
            if value is None and "performance" in unjudged:
                continue
            if not retrain.short_of(policy, value, noise.get(metric)):
                break
            n += 1
        return n

    def _window_ending(self, model_id: str, monitor: str, end: datetime) -> _Seen | None:
        """The processed window of the monitor that ends at ``end``: its start, metrics,
        the checks it could not judge and its metrics' noise (this engine's memory, else the
        store: the noise from its performance rows)."""
        found = self._recent.get((model_id, monitor), {}).get(end)
        if found is not None:
            return found
        rows = self.store.query(
            f"SELECT {M.window_start}, {M.summary} FROM {M} FINAL WHERE {M.model_id} = "
            f"{{m:String}} AND {M.monitor} = {{n:String}} AND {M.window_end} = "
            f"{{e:DateTime64(3, 'UTC')}} ORDER BY {M.processed_at} DESC LIMIT 1",
            {"m": model_id, "n": monitor, "e": end})
        if not rows:
            return None
        summary = json.loads(rows[0][1] or "{}")
        metrics = {str(k): float(x) for k, x in (summary.get("metrics") or {}).items()
                   if isinstance(x, int | float)}
        start = as_utc(rows[0][0])
        return start, metrics, frozenset(summary.get("unjudged") or ()), self._noise_of(
            model_id, monitor, start, sorted(metrics)) if metrics else {}

    def _noise_of(self, model_id: str, monitor: str, start: datetime, metrics: list[str],
                  ) -> dict[str, tuple[float | None, float]]:
        """A stored window's ``metrics``' noise, as :attr:`WindowVerdict.noise` keeps it:
        from their rows of all events (their labels and standard error)."""
        from driftscope.monitor.evaluate import noise_labels

        rows = self.store.query(
            f"SELECT {D.metric}, {D.details} FROM {D} WHERE {D.model_id} = {{m:String}} "
            f"AND {D.monitor} = {{n:String}} AND {D.window_start} = "
            f"{{s:DateTime64(3, 'UTC')}} AND {D.metric} IN {{x:Array(String)}} "
            f"AND {D.segment} = '*' ORDER BY {D.computed_at}",  # (a metric's latest row last:
            {"m": model_id, "n": monitor, "s": start, "x": metrics})  # it wins)
        out: dict[str, tuple[float | None, float]] = {}
        for metric, raw in rows:
            details = json.loads(raw or "{}") if isinstance(raw, str) else dict(raw or {})
            se = details.get("standard_error")
            if isinstance(se, int | float):
                out[str(metric)] = (noise_labels(details), float(se))
        return out

    def _with_labels(self, req: retrain.RetrainRequest, v: WindowVerdict,
                     policy: RetrainPolicy) -> retrain.RetrainRequest:
        """The request with how many labels its metric was measured on (``labels``), from
        the window's stored performance row (written before its verdict reaches alerts)."""
        rows = self.store.query(
            f"SELECT JSONExtractInt({D.details}, 'labels') FROM {D} WHERE {D.model_id} = "
            f"{{m:String}} AND {D.monitor} = {{n:String}} AND {D.window_start} = "
            f"{{s:DateTime64(3, 'UTC')}} AND {D.metric} = {{x:String}} AND {D.segment} = '*' "
            f"ORDER BY {D.computed_at} DESC LIMIT 1",
            {"m": v.model_id, "n": v.monitor, "s": v.window_start, "x": policy.metric})
        if not rows or not rows[0][0]:
            return req
        return replace(req, evidence={**req.evidence, "labels": int(rows[0][0])})

    def _with_version(self, req: retrain.RetrainRequest,
                      v: WindowVerdict) -> retrain.RetrainRequest:
        """The request with the model version that served its window — for a
        ``performance_below`` request the window whose labels it measured — (evidence
        ``model_version``: the one to replace): as the monitor counted it (the verdict's),
        else from the window's raw events, else its samples' candidates (every one: the
        monitor's k is not known here; during a rollout in the window a rough count);
        without it when the events carry none (or the model logs only profiles)."""
        labelled = req.labels_start is not None and v.labels_start is not None
        version = v.labels_version if labelled else v.model_version
        if version is None:
            start = req.labels_start or req.window_start
            end = req.labels_end or req.window_end
            version = serving_version(self.store, req.model_id, start, end)
            if version is None:
                version = serving_version(self.store, req.model_id, start, end,
                                          sample=(0, None))
        if not version:
            return req
        return replace(req, evidence={**req.evidence, "model_version": version})

    def _requested_in_streak(self, req: retrain.RetrainRequest, streak: int) -> bool:
        """Whether the streak of drifted windows that asks already has a request: another
        monitor of the model asked under the same policy for a streak that overlaps this
        one (one request per sustained drift of the model, whichever of its monitors
        reached the count first: a pass may judge one monitor's windows before
        another's), this monitor asked earlier in the streak (its first windows had a data
        fault, or fell in the cooldown), or another drift or performance policy asked for
        the model during it (one request per incident)."""
        size = req.window_end - req.window_start
        began = req.window_start - (streak - 1) * size
        if self.store.count(
            R, f"{R.model_id} = {{m:String}} AND {R.request_id} != {{r:String}} AND (("
            f"{R.policy} = {{p:String}} "
            f"AND {R.window_start} >= {{a:DateTime64(3, 'UTC')}} "
            f"AND {R.window_start} - toIntervalMillisecond(greatest(JSONExtractInt("
            f"{R.evidence}, 'drifted_windows') - 1, 0) * {{s:Int64}}) "
            f"<= {{b:DateTime64(3, 'UTC')}}) OR ("
            f"{R.window_start} >= {{a:DateTime64(3, 'UTC')}} "
            f"AND {R.window_start} < {{b:DateTime64(3, 'UTC')}} "
            f"AND NOT JSONHas({R.evidence}, 'every')))",
            m=req.model_id, p=req.policy, r=req.request_id, a=began, b=req.window_start,
            s=int(size.total_seconds() * 1000)):
            return True
        return self._drifted_since_last_request(req, began, size)

    def _drifted_since_last_request(self, req: retrain.RetrainRequest, began: datetime,
                                    size: timedelta) -> bool:
        """Whether the model drifted (by any of its monitors) in every window from its last
        request under the policy before ``began`` up to ``began``: one drift of the model
        that another monitor already asked for, still going when this streak began."""
        rows = self.store.query(
            f"SELECT max({R.window_start}) FROM {R} WHERE {R.model_id} = {{m:String}} "
            f"AND {R.policy} = {{p:String}} AND {R.window_start} < {{a:DateTime64(3, 'UTC')}} "
            f"HAVING count() > 0", {"m": req.model_id, "p": req.policy, "a": began})
        if not rows:
            return False
        last = as_utc(rows[0][0])
        want = round((began - last) / size)
        drifted = self.store.query(
            f"SELECT uniqExact({M.window_start}) FROM {M} FINAL WHERE {M.model_id} = "
            f"{{m:String}} AND {M.window_start} >= {{a:DateTime64(3, 'UTC')}} AND "
            f"{M.window_start} < {{b:DateTime64(3, 'UTC')}} AND "
            f"length(JSONExtractArrayRaw({M.summary}, 'drifted')) > 0",
            {"m": req.model_id, "a": last, "b": began})[0][0]
        return want > 0 and int(drifted) >= want

    def _stored_request(self, policy: str, v: WindowVerdict) -> retrain.RetrainRequest | None:
        """The request stored for this window under ``policy``, if any: the window is
        redone after a crash that may have come between the request's insert and its outbox
        rows, and the request it made (read back as the latest) keeps :func:`retrain.decide`
        from making it again, so it is enqueued again as stored (the outbox keeps one row
        per delivery id: no duplicate)."""
        rows = self.store.query(
            f"SELECT {R.window_end}, {R.train_since}, {R.train_until}, {R.evidence} FROM {R} "
            f"WHERE {R.request_id} = {{r:String}} LIMIT 1",
            {"r": retrain.request_id(policy, v.model_id, v.window_start)})
        if not rows:
            return None
        end, since, until, evidence = rows[0]
        found = json.loads(evidence)
        # a performance request's training data ends with the labels it measured
        labels = (as_utc(until) - (as_utc(end) - v.window_start), as_utc(until)) \
            if "metric" in found else (None, None)
        return retrain.RetrainRequest(
            retrain.request_id(policy, v.model_id, v.window_start), v.model_id, policy,
            v.window_start, as_utc(end), as_utc(since), as_utc(until), found, *labels)

    def _latest_request(self, model_id: str, policy: str) -> datetime | None:
        rows = self.store.query(
            f"SELECT max({R.window_end}), count() FROM {R} WHERE {R.model_id} = {{m:String}} "
            f"AND {R.policy} = {{p:String}}", {"m": model_id, "p": policy})
        if not rows or not rows[0][1]:
            return None
        return as_utc(rows[0][0])


def told(req: retrain.RetrainRequest) -> messages.Asked:
    """What people are told of a request: its policy, id and the version it would replace."""
    return req.policy, req.request_id, str(req.evidence.get("model_version", ""))
