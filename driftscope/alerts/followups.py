"""Follow-ups of an open incident: a performance metric joining an alert whose
performance problem people were told of, or one falling much further.

The rules (:func:`driftscope.alerts.rules.step`) tell a new *kind* of problem joining an
open alert, once (``escalate``). An alert open for the accuracy was then updated in
silence while the F1 and the ROC AUC fell too, or the accuracy halved. Here, for an open
alert whose performance problem people were told of (its first message or an update):

- a performance metric none of its messages named is told once per incident;
- a metric told of is told again when it is much worse: its severity
  (:attr:`~driftscope.alerts.model.Finding.severity`, how far past its bound) at least
  :data:`WORSE` times the one people were last told of.

So a collapse sends a few messages, a metric that wobbles around its bound none, and no
window is told twice. As the rules' updates: never while silenced or with no channel (the
first bad window after tells it), also when acknowledged (the person knew of the
accuracy, not of the F1), with no cooldown (the same incident). A metric is its name,
whatever segment found it (the F1 in FR, then over all events: one metric). The metrics
told of are kept in the alert's details (:data:`TOLD`), so a restart tells nothing again;
an alert stored before they were kept counts its window's metrics as told (an upgrade
sends no follow-up of its own).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from driftscope.alerts.model import WindowVerdict
from driftscope.alerts.rules import Decision

WORSE = 1.5
"""A metric told of is told again when its severity reaches this many times the one last
told (an accuracy told at 0.77 under a bound of 0.85, again at 0.51 or below)."""
TOLD = "told_metrics"
"""Key of the alert's details: metric → [value, severity] people were last told of."""
FOLLOW = "follow_up"
"""Key of the details saved with the window of a follow-up: what it told (a crash before
its messages enqueues the same again)."""
KIND = "performance"

Told = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class FollowUp:
    """What an update about performance metrics tells."""

    new: tuple[str, ...] = ()  # metrics none of the alert's messages named
    worse: tuple[tuple[str, float, float], ...] = ()  # (metric, value told, value now)
    before: tuple[str, ...] = ()  # the metrics told of before it

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics it tells of (their findings lead its message)."""
        return self.new + tuple(m for m, _, _ in self.worse)

    def as_json(self) -> dict[str, Any]:
        """Its part of the webhook body and of the stored details."""
        return {"new_metrics": list(self.new), "before_metrics": list(self.before),
                "worse_metrics": [{"metric": m, "told": told, "now": now}
                                  for m, told, now in self.worse]}

    @classmethod
    def from_json(cls, raw: Any) -> FollowUp | None:
        if not isinstance(raw, Mapping):
            return None
        worse = tuple((str(w["metric"]), float(w["told"]), float(w["now"]))
                      for w in raw.get("worse_metrics") or ())
        return cls(tuple(map(str, raw.get("new_metrics") or ())), worse,
                   tuple(map(str, raw.get("before_metrics") or ())))


def measured(v: WindowVerdict) -> Told:
    """Each performance metric the window found bad: the value and severity of its worst
    finding (over all events or in a segment)."""
    out: Told = {}
    for f in v.findings:
        if f.kind == KIND and math.isfinite(f.statistic):
            severity = min(f.severity, 1e12)
            if f.metric not in out or severity > out[f.metric][1]:
                out[f.metric] = (round(f.statistic, 6), severity)
    return out


def told_of(details: Mapping[str, Any] | None) -> Told | None:
    """The metrics an alert's stored details say people were told of; None where they do
    not say (an alert stored before they were kept)."""
    raw = details.get(TOLD) if details else None
    if not isinstance(raw, Mapping):
        return None
    return {str(m): (float(x[0]), float(x[1])) for m, x in raw.items()
            if isinstance(x, list | tuple) and len(x) == 2}


def follow_up(d: Decision, v: WindowVerdict, stored: Mapping[str, Any] | None,
              quiet: bool) -> tuple[Decision, dict[str, Any], FollowUp | None]:
    """The decision for window ``v`` of an alert (``d``: what the rules decided, for an
    alert they open, update, escalate or resolve; ``stored``: the details of its latest
    version; ``quiet``: silenced, or no channel to tell), the details to save with it
    (:data:`TOLD`, and :data:`FOLLOW` for a follow-up) and the follow-up it tells, if any:
    an ``update`` the rules keep silent becomes an ``escalate`` that tells of performance."""
    alert = d.alert
    assert alert is not None
    if d.action == "open" or (d.action == "update" and d.notify):  # its first message
        return d, _saved(measured(v) if d.notify else {}), None
    told = told_of(stored)
    if told is None:  # stored before: what is failing now counts as told
        told = measured(v) if alert.notified and KIND in alert.kinds else {}
        return d, _saved(told), None
    if d.action == "escalate":  # the rules' update lists the window's findings
        return d, _saved({**told, **measured(v)} if KIND in alert.kinds else told), None
    if (d.action != "update" or quiet or not v.bad or not alert.notified
            or KIND not in alert.kinds):
        return d, _saved(told), None
    now = measured(v)
    new = tuple(m for m in sorted(now) if m not in told)
    worse = tuple((m, told[m][0], now[m][0]) for m in sorted(now)
                  if m in told and now[m][1] >= WORSE * told[m][1])
    if not new and not worse:
        return d, _saved(told), None
    follow = FollowUp(new, worse, tuple(sorted(told)))
    told = {**told, **{m: now[m] for m in follow.metrics}}
    grown = replace(alert, escalated=frozenset({KIND}), escalated_at=v.window_end)
    why = "; ".join([*(["new: " + ", ".join(new)] if new else []),
                     *(["worse: " + ", ".join(m for m, _, _ in worse)] if worse else [])])
    return (Decision("escalate", True, replace(d.track, alert=grown), grown, why),
            {**_saved(told), FOLLOW: follow.as_json()}, follow)


def _saved(told: Told) -> dict[str, Any]:
    return {TOLD: {m: [x, s] for m, (x, s) in sorted(told.items())}}
