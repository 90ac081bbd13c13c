"""The ``alerts:`` section of driftscope.yaml: routing, noise control and retraining.

URLs are secrets: they come from ``DRIFTSCOPE_SLACK_WEBHOOK_URL`` and
``DRIFTSCOPE_WEBHOOK_URL`` only, never from this file.

Examples
--------
>>> a = AlertsConfig.model_validate({"slack": True, "cooldown": "30m",
...     "retrain": {"policies": [{"name": "drift", "kind": "drift_sustained", "windows": 3}]}})
>>> a.cooldown.total_seconds(), a.min_windows, a.retrain.policies[0].windows
(1800.0, 2, 3)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from driftscope.durations import parse_duration
from driftscope.monitor.config import ERROR_METRICS, RULE_NOISE, Section, bound_problem


class RetrainPolicy(Section):
    """When to ask for retraining.

    ``drift_sustained``: the model drifted ``windows`` consecutive windows (default 3);
    ``performance_below``: ``metric`` was below ``bound`` — an error (``mae``, ``rmse``:
    lower is better) above it — in ``windows`` consecutive windows (default 2, as alerts'
    ``min_windows``: one window's label noise does not ask); its bound is checked as a
    fixed rule's ``metric < bound`` (``>`` for an error;
    :func:`~driftscope.monitor.config.bound_problem`), and, as a rule's, the window that
    asks must be past it by more than ``beyond_noise`` standard errors (default 1, a
    rule's; ``0``: the plain bound); ``periodic``: every ``every``.

    >>> try:
    ...     RetrainPolicy(name="floor", kind="performance_below", metric="accuracy", bound=90)
    ... except ValueError as exc:
    ...     print(exc.errors()[0]["msg"])
    Value error, accuracy is a share in [0, 1]; 90 looks like a percentage: 0.9
    """

    name: str = Field(min_length=1)
    kind: Literal["drift_sustained", "performance_below", "periodic"]
    model: str | None = None
    windows: int = Field(3, ge=1)
    metric: str | None = None
    bound: float | None = Field(None, allow_inf_nan=False)
    every: timedelta | None = None
    training_window: timedelta = timedelta(days=7)
    beyond_noise: float = Field(RULE_NOISE, ge=0, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _windows_of_kind(cls, data: Any) -> Any:
        """``windows`` not given: 2 for ``performance_below``, else the field's default."""
        if (isinstance(data, dict) and data.get("kind") == "performance_below"
                and data.get("windows") is None):
            data = {**data, "windows": PERFORMANCE_WINDOWS}
        return data

    @field_validator("bound")
    @classmethod
    def _in_range(cls, v: float | None, info: ValidationInfo) -> float | None:
        """A ``performance_below`` bound that never or always fires is refused as the fixed
        rule ``metric < bound`` is — ``metric > bound`` for an error — (``bound: 90`` on
        accuracy, a percentage, asked on every window; ``0`` never asked)."""
        if v is not None and info.data.get("kind") == "performance_below":
            metric = info.data.get("metric")
            problem = bound_problem(metric, ">" if metric in ERROR_METRICS else "<", v)
            if problem:
                raise ValueError(problem)
        return v

    @field_validator("every", "training_window", mode="before")
    @classmethod
    def _durations(cls, v: Any) -> timedelta | None:
        d = None if v is None else parse_duration(v)
        if d is not None and d <= timedelta(0):
            raise ValueError("must be a positive duration, e.g. 7d")
        return d

    @model_validator(mode="after")
    def _complete(self) -> RetrainPolicy:
        if self.kind == "performance_below" and (self.metric is None or self.bound is None):
            raise ValueError("a performance_below policy needs metric and bound")
        if self.kind == "periodic" and self.every is None:
            raise ValueError("a periodic policy needs every, e.g. 7d")
        # a field of another kind is a mistake (the kind mistyped or mixed up): refused,
        # not ignored
        # (by value, not by what was given: a null, or a configuration dumped and read
        # back, which carries every default, is fine)
        stray = sorted(f for f, kinds in _KIND_FIELDS.items()
                       if self.kind not in kinds
                       and getattr(self, f) != type(self).model_fields[f].default)
        if stray:
            raise ValueError(f"{', '.join(stray)} does not apply to a {self.kind} policy "
                             f"(drift_sustained: windows; performance_below: metric, bound, "
                             f"windows; periodic: every)")
        return self


PERFORMANCE_WINDOWS = 2
"""Default ``windows`` of a ``performance_below`` policy (alerts' ``min_windows``)."""
_KIND_FIELDS = {"windows": {"drift_sustained", "performance_below"},
                "metric": {"performance_below"},
                "bound": {"performance_below"}, "every": {"periodic"}}


class RetrainConfig(Section):
    """Retraining policies and where requests go (Kafka topic, webhook, command)."""

    policies: list[RetrainPolicy] = Field(default_factory=list)
    kafka: bool = True
    webhook: bool = False
    command: list[str] | None = None
    cooldown: timedelta = Field(
        timedelta(days=7),
        description="after a drift_sustained or performance_below request for a model, no "
        "other request for it (any policy, any monitor) until this much event time has "
        "passed; a periodic boundary in it is skipped. 0s: off",
    )
    command_timeout: timedelta = Field(
        timedelta(seconds=60),
        description="how long `command` may run; past it its whole process group is killed",
    )

    @field_validator("command_timeout", mode="before")
    @classmethod
    def _timeout(cls, v: Any) -> timedelta:
        d = parse_duration(v)
        if d <= timedelta(0):
            raise ValueError("must be a positive duration, e.g. 60s")
        return d

    @field_validator("cooldown", mode="before")
    @classmethod
    def _cooldown(cls, v: Any) -> timedelta:
        d = parse_duration(v)
        if d < timedelta(0):
            raise ValueError("must not be negative (0s: no cooldown)")
        return d

    @field_validator("policies")
    @classmethod
    def _unique(cls, v: list[RetrainPolicy]) -> list[RetrainPolicy]:
        # a request's id is made of the model and the policy's name: a name may repeat
        # across models, not within one (a policy without ``model`` covers every model)
        for i, p in enumerate(v):
            for q in v[:i]:
                if p.name == q.name and (p.model is None or q.model is None
                                         or p.model == q.model):
                    raise ValueError(f"policy name {p.name!r} is used twice for the same "
                                     "model; a request's id is made of it")
        return v

    @field_validator("command")
    @classmethod
    def _program(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and not (v and v[0]):
            raise ValueError("needs the program to run first, e.g. [./retrain.sh]")
        return v


class AlertsConfig(Section):
    """Where alerts go and how noise is kept down."""

    console: bool = True
    slack: bool = False
    webhook: bool = False
    grafana_url: str | None = None
    grafana_dashboard: str = Field(
        "driftscope-model-drift", description="uid of the dashboard alerts link to (the "
        "default: the dashboard of the alert's leading finding — model drift, data quality "
        "or performance)"
    )
    cooldown: timedelta = timedelta(hours=1)
    min_windows: int = Field(2, ge=1, description="consecutive bad windows before paging")
    resolve_windows: int = Field(2, ge=1, description="consecutive good windows to resolve")
    notify_resolved: bool = True
    unjudged_wait: timedelta | None = Field(
        timedelta(days=1),
        description="how long windows that cannot judge an open alert (too few events, in "
        "all or in the segments it is about; no labels) hold it open; then it resolves as "
        "'not judged', not as recovered. null: for ever",
    )
    top_features: int = Field(5, ge=1, le=50)
    retries: int = Field(5, ge=0, le=20)
    backoff: timedelta = timedelta(milliseconds=500)
    backoff_max: timedelta = timedelta(seconds=30)
    timeout: timedelta = timedelta(seconds=10)
    group_wait: timedelta = Field(
        timedelta(minutes=5),
        description="`alerts run --follow` sends a message group once the monitor pass that "
        "enqueued it has finished, or at the latest this long after its newest alert",
    )
    retrain: RetrainConfig = RetrainConfig()

    @field_validator("cooldown", "backoff", "backoff_max", "timeout", "group_wait",
                     "unjudged_wait", mode="before")
    @classmethod
    def _duration(cls, v: Any, info: ValidationInfo) -> timedelta | None:
        if v is None and info.field_name == "unjudged_wait":
            return None
        d = parse_duration(v)
        if info.field_name == "timeout" and d <= timedelta(0):
            raise ValueError("must be a positive duration, e.g. 10s")
        if d < timedelta(0):
            raise ValueError("must not be negative")
        return d

    @model_validator(mode="before")
    @classmethod
    def _cap_follows(cls, data: Any) -> Any:
        """No ``backoff_max`` given: the cap is at least ``backoff`` (a longer first wait)."""
        if isinstance(data, dict) and "backoff" in data and "backoff_max" not in data:
            try:
                wait = parse_duration(data["backoff"])
            except (TypeError, ValueError):
                return data  # the field's own validator says what is wrong
            if wait > cls.model_fields["backoff_max"].default:
                data = {**data, "backoff_max": data["backoff"]}
        return data

    @model_validator(mode="after")
    def _backoff(self) -> AlertsConfig:
        if self.backoff_max < self.backoff:
            raise ValueError(f"backoff_max ({self.backoff_max}) is below backoff "
                             f"({self.backoff})")
        return self
