"""Retraining triggers, decided purely: drift sustained, performance below a bound, periodic.

A request is identified by (policy, model, window), so deciding twice on the same window
gives the same request id and the outbox sends it once. The suggested training window is
the ``training_window`` that ends with the window that triggered it.

Examples
--------
>>> from datetime import datetime, timedelta, timezone
>>> from driftscope.alerts.config import RetrainPolicy
>>> from driftscope.alerts.model import WindowVerdict
>>> t = datetime(2026, 1, 7, tzinfo=timezone.utc)
>>> v = WindowVerdict("m", "mon", t, t + timedelta(hours=1), 100, metrics={"accuracy": 0.7})
>>> p = RetrainPolicy(name="acc", kind="performance_below", metric="accuracy", bound=0.8)
>>> decide(p, v, drift_streak=0, last_request=None).policy
'acc'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from driftscope.alerts.config import RetrainPolicy
from driftscope.alerts.model import WindowVerdict
from driftscope.monitor.config import ERROR_METRICS, ReferenceSpec
from driftscope.monitor.performance import rule_noise

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DATA_FAULTS = frozenset({"missing_rate", "stuck_value", "type_mismatch"})
"""Quality findings that say a column's data is broken, not that the world changed: a
window where any drifted column has one asks no retraining (a model trained on a stuck
sensor or on missing values learns the fault); the streak asks on its first window
without one. Values out of range and new categories are not among them: a large real
shift shows them too."""


@dataclass(frozen=True)
class RetrainRequest:
    """A request to retrain one model, with its evidence."""

    request_id: str
    model_id: str
    policy: str
    window_start: datetime
    window_end: datetime
    train_since: datetime
    train_until: datetime
    evidence: dict[str, Any] = field(default_factory=dict)
    labels_start: datetime | None = None
    """``performance_below``: the window whose labels were measured (with a
    ``performance.label_delay``, an earlier one than ``window_start``)."""
    labels_end: datetime | None = None

    def payload(self) -> dict[str, Any]:
        labels = (None if self.labels_start is None or self.labels_end is None else
                  {"start": self.labels_start.isoformat(), "end": self.labels_end.isoformat()})
        return {
            "type": "retrain_request",
            "request_id": self.request_id,
            "model_id": self.model_id,
            "policy": self.policy,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "suggested_training_window": {"since": self.train_since.isoformat(),
                                          "until": self.train_until.isoformat()},
            "labels_window": labels,
            "evidence": self.evidence,
        }


def short_of(policy: RetrainPolicy, value: float | None,
             noise: tuple[float | None, float] | None = None) -> bool:
    """Whether a window's ``value`` of a ``performance_below`` policy's metric falls short
    of its bound: under it, or, for an error (``mae``, ``rmse``: lower is better), over
    it (before, ``rmse`` under its bound asked while the model did well). With ``noise``
    (the labels the value was measured on and its standard error, as
    :attr:`WindowVerdict.noise` keeps them), by more than the policy's ``beyond_noise``
    times the sampling error a rule at that bound allows
    (:func:`driftscope.monitor.performance.rule_noise`): an accuracy of 0.8 on 25 labels
    is within one error (0.071) of 0.85.

    >>> rmse = RetrainPolicy(name="e", kind="performance_below", metric="rmse", bound=5.0)
    >>> short_of(rmse, 6.0), short_of(rmse, 4.0), short_of(rmse, None)
    (True, False, False)
    >>> acc = RetrainPolicy(name="a", kind="performance_below", metric="accuracy", bound=0.85)
    >>> short_of(acc, 0.8, (25, 0.08)), short_of(acc, 0.76, (25, 0.085))
    (False, True)
    """
    assert policy.metric is not None and policy.bound is not None
    if value is None:
        return False
    margin = policy.beyond_noise * margin_noise(policy, noise)
    if policy.metric in ERROR_METRICS:
        return value - margin > policy.bound
    return value + margin < policy.bound


def margin_noise(policy: RetrainPolicy, noise: tuple[float | None, float] | None) -> float:
    """The sampling error of a window's value of ``policy``'s metric at its bound (0: not
    known), as a rule's (:func:`driftscope.monitor.performance.rule_noise`)."""
    if noise is None:
        return 0.0
    assert policy.metric is not None and policy.bound is not None
    labels, se = noise
    return rule_noise(policy.metric, policy.bound, labels, se)


def request_id(policy: str, model_id: str, window_start: datetime) -> str:
    raw = f"retrain\x1f{policy}\x1f{model_id}\x1f{window_start.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def _reference(v: WindowVerdict) -> dict[str, Any]:
    """What the window was compared with (``reference``: the monitor's reference spec,
    ``{"kind": "dataset", "dataset": "training", ...}``), for the pipeline to know what
    "drifted" is relative to."""
    try:
        spec = json.loads(v.reference) if v.reference else None
    except ValueError:
        spec = v.reference
    if isinstance(spec, dict):  # (what was set: not the defaults a dump writes out)
        default = ReferenceSpec(kind=spec.get("kind", "previous")).model_dump(mode="json") \
            if spec.get("kind") in ("previous", "seasonal", "initial") else {}
        spec = {k: x for k, x in spec.items() if x is not None
                and (k == "kind" or default.get(k, object()) != x)}
    return {"reference": spec} if spec else {}


