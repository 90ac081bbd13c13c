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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from driftscope.alerts import messages, retrain
from driftscope.alerts.config import AlertsConfig
from driftscope.alerts.model import WindowVerdict
from driftscope.alerts.outbox import Outbox
from driftscope.alerts.rules import (
    ACKNOWLEDGED,
    FIRING,
    RESOLVED,
    Decision,
    Policy,
    Track,
    step,
)
from driftscope.alerts.state import AlertStore
from driftscope.durations import as_utc
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

R = S.RETRAIN_REQUESTS
M = S.MONITOR_WINDOWS


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

    def recall(self, model_id: str, monitor: str) -> None:
        """Rebuild a pair's track now, before a backfill forgets the windows it redoes: a
        window the alerts already saw is then ``seen`` (left as it was) rather than
        replayed against today's alert. (Replayed, the windows before an open alert
        resolved it, told Slack "Resolved" while it was still firing and dropped its
        acknowledgement; its real resolution was then deduplicated away.)"""
        key = (model_id, monitor)
        if key not in self._tracks:
            self._tracks[key] = self.alerts.track(*key, lookback=self.lookback)

    def process(self, v: WindowVerdict) -> Decision:
        """Apply one window's verdict; returns the decision taken."""
        key = (v.model_id, v.monitor)
        self.recall(*key)
        track = self._tracks[key]
        silenced = self.alerts.silenced(v.model_id, v.monitor, self.clock(), cached=True)
        d = step(track, v, self.policy, silenced=silenced, announce=bool(self.channels))
        now = self.clock()
        ack: dict[str, Any] = {}
        if d.alert is not None and d.action in ("update", "escalate", "resolve"):
            d, ack = self._keep_acknowledgement(d)
        if d.alert is not None and d.action in ("open", "update", "escalate", "resolve"):
            first = d.alert.escalated if d.action == "escalate" else frozenset()
            self.alerts.save(d.alert, messages.summary(d.alert, v), {
                **messages.details(d.alert, v, self.cfg.top_features, first), **ack}, now)
        if d.notify and d.alert is not None:
            self._enqueue_alert(d, v)
        elif d.action == "recount" and track.alerted_until == v.window_start:
            self._enqueue_again(d, v, silenced)
        if d.action != "seen" and self.requests:
            self._retrain(v, d.track, track.last_end)
        self._tracks[key] = d.track
        return d

    def _enqueue_again(self, d: Decision, v: WindowVerdict, silenced: bool) -> None:
        """The window the alert last changed on, redone after a crash: the crash may have
        come between the alert's save and its messages, so the announcement this window
        made is enqueued again (the outbox keeps one row per delivery id: no duplicate)."""
        alert = d.alert
        if alert is None or not alert.notified or alert.last_window != v.window_start:
            return
        if alert.state == RESOLVED and self.policy.notify_resolved and not silenced:
            self._enqueue_alert(replace(d, action="resolve"), v)
        elif alert.state in (FIRING, ACKNOWLEDGED) and alert.notified_at == v.window_end:
            self._enqueue_alert(replace(d, action="open"), v)
        elif alert.state in (FIRING, ACKNOWLEDGED) and alert.escalated_at == v.window_end:
            self._enqueue_alert(replace(d, action="escalate"), v)

    def _keep_acknowledgement(self, d: Decision) -> tuple[Decision, dict[str, Any]]:
        """A person may have acknowledged the alert since this engine last saw it (`driftscope
        alerts ack`, another process): the stored state and who acknowledged are kept, not
        overwritten by the next window's version."""
        assert d.alert is not None
        found = self.alerts.get(d.alert.alert_id)
        if found is None or found[0].state != ACKNOWLEDGED:
            return d, {}
        details = found[2]
        ack = {k: details[k] for k in ("acknowledged_by",) if k in details}
        if d.alert.state != FIRING:  # resolved: the acknowledgement is kept in the details
            return d, ack
        alert = replace(d.alert, state=ACKNOWLEDGED)
        return replace(d, alert=alert, track=replace(d.track, alert=alert)), ack

    def _enqueue_alert(self, d: Decision, v: WindowVerdict) -> None:
        assert d.alert is not None
        alert, top = d.alert, self.cfg.top_features
        resolved = d.action == "resolve"
        escalated = d.action == "escalate"
        event = "resolved" if resolved else "escalated" if escalated else "firing"
        new = alert.escalated if escalated else frozenset()
        link = messages.grafana_link(self.cfg.grafana_url, self.cfg.grafana_dashboard, v, new)
        body = {"type": "alert", "event": event, **messages.details(alert, v, top, new),
                "summary": messages.summary(alert, v), "grafana_url": link}
        if escalated:
            body["new_kinds"] = sorted(new)
        payloads: dict[str, dict[str, Any]] = {
            "console": messages.console_text(alert, v, top, resolved, new),
            "slack": messages.slack_blocks(alert, v, top, link, resolved, new),
            "webhook": body,
        }
        group = (f"{alert.model_id}\x1f{v.window_start.isoformat()}\x1f"
                 f"{v.window_end.isoformat()}\x1f{event}")
        # one firing and one resolution per alert; an update per window it escalated in
        what = f"escalated@{v.window_end.isoformat()}" if escalated else event
        for channel in self.channels:
            self.outbox.enqueue(f"{alert.alert_id}:{what}:{channel}", alert.alert_id, event,
                                channel, payloads[channel], group_key=group)

    def _retrain(self, v: WindowVerdict, track: Track, last_end: datetime | None) -> None:
        for policy in self.cfg.retrain.policies:
            key = (v.model_id, policy.name)
            if key not in self._last_request:
                self._last_request[key] = self._latest_request(*key)
            last = self._last_request[key]
            req = retrain.decide(policy, v, drift_streak=track.drift_streak,
                                 last_request=last, last_end=last_end)
            if req is None and last is not None and last >= v.window_end:
                req = self._stored_request(policy.name, v)  # this window's, redone?
            elif req is not None and (policy.kind == "drift_sustained"
                                      and self._requested_in_streak(req, track.drift_streak)):
                continue
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

    def _requested_in_streak(self, req: retrain.RetrainRequest, streak: int) -> bool:
        """Whether another monitor of the model already asked under the same policy for a
        streak of drifted windows that overlaps this one: one request per sustained drift
        of the model, whichever of its monitors reached the count first (a pass may judge
        one monitor's windows before another's)."""
        size = req.window_end - req.window_start
        began = req.window_start - (streak - 1) * size
        if self.store.count(
            R, f"{R.model_id} = {{m:String}} AND {R.policy} = {{p:String}} "
            f"AND {R.request_id} != {{r:String}} "
            f"AND {R.window_start} >= {{a:DateTime64(3, 'UTC')}} "
            f"AND {R.window_start} - toIntervalMillisecond(greatest(JSONExtractInt("
            f"{R.evidence}, 'drifted_windows') - 1, 0) * {{s:Int64}}) "
            f"<= {{b:DateTime64(3, 'UTC')}}",
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
        return retrain.RetrainRequest(
            retrain.request_id(policy, v.model_id, v.window_start), v.model_id, policy,
            v.window_start, as_utc(end), as_utc(since), as_utc(until), json.loads(evidence))

    def _latest_request(self, model_id: str, policy: str) -> datetime | None:
        rows = self.store.query(
            f"SELECT max({R.window_end}), count() FROM {R} WHERE {R.model_id} = {{m:String}} "
            f"AND {R.policy} = {{p:String}}", {"m": model_id, "p": policy})
        if not rows or not rows[0][1]:
            return None
        return as_utc(rows[0][0])
