"""What the monitor hands to alerts: plain frozen values, no formatting, no I/O.

A :class:`WindowVerdict` is one monitor's judgement of one closed window: the findings
that are bad (drift that survived false-discovery control, failed quality checks,
performance outside its rules or predicted range) and the headline metrics.

Examples
--------
>>> from datetime import datetime, timezone, timedelta
>>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> f = Finding("drift", "*", "age", "linf", 0.3, 0.1, "permutation", "fdr")
>>> v = WindowVerdict("churn", "m", t, t + timedelta(minutes=5), 400, (f,))
>>> v.bad, round(v.severity, 1)
(True, 3.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from driftscope.monitor.judge import LOWER_IS_WORSE
from driftscope.types import UNBOUNDED_SEVERITY

VERSUS_REST = "versus rest"
"""The ``reason`` of a drift finding judged against the rest of its own window
(``versus_rest``: a canary unlike the version it joins), not against the reference: no
drift of the model's data — neither a window unlike its neighbours nor a streak that asks
for retraining (what it asks is a rollback)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One bad thing in a window: what, where, how much, against which threshold."""

    kind: str  # drift | quality | performance
    segment: str  # "*" for all events, else "key=value"
    feature: str
    metric: str
    statistic: float
    threshold: float
    policy: str
    reason: str  # fdr | rule | band | anomaly | limit | silence
    note: str = field(default="", compare=False)
    """What is wrong in a few words, from the monitor's details of the check
    (:func:`driftscope.alerts.messages.note`): ``new: premium_v2, gold_plus``, ``reference
    range 18 – 90``; "" where there is nothing to add. For people only: no part of a
    finding's identity (``==``, ``hash``), so another new value is the same problem."""

    @property
    def problem(self) -> str:
        """The kind of problem it is for an alert: its ``kind``, or ``silence`` for a
        window with no event at all (``quality.silence``)."""
        return "silence" if self.reason == "silence" else self.kind

    @property
    def lower_is_worse(self) -> bool:
        """Whether a value below the threshold is the bad side (``accuracy < 0.9``)."""
        if self.policy.startswith("rule "):
            return self.policy.split()[1] in ("<", "<=")
        return self.kind == "performance" and self.metric in LOWER_IS_WORSE

    @property
    def severity(self) -> float:
        """How far past the threshold, on one scale (>1 is bad): value / threshold, or
        threshold / value where lower is worse (accuracy 0.3 under 0.9: 3). A finding
        without a finite threshold scores 1, a silence (a window with no event) at least 1."""
        value, bound = self.statistic, self.threshold
        if math.isnan(value) or not math.isfinite(bound):
            return 1.0
        if self.reason == "silence":  # bad whatever its volume z (a small model's is low)
            return max(1.0, abs(value / bound) if bound else 1.0)
        if self.lower_is_worse:
            value, bound = bound, value
        if bound == 0:
            return float("inf") if value else 0.0
        return abs(value / bound)


@dataclass(frozen=True, slots=True)
class WindowVerdict:
    """One monitor's judgement of one closed window of one model."""

    model_id: str
    monitor: str
    window_start: datetime
    window_end: datetime
    n_events: int
    findings: tuple[Finding, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    reference: str = ""
    tests: int = 0
    carried: bool = False
    """The window before moved the same way as this window's drift (see
    :mod:`driftscope.monitor.persistence`): it counts as a bad window of the same streak."""
    persistence_z: float | None = None
    """The statistic of that check (standard errors along this window's drift), if made."""
    follows: bool = True
    """False when the monitor's persistence check found this window's drift unrelated
    to the window before's (another way, a jump, or the drift before has ended; see
    :func:`driftscope.monitor.persistence.check`): a bad window before does not extend
    it in full."""
    labels_start: datetime | None = None
    """With a ``performance.label_delay``: the start of the earlier window whose labels
    the performance metrics and findings measure (None: this window's)."""
    unjudged: frozenset[str] = frozenset()
    """Kinds of check this window could not judge (``performance``: fewer labels than
    ``min_labels``): it is no good window for an alert open for them."""
    judged: frozenset[str] | None = None
    """With segments configured, the checks it made in each segment, as
    ``drift:country=FR``, ``columns:country=FR``, ``performance:country=FR`` (None: no
    segments). A segment an alert is about that is not here could not be judged: too few
    events in the window or in the reference (:func:`driftscope.alerts.rules.waits`)."""
    model_version: str | None = None
    """The model version that served the window, as its monitor counted it (on the
    window's sample, for a model logged as samples; :mod:`driftscope.store.versions`):
    "" when its events carry none, None when not counted (a model none of whose events
    ever carried one, or logged only as profiles, which keep none; a verdict made
    elsewhere). With a reference per version, the version it was judged against."""
    labels_version: str | None = None
    """With ``labels_start``: the version that served that window, counted alike."""
    noise: Mapping[str, tuple[float | None, float]] = field(default_factory=dict)
    """Each of :attr:`metrics`' sampling noise: the labels it was measured on (effective,
    for a stratified sample's weighted rows; None: not recorded) and its standard error
    (a ``performance_below`` retraining policy's ``beyond_noise``,
    :func:`driftscope.alerts.retrain.decide`). Empty: not known (a verdict made
    elsewhere), the plain bound."""

    @property
    def bad(self) -> bool:
        return bool(self.findings)

    @property
    def drifted(self) -> bool:
        """Whether the model's data drifted (:attr:`model_drift`)."""
        return bool(self.model_drift)

    @property
    def model_drift(self) -> tuple[Finding, ...]:
        """The drift findings against the reference: the model's data drifted (not a
        segment's against the rest of its window, :data:`VERSUS_REST`)."""
        return tuple(f for f in self.findings if f.kind == "drift" and f.reason != VERSUS_REST)

    @property
    def severity(self) -> float:
        finite = [f.severity for f in self.findings if f.severity != float("inf")]
        if any(f.severity == float("inf") for f in self.findings):
            return max([*finite, UNBOUNDED_SEVERITY])
        return max(finite, default=0.0)

    def top(self, n: int, first: frozenset[str] = frozenset()) -> list[Finding]:
        """The ``n`` most severe findings, ties by feature name (deterministic); those of
        the kinds in ``first`` before the others (an update that tells of them). The most
        severe finding of each kind is always among them (when ``n`` allows): severities
        of different kinds do not compare (an accuracy of 0.56 under 0.8 scores 1.4 beside
        drifts of 9), and a "drift and performance alert" listed five drifts and not the
        accuracy."""
        ordered = sorted(self.findings, key=lambda f: (f.problem not in first,
                                                       -min(f.severity, 1e12), f.feature))
        leaders: dict[str, int] = {}
        for i, f in enumerate(ordered):
            leaders.setdefault(f.problem, i)
        keep = set(sorted(leaders.values())[:n])
        keep |= set([i for i in range(len(ordered)) if i not in keep][:n - len(keep)])
        return [ordered[i] for i in sorted(keep)]