def decide(
    policy: RetrainPolicy, v: WindowVerdict, *, drift_streak: int, last_request: datetime | None,
    last_end: datetime | None = None, pending: bool = False, below_streak: int | None = None,
    labels: int | None = None,
) -> RetrainRequest | None:
    """The request this window triggers under ``policy``, if any.

    ``drift_streak`` counts consecutive drifted windows ending with ``v``; the request
    goes out when it reaches ``policy.windows``, or on a later window of the streak while
    it is ``pending`` (past the count with no request yet: its first windows were held by a
    data fault or the model's cooldown), unless a drifted column has a :data:`DATA_FAULTS`
    finding in ``v``; its evidence lists the quality findings of the drifted columns
    (``quality``: ``[feature, metric]``). ``below_streak`` counts consecutive windows
    with ``metric`` under ``bound`` ending with ``v`` (None: not counted by the caller,
    ``v`` alone decides), ``labels`` how many labels ``v``'s metric was measured on.
    ``last_request`` is the end of the window of this policy's last request for the model,
    ``last_end`` that of the window processed before ``v``: ``periodic`` fires when a
    multiple of ``every`` lies after both (after ``v``'s start if neither is known) and by
    ``v``'s end, so a boundary in a window without events (never processed) fires on the
    next window processed. The model's cooldown (one request per incident, across
    policies) is the caller's: :class:`~driftscope.alerts.engine.AlertEngine`.
    """
    if policy.model is not None and policy.model != v.model_id:
        return None
    evidence: dict[str, Any] = {"monitor": v.monitor, **_reference(v)}
    until, labels_start, labels_end = v.window_end, None, None
    if policy.kind == "drift_sustained":
        # (a window too small to test holds the streak: it asks nothing itself)
        due = drift_streak == policy.windows or (drift_streak > policy.windows and pending)
        if not due or not v.drifted:
            return None
        found = v.model_drift  # (not a canary's against the rest: it asks a rollback)
        drift = sorted({f.feature for f in found})
        faulty = {f.feature for f in v.findings
                  if f.kind == "quality" and f.metric in DATA_FAULTS}
        if faulty & set(drift):  # (a stuck sensor, missing values: retraining would learn it)
            return None
        began = v.window_start - (drift_streak - 1) * (v.window_end - v.window_start)
        evidence.update(drifted_windows=drift_streak, drifted=drift,
                        drifted_since=began.isoformat(),  # (the new data: since then;
                        # a window too small to judge inside the streak makes it later)
                        # (the segment last: "x" drifted in country=fr, not everywhere)
                        top=[(f.feature, f.metric, round(f.statistic, 4), round(f.threshold, 4),
                              f.segment) for f in v.top(5) if f in found])
        quality = sorted({(f.feature, f.metric) for f in v.findings
                          if f.kind == "quality" and f.feature in drift})
        if quality:  # what a pipeline must look at before it trains on these windows
            evidence["quality"] = [list(q) for q in quality]
    elif policy.kind == "performance_below":
        assert policy.metric is not None and policy.bound is not None
        value = v.metrics.get(policy.metric)
        if value is None or not short_of(policy, value):
            return None
        if below_streak is not None and below_streak < policy.windows:
            return None  # one window under the bound: label noise as often as not
        noise = v.noise.get(policy.metric)
        if not short_of(policy, value, noise):
            return None  # under the bound within its sampling noise, as a rule lets be
        if last_request is not None and v.window_start < last_request + policy.training_window:
            return None  # the last request already covers this slump
        evidence.update(metric=policy.metric, value=round(value, 6), bound=policy.bound,
                        windows_below=below_streak if below_streak is not None else 1)
        if noise is not None and policy.beyond_noise:
            evidence.update(noise=round(margin_noise(policy, noise), 6),
                            beyond_noise=policy.beyond_noise)
        if labels is not None:
            evidence["labels"] = labels
        # the labels measured: with a label_delay, those of an earlier window; the data
        # the model is to learn from ends there, not with the window that asked
        labels_start = v.labels_start or v.window_start
        labels_end = labels_start + (v.window_end - v.window_start)
        until = min(labels_end, v.window_end)
    else:
        assert policy.every is not None
        every = policy.every
        after = v.window_start if last_end is None else min(last_end, v.window_start)
        after = after if last_request is None else max(after, last_request)
        if (v.window_end - EPOCH) // every <= (after - EPOCH) // every:
            return None
        evidence.update(every=str(every))
    return RetrainRequest(request_id(policy.name, v.model_id, v.window_start), v.model_id,
                          policy.name, v.window_start, v.window_end,
                          until - policy.training_window, until, evidence,
                          labels_start, labels_end)
