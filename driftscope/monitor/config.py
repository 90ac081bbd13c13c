"""The ``monitors:`` section of driftscope.yaml, validated by pydantic.

A monitor watches one model: which features, outputs and projections; which detectors
and how their thresholds are set; the reference to compare with; segments; data-quality
checks; performance metrics; and how "is it bad" is decided.

Examples
--------
>>> m = MonitorConfig.model_validate({
...     "name": "churn-drift", "model": "churn", "features": ["age", "plan"],
...     "reference": {"kind": "previous", "windows": 12}})
>>> m.reference.kind, [(d.name, d.on) for d in m.detectors], m.fdr.method, m.fdr.alpha
('previous', [('emd', 'numeric'), ('linf', 'categorical')], 'bh', 0.01)
>>> ReferenceSpec(kind="seasonal").width, ReferenceSpec().width
(3, 12)
"""

from __future__ import annotations

import difflib
import math
import re
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from driftscope.durations import as_utc, parse_duration, show_duration


def whole_seconds(size: timedelta) -> timedelta:
    """A window size: a whole number of seconds, at least 1 s (windows are keyed by it)."""
    seconds = size.total_seconds()
    if seconds < 1 or seconds % 1:
        raise ValueError(f"{seconds:g} s: expected a whole number of seconds, at least 1 s")
    return size


class Section(BaseModel):
    """Base of configuration sections: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ThresholdSpec(Section):
    """How a detector's threshold is set (see ``driftscope.detectors.significance``)."""

    policy: Literal["permutation", "reference-quantile", "constant", "p-value"] = (
        "reference-quantile"
    )
    n: int = Field(200, ge=1, description="permutations")
    alpha: float = Field(0.05, gt=0, lt=1)
    q: float = Field(0.99, gt=0, lt=1)
    n_boot: int = Field(200, ge=10)
    floor: float = Field(0.0, ge=0)
    value: float = Field(0.1, ge=0, description="the constant threshold")


DETECTOR_NAMES = frozenset({
    "chi2", "emd", "hellinger", "jensen_shannon", "kl", "ks", "l1", "linf", "mmd", "ot_emd",
    "projected", "psi", "sliced_wasserstein",
})
"""The detector registry's names (:mod:`driftscope.detectors.registry`), named here so that
loading a configuration does not import every detector (seconds of numpy, scipy, POT …);
a test keeps the two equal."""


DETECTOR_INPUT_KINDS = {
    "chi2": "univariate", "emd": "numeric", "hellinger": "univariate",
    "jensen_shannon": "univariate", "kl": "univariate", "ks": "numeric", "l1": "univariate",
    "linf": "univariate", "mmd": "multivariate", "ot_emd": "multivariate",
    "projected": "multivariate", "psi": "univariate", "sliced_wasserstein": "multivariate",
}
"""Each registry detector's ``input_kind`` (what its rows are about: a multivariate one's
carry feature ``multivariate`` only); a test keeps it equal to the registry's."""


def detector_kind(name: str) -> str:
    """A detector's input kind: :data:`DETECTOR_INPUT_KINDS`, else the registry's once it
    is imported (a detector added at run time), else ``univariate``."""
    if name in DETECTOR_INPUT_KINDS:
        return DETECTOR_INPUT_KINDS[name]
    registry = sys.modules.get("driftscope.detectors.registry")
    if registry is not None and hasattr(registry, "DETECTORS"):
        if name in registry.names():  # (else not registered: the name check says so)
            return str(getattr(registry.DETECTORS.cls(name), "input_kind", "univariate"))
    return "univariate"


def detector_names() -> list[str]:
    """The valid detector names, sorted: the registry's once it is imported (a detector
    added at run time counts), else :data:`DETECTOR_NAMES`."""
    registry = sys.modules.get("driftscope.detectors.registry")
    if registry is not None and hasattr(registry, "DETECTORS"):
        return list(registry.names())
    return sorted(DETECTOR_NAMES)


class DetectorSpec(Section):
    """One detector by registry name, its parameters, threshold and minimum effect.

    ``min_effect`` is the practical-significance floor: a feature counts as drifted only
    when its effect is at least this large, whatever its p-value (the statistic, or where
    the detector gives one ``details["effect"]``: L-inf's reads a rare category's share on
    the square-root scale).
    """

    name: str = "emd"
    params: dict[str, Any] = Field(default_factory=dict)
    threshold: ThresholdSpec = ThresholdSpec()
    min_effect: float | None = Field(None, ge=0)
    on: Literal["all", "numeric", "categorical"] = Field(
        "all", description="which features it scores: e.g. EMD on numeric, L-inf on categorical"
    )

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        """A misspelt name is refused at load, not by every window at run time."""
        valid = detector_names()
        if v not in valid:
            close = difflib.get_close_matches(v, valid, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ValueError(f"unknown detector {v!r}{hint} (valid names: {', '.join(valid)})")
        return v

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        """YAML 1.1 reads an unquoted ``on:`` key as ``True``; take it as ``on``."""
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if k is True else k): v for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _scores_what_it_is_on(self) -> DetectorSpec:
        """An ``on`` that leaves the detector nothing it can score is refused (found in
        review: ``mmd`` with ``on: categorical`` loaded, and never ran)."""
        kind = detector_kind(self.name)
        takes = {"numeric": "numeric", "multivariate": "numeric", "categorical": "categorical"}
        if kind in takes and self.on != "all" and self.on != takes[kind]:
            what = "rows of numeric features" if kind == "multivariate" else f"{kind} features"
            raise ValueError(f"detector {self.name} scores {what} only: on: {self.on} "
                             f"leaves it nothing (drop `on`, or on: {takes[kind]})")
        return self


DEFAULT_MIN_EFFECT = {"linf": 0.1, "l1": 0.2, "emd": 0.05}
"""Practical-significance floors of the default detectors: 10 points of a category's share,
or of its square root for a rare one (``linf``: :func:`driftscope.detectors.linf.effects`),
20 points of total variation (``l1``), a twentieth of the reference's
interquartile range (``emd``, normalised: 0.07 standard deviations of a normal feature;
Evidently's default is 0.1). Below them a very large window's significant difference is
one nobody acts on."""

DEFAULT_DETECTORS = (
    DetectorSpec(name="emd", on="numeric"),
    DetectorSpec(name="linf", on="categorical"),
)
"""The default monitor configuration's detectors — EMD on numeric features (each side
winsorised at its own 1 % tails: ``params: {trim: 0}`` for the plain distance), L-inf on
categorical ones, both with reference-quantile thresholds (q = 0.99, 200 resamples) and
p-values from the same bootstrap null. ``driftscope evaluate`` measures exactly these."""

DEFAULT_REFERENCE_WINDOWS = {"previous": 12, "seasonal": 3, "initial": 12}
"""Reference width in windows when ``windows`` is not given: 12 windows before for
``previous``; 3 windows centred on the same window one period earlier for ``seasonal``
(12 gave 93 false alarms per 1,000 windows on daily cycles in the harness, 3 gave 0);
the model's first 12 windows for ``initial``."""


VERSION = "{model_version}"
"""In a ``dataset`` reference's name: the version that served the window judged."""


class ReferenceSpec(Section):
    """What a window is compared with.

    ``fixed``: events between ``start`` and ``end``; ``dataset``: an uploaded dataset
    (``driftscope reference upload``); ``previous``: the ``windows`` windows before the
    current one (sliding); ``seasonal``: the same span one ``period`` (1d or 1w) earlier,
    widened to ``windows`` windows centred on it; ``initial``: the span of the model's first
    ``windows`` windows holding at least ``min_events`` events each (the first hours after
    deployment), whatever their dates — windows before its end are not scored. Unset, ``windows`` is
    :data:`DEFAULT_REFERENCE_WINDOWS` of the kind (:attr:`width`).

    A ``dataset`` name may hold ``{model_version}``: each window is compared with the
    dataset of the version that served it (:meth:`dataset_for`), the training set of the
    model that made its predictions. An ``initial`` reference with ``per_version`` starts
    again with each version: a window is compared with the first ``windows`` windows the
    version that served it served (:attr:`by_version`).

    >>> spec = ReferenceSpec(kind="dataset", dataset="training-{model_version}")
    >>> spec.dataset_for("3"), spec.takes("training-3"), spec.takes("training")
    ('training-3', True, False)
    """

    kind: Literal["fixed", "dataset", "previous", "seasonal", "initial"] = "previous"
    start: datetime | None = None
    end: datetime | None = None
    dataset: str | None = None
    windows: int | None = Field(None, ge=1)
    period: timedelta = timedelta(days=1)
    per_version: bool = Field(
        False, description="initial only: the first windows of the model version that "
        "served the window, not of the model (a retrained model learns its own normal)")

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, v: Any) -> timedelta:
        return parse_duration(v)

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        """Times without a zone are UTC, like the store's."""
        return None if v is None else as_utc(v)

    @model_validator(mode="after")
    def _complete(self) -> ReferenceSpec:
        if self.kind == "fixed" and (self.start is None or self.end is None):
            raise ValueError("a fixed reference needs start and end")
        if self.kind == "fixed" and self.start and self.end and self.start >= self.end:
            raise ValueError("a fixed reference needs start before end")
        if self.kind == "dataset" and not self.dataset:
            raise ValueError("a dataset reference needs dataset: the uploaded name")
        named = re.findall(r"\{[A-Za-z_]\w*\}", self.dataset or "")
        if any(n != VERSION for n in named):
            raise ValueError(f"dataset {self.dataset!r}: the one name in braces it may hold "
                             f"is {VERSION} (the version that served the window)")
        if self.per_version and self.kind != "initial":
            raise ValueError(f"per_version is for an initial reference; a {self.kind} "
                             f"reference's dataset name holds {VERSION} instead"
                             if self.kind == "dataset" else
                             f"per_version is for an initial reference, not {self.kind}")
        if len(named) > 1 or self.dataset == VERSION:
            raise ValueError(f"dataset {self.dataset!r}: {VERSION} once, beside a fixed "
                             f"part (training-{VERSION}), so that its uploads are told "
                             "from the model's other datasets")
        return self

    @property
    def versioned(self) -> bool:
        """Whether the dataset is each window's version's (its name holds ``{model_version}``)."""
        return self.kind == "dataset" and VERSION in (self.dataset or "")

    @property
    def by_version(self) -> bool:
        """Whether a window's reference is that of the version that served it: a dataset
        per version, or an ``initial`` reference ``per_version``."""
        return self.versioned or (self.kind == "initial" and self.per_version)

    def dataset_for(self, version: str) -> str:
        """The dataset name a window served by ``version`` is compared with."""
        assert self.dataset is not None
        return self.dataset.replace(VERSION, version)

    def takes(self, name: str) -> bool:
        """Whether an upload named ``name`` is (one of) this reference's datasets."""
        if self.kind != "dataset" or self.dataset is None:
            return False
        if not self.versioned:
            return name == self.dataset
        pattern = ".+".join(re.escape(part) for part in self.dataset.split(VERSION))
        return re.fullmatch(pattern, name) is not None

    @property
    def width(self) -> int:
        """Reference width in windows (``previous``, ``seasonal`` and ``initial``)."""
        if self.windows is not None:
            return self.windows
        return DEFAULT_REFERENCE_WINDOWS.get(self.kind, 1)

    def check_window(self, size: timedelta) -> None:
        """A seasonal reference must lie on whole windows, wholly before the current one."""
        if self.kind != "seasonal":
            return
        if self.period % size:
            raise ValueError(
                f"reference.period = {show_duration(self.period)} is not a whole number of "
                f"{show_duration(size)} windows")
        after = self.width - 1 - (self.width - 1) // 2  # windows after the centre
        if self.period < (after + 1) * size:
            raise ValueError(
                f"reference: {self.width} seasonal windows of {show_duration(size)} centred one "
                f"period ({show_duration(self.period)}) earlier reach the current window; use a "
                f"period of at least {show_duration((after + 1) * size)} or fewer windows")


class ProjectionSpec(Section):
    """A numeric projection of several features, monitored like a feature.

    ``mean`` and ``norm`` are analytical (row mean, Euclidean norm); ``random`` is a
    seeded random unit direction (``dim`` of them, named ``name.0`` …).
    """

    name: str
    kind: Literal["mean", "norm", "random"] = "mean"
    features: list[str] = Field(min_length=1)
    dim: int = Field(1, ge=1, le=32)
    seed: int = 0


class QualitySpec(Section):
    """Zero-regret data-quality checks; each limit is a fixed rule."""

    enabled: bool = True
    missing_rate_max: float = Field(0.05, ge=0, le=1)
    out_of_range_max: float = Field(0.05, ge=0, le=1)
    new_categories_max: float = Field(0.02, ge=0, le=1)
    stuck_value_max: float = Field(
        0.1, ge=0, le=1, description="share of a numeric column's values equal to one "
        "value, above that value's reference share (a sensor or default stuck)")
    schema_violations_max: int = Field(0, ge=0)
    volume_z: float = Field(6.0, gt=0, description="robust z-score of the event count")
    silence: timedelta | None = Field(
        None, description="no event ingested for this long (wall time) is an outage: the "
        "windows since the last event close, each empty one a bad volume finding")

    @field_validator("silence", mode="before")
    @classmethod
    def _silence(cls, v: Any) -> timedelta | None:
        if v is None:
            return None
        d = parse_duration(v)
        if d <= timedelta(0):
            raise ValueError("quality.silence must be positive (or unset: off)")
        return d


class PerformanceSpec(Section):
    """Metrics computed once labels arrive (from events or feedback)."""

    task: Literal["classification", "regression"] = "classification"
    prediction: str = Field(description="the output key holding the predicted class/value")
    score: str | None = Field(None, description="output key with the positive-class score")
    positive: str = "1"
    metrics: list[Literal["accuracy", "f1", "roc_auc", "mae", "rmse"]] = Field(
        default_factory=list
    )
    min_labels: int = Field(20, ge=1)
    label_delay: timedelta = Field(
        timedelta(0), description="how long after a window closes its labels are in: its "
        "performance is computed by the pass of the window closing that much later")

    @field_validator("label_delay", mode="before")
    @classmethod
    def _delay(cls, v: Any) -> timedelta:
        d = parse_duration(v)
        if d < timedelta(0):
            raise ValueError("label_delay cannot be negative")
        return d

    def check_window(self, size: timedelta, horizon: timedelta | None = None) -> None:
        """The delay is a whole number of windows (the labelled window is a closed window
        that many before) and within the collector's ``feedback_horizon`` (labels given
        later are never joined)."""
        if self.label_delay % size:
            raise ValueError(
                f"performance.label_delay = {show_duration(self.label_delay)} is not a whole "
                f"number of {show_duration(size)} windows")
        if horizon is not None and self.label_delay and self.label_delay + size > horizon:
            raise ValueError(
                f"performance.label_delay = {show_duration(self.label_delay)} plus a "
                f"{show_duration(size)} window is longer than collector.feedback_horizon = "
                f"{show_duration(horizon)}: the window's first events' labels, given that late, "
                "are never joined to them; raise the horizon")

    def lag(self, size: timedelta) -> int:
        """The delay in windows of ``size``."""
        return int(self.label_delay // size)

    @model_validator(mode="after")
    def _task_metrics(self) -> PerformanceSpec:
        wrong = [m for m in self.metrics if m not in TASK_METRICS[self.task]]
        if wrong:
            raise ValueError(
                f"performance.metrics: {', '.join(wrong)} not computed for task {self.task} "
                f"(its metrics: {', '.join(TASK_METRICS[self.task])})")
        return self

    def chosen(self) -> list[str]:
        if self.metrics:
            return list(self.metrics)
        return list(TASK_METRICS[self.task])


TASK_METRICS = {"classification": ("accuracy", "f1", "roc_auc"), "regression": ("mae", "rmse")}
TASK_METRICS_ALL = frozenset(m for ms in TASK_METRICS.values() for m in ms)
"""The performance metrics: their rows carry feature ``*``."""
OUTPUT_PREFIX, PROJECTION_PREFIX = "output:", "projection:"
"""How rows name an output and a projection (``driftscope.monitor.frame.OUTPUT``)."""
QUALITY_METRICS = ("missing_rate", "out_of_range", "new_categories", "stuck_value",
                   "type_mismatch", "volume", "schema_violations")
"""The metrics of data-quality rows (:mod:`driftscope.monitor.quality`)."""


SHARE_METRICS = frozenset({"accuracy", "f1", "roc_auc", "missing_rate", "out_of_range",
                           "new_categories", "stuck_value", "type_mismatch"})
"""Metrics whose values are shares in [0, 1]: a rule's bound outside it never fires."""
DISTANCE_RANGES = {"linf": 1.0, "ks": 1.0, "hellinger": 1.0, "jensen_shannon": 1.0,
                   "l1": 2.0}
"""Drift distances of known range, by their upper end (the lower is 0): a change of a
bin's share (``linf``), of the CDF (``ks``), Hellinger and base-2 Jensen–Shannon between
frequency vectors, and ``l1``, twice the total variation (:mod:`driftscope.detectors`)."""
NON_NEGATIVE_METRICS = frozenset({"mae", "rmse", "schema_violations",
                                  "emd", "psi", "kl", "chi2"})
"""Metrics never below 0 (errors, a count, the unbounded distances; not ``mmd``, whose
unbiased estimate can be)."""
ERROR_METRICS = frozenset(TASK_METRICS["regression"])
"""Performance metrics that are errors: lower is better (a ``performance_below``
retraining policy on one would ask while the model does well)."""


def bound_problem(metric: str | None, op: str | None, value: float) -> str | None:
    """What is wrong with ``metric op value`` as a bound that should sometimes fire and
    sometimes not, in one line (None: nothing known against it). A share's or a distance's
    bound lies in its range (``accuracy < 90``, a percentage, fired on every window) and
    is no end of it that never or always fires (``accuracy < 0``, ``linf >= 0``); an
    error's, a count's or an unbounded distance's is not negative.

    >>> bound_problem("accuracy", "<", 90)
    'accuracy is a share in [0, 1]; 90 looks like a percentage: 0.9'
    >>> bound_problem("l1", ">", 2)
    'l1 > 2 never fires: l1 is a distance in [0, 2]'
    >>> bound_problem("mae", "<", 0)
    'mae < 0 never fires: mae is never negative'
    >>> bound_problem("accuracy", "<", 1) is None, bound_problem("mmd", ">", -1) is None
    (True, True)
    >>> bound_problem("volume", "<", 50)  # doctest: +ELLIPSIS
    "volume < 50: volume's value is how far ... the window's count is, either way (a z ≥ 0)..."
    """
    if metric == "volume" and op in ("<", "<="):  # (flagged 29 of 29 healthy windows)
        return (f"volume {op} {value + 0.0:g}: volume's value is how far off its expectation "
                "the window's count is, either way (a z ≥ 0), not the count: bound it from "
                "above (volume > 4), or lower quality.volume_z")
    if metric in SHARE_METRICS:
        high, what = 1.0, "is a share in [0, 1]"
    elif metric in DISTANCE_RANGES:
        high = DISTANCE_RANGES[metric]
        what = f"is a distance in [0, {high:g}]"
    elif metric in NON_NEGATIVE_METRICS:
        high, what = math.inf, "is never negative"
    else:
        return None
    shown = f"{value + 0.0:g}"  # (not "-0")
    if value < 0 and high == math.inf:
        return f"{metric} {what}; {shown} is below 0"
    if not 0 <= value <= high:
        why = (f"{shown} looks like a percentage: {value / 100:g}"
               if high == 1 and 1 < value <= 100 else f"{shown} is outside it")
        return f"{metric} {what}; {why}"
    if (op, value) in (("<", 0), (">", high)):
        return f"{metric} {op} {shown} never fires: {metric} {what}"
    if (op, value) in (("<=", high), (">=", 0)):
        return f"{metric} {op} {shown} always fires: {metric} {what}"
    return None


def difference_problem(metric: str | None, op: str | None, value: float) -> str | None:
    """What is wrong with ``metric versus rest op value`` (a performance metric's value in
    a segment less the rest of its window's), in one line: a share's difference lies in
    [-1, 1], and a rule fires only past a real difference, never on a segment as good as
    the rest (``accuracy versus rest < 0.02`` fired on a canary as good as the rest), nor
    never at all. None for a metric that is no performance metric: the monitor says so.

    >>> print(difference_problem("accuracy", "<", 0.02))
    accuracy versus rest < 0.02 fires on a segment as good as the rest; did you mean < -0.02?
    >>> print(difference_problem("mae", "<", 1.0))
    mae versus rest < 1 fires on a segment as good as the rest; did you mean > 1?
    >>> print(difference_problem("accuracy", "<", -5))
    accuracy versus rest: a difference of shares lies in [-1, 1]; -5 is outside it
    >>> print(difference_problem("f1", "<=", -1))
    f1 versus rest <= -1 never fires: a difference of shares lies in [-1, 1] (and must be \
past the bound by its noise)
    >>> difference_problem("rmse", ">", 0.5), difference_problem("emd", ">", -1)
    (None, None)
    """
    if metric not in TASK_METRICS_ALL or op is None:
        return None
    shown = f"{value + 0.0:g}"
    share = metric in SHARE_METRICS  # (accuracy, F1, ROC AUC; MAE and RMSE are not)
    if share and not -1 <= value <= 1:
        return (f"{metric} versus rest: a difference of shares lies in [-1, 1]; {shown} is "
                "outside it")
    if share and (op, value) in (("<", -1), ("<=", -1), (">", 1), (">=", 1)):
        return f"{metric} versus rest {op} {shown} never fires: a difference of shares lies " \
            "in [-1, 1] (and must be past the bound by its noise)"
    if {"<": 0 < value, "<=": 0 <= value, ">": 0 > value, ">=": 0 >= value}[op]:
        worse = f"< {-abs(value):g}" if share else f"> {abs(value):g}"  # (the worse side)
        return (f"{metric} versus rest {op} {shown} fires on a segment as good as the rest; "
                f"did you mean {worse}?")
    return None


VERSION_KEY = "model_version"
"""The segment key of the model version that served an event (``segments:
[model_version]``): its ``model_version`` field, not a key of its segment map."""

RULE_NOISE = 1.0
"""Standard errors a performance value must be beyond a rule's bound by (``beyond_noise``'s
default): ``accuracy < 0.85`` at a steady 0.90 on 25 labels a window flagged 232 of 1,000
windows (35 alerts) at the plain bound, 25 (none) beyond one standard error."""


class RuleSpec(Section):
    """A fixed rule on a metric, e.g. ``{metric: accuracy, op: "<", value: 0.9}``.

    ``feature``: the rows it judges (``*``: all of the metric's rows). ``beyond_noise``: a
    performance value fires only when it is beyond ``value`` by more than this many of its
    standard errors (an accuracy's at the bound: the binomial error of ``value`` on the
    window's labels); ``0`` (or ``false``) fires as soon as it crosses, ``true`` is 1.
    Rows without a standard error (quality, drift) fire at ``value``.

    >>> RuleSpec(metric="accuracy", op="<", value=0.9).beyond_noise
    1.0
    >>> try:
    ...     RuleSpec(metric="accuracy", op="<", value=90)
    ... except ValueError as exc:
    ...     print(exc.errors()[0]["msg"])
    Value error, accuracy is a share in [0, 1]; 90 looks like a percentage: 0.9
    """

    metric: str
    op: Literal["<", "<=", ">", ">="]
    versus: Literal["rest"] | None = Field(
        None, description="rest: a segment's value less the metric on the rest of its "
        "window's events (a canary's accuracy against the other versions' in the same "
        "window), beyond the noise of the difference")
    value: float
    feature: str = "*"
    segment: str | None = Field(
        None, description="the segment rows it judges: a key (model_version: each value's), "
        "one value (country=FR) or * (all events' only); unset: every row")
    beyond_noise: float = Field(RULE_NOISE, ge=0, allow_inf_nan=False)

    @field_validator("value", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        """A bound is a finite number: not a boolean (``true`` was 1.0), text (``'0.9'``,
        ``90%``), NaN or infinity (never fires)."""
        if isinstance(v, bool):
            raise ValueError("a boolean; expected a number (a rule's bound)")
        if isinstance(v, str):
            text = v.strip()
            if text.endswith("%"):
                try:
                    share = float(text[:-1]) / 100
                except ValueError:
                    share = math.nan
                if math.isfinite(share):
                    raise ValueError(f"a percentage: write the share, {share:g}")
            raise ValueError("text; expected a number, unquoted")
        if isinstance(v, int | float) and not math.isfinite(v):
            raise ValueError(f"{v} is not a finite number; a rule on it never fires")
        return v

    @field_validator("value")
    @classmethod
    def _in_range(cls, v: float, info: ValidationInfo) -> float:
        """A share's or a distance's bound lies in its range (``accuracy < 90``, a
        percentage, flagged every window) and both fires and does not (``accuracy < 0``
        never fires): :func:`bound_problem`."""
        metric, op = info.data.get("metric"), info.data.get("op")
        if info.data.get("versus"):
            problem = difference_problem(metric, op, v)
        else:
            problem = bound_problem(metric, op, v)
        if problem:
            raise ValueError(problem)
        return v


class _HistorySpec(Section):
    """A check judged on a metric's own history: ``min_history`` of its last ``history``
    values. An unset ``min_history`` follows a shorter ``history`` (judged once full, not
    never); one set above ``history`` is a configuration error."""

    _name: ClassVar[str]
    if TYPE_CHECKING:  # the subclasses' fields (declared there, in their order)
        history: int
        min_history: int

    @model_validator(mode="before")
    @classmethod
    def _min_follows(cls, data: Any) -> Any:
        if isinstance(data, dict) and "history" in data and "min_history" not in data:
            default = cls.model_fields["min_history"].default
            if isinstance(data["history"], int) and data["history"] < default:
                data = {**data, "min_history": data["history"]}
        return data

    @model_validator(mode="after")
    def _history_fits(self) -> Any:
        if self.min_history > self.history:
            raise ValueError(
                f"{self._name}.min_history ({self.min_history}) is above {self._name}.history "
                f"({self.history}): the check would never run")
        return self


class BandSpec(_HistorySpec):
    """Predicted range: a band forecast from the metric's own history."""

    _name: ClassVar[str] = "band"
    enabled: bool = True
    history: int = Field(24, ge=2)
    k: float = Field(4.0, gt=0)
    min_history: int = Field(8, ge=2)


class AnomalySpec(_HistorySpec):
    """Unsupervised anomaly detection on the metric history (robust z-score, MAD)."""

    _name: ClassVar[str] = "anomaly"
    enabled: bool = True
    history: int = Field(48, ge=4)
    z: float = Field(6.0, gt=0)
    min_history: int = Field(12, ge=4)


class FdrSpec(Section):
    """Model-level false-discovery control across features × segments in a window."""

    method: Literal["bh", "bonferroni", "none"] = "bh"
    alpha: float = Field(0.01, gt=0, lt=1)


class PersistenceSpec(Section):
    """Count the window before a flagged one as bad when it moved the same way.

    The previous window's signed shifts on the flagged columns, projected on the flagged
    window's direction, must exceed the one-sided normal quantile of ``alpha``
    (:mod:`driftscope.monitor.persistence`). It lets a slow drift page one window sooner
    while a one-window spike (its neighbours clean) still pages with probability ``alpha``
    at most — ``directed_alpha`` for a weak spike with a clear direction (below).
    """

    enabled: bool = True
    alpha: float = Field(0.002, gt=0, lt=0.5)
    directed_alpha: float = Field(0.01, gt=0, lt=0.5)
    """The level instead of ``alpha`` when the flagged window drifted clearly one way: its
    window before must then also have moved at least ``jump_ratio`` of its move, which a
    spike's clean neighbour seldom does (a spike of ``T`` standard errors pages about
    ``P(N(0, 1) > max(z(directed_alpha), jump_ratio·T))`` of the time)."""
    follow_alpha: float = Field(0.05, gt=0, lt=0.5)
    """A bad window that drifted clearly one way follows the bad window before it only
    when that window moved its way at this one-sided level (else it counts half)."""
    fade_alpha: float = Field(0.001, gt=0, lt=0.5)
    """A bad window that is weaker than the bad window before it along its own direction
    beyond this one-sided level, keeping less than half of its move, does not follow it
    either: the drift before has ended (a spike, then a window flagged by chance on one
    of its columns)."""
    jump_ratio: float = Field(0.25, ge=0, lt=1)
    """A bad window whose window before moved its way by less than this share of its own
    move is a jump: the window before is not its start (neither carried nor followed;
    a chance finding, then a spike). A linear ramp's first two windows move 1 : 3, its
    next ones 3 : 5 and more; a ramp whose first pair falls short pages one window later."""
    stop_alpha: float | None = Field(0.001, gt=0, lt=0.5)
    """A bad window whose drift stopped before the window ended (a tail of its events
    fell back below half its head's move, beyond ``z(stop_alpha / 4)`` over the four
    tails tried, with no flagged column still moved there) neither follows the bad
    window before it nor carries it: a burst straddling two windows does not page.
    Checked for windows shorter than a day whose events are kept (not for a model
    logged only as profiles); null: not checked (docs/monitor.md)."""
    baseline: int = Field(12, ge=0, le=48)
    """Windows whose mean shift is the level the previous window is measured from (they
    end two windows before it; this cancels the reference's own sampling error; 0: the
    previous window is measured from the reference)."""

    @model_validator(mode="after")
    def _directed_not_stricter(self) -> PersistenceSpec:
        if self.directed_alpha < self.alpha:
            raise ValueError(
                f"persistence.directed_alpha ({self.directed_alpha:g}) is below alpha "
                f"({self.alpha:g}): the level for windows with a clear direction, guarded "
                "by the jump ratio, is meant to be the looser one")
        return self


class MonitorConfig(Section):
    """One monitor of one model."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    model: str = Field(min_length=1)
    features: list[str] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    projections: list[ProjectionSpec] = Field(default_factory=list)
    detectors: list[DetectorSpec] = Field(default_factory=lambda: list(DEFAULT_DETECTORS))
    window: timedelta | None = None
    reference: ReferenceSpec = ReferenceSpec()
    segments: list[str] = Field(default_factory=list)
    versus_rest: list[str] = Field(
        default_factory=list,
        description="segment keys whose values' drift is judged against the rest of their "
                    "own window, not the reference: keys that split the traffic at random "
                    "(a canary's model_version, an A/B test's arm); each value but the "
                    "window's largest is compared")
    categorical: list[str] = Field(
        default_factory=list,
        description="features and outputs whose numbers are codes (a zip code, a product "
                    "id, a class number): judged as categories, not as amounts")
    min_events: int = Field(30, ge=1)
    quality: QualitySpec = QualitySpec()
    performance: PerformanceSpec | None = None
    rules: list[RuleSpec] = Field(default_factory=list)
    band: BandSpec = BandSpec()
    anomaly: AnomalySpec = AnomalySpec()
    fdr: FdrSpec = FdrSpec()
    persistence: PersistenceSpec = PersistenceSpec()
    seed: int = 0

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, v: Any) -> timedelta | None:
        return None if v is None else whole_seconds(parse_duration(v))

    @model_validator(mode="after")
    def _something(self) -> MonitorConfig:
        if not (self.features or self.outputs or self.projections or self.performance):
            raise ValueError("a monitor needs features, outputs, projections or performance")
        if not self.detectors:
            raise ValueError("a monitor needs at least one detector")
        for d in self.detectors:
            t = d.threshold
            if self.fdr.method != "none" and t.policy == "permutation" and (
                1 / (t.n + 1) > self.fdr.alpha
            ):
                raise ValueError(
                    f"detector {d.name}: a permutation test with n={t.n} never gives "
                    f"p <= fdr.alpha={self.fdr.alpha}; raise n to at least "
                    f"{int(1 / self.fdr.alpha)} (times the number of tests) or raise fdr.alpha"
                )
        self._check_categorical()
        self._check_versus_rest()
        self._check_rules()
        if self.window is not None:
            self.reference.check_window(self.window)
            if self.performance is not None:
                self.performance.check_window(self.window)
        return self

    def _check_categorical(self) -> None:
        """Each ``categorical`` name is a feature or output, read as numbers nowhere else."""
        for name in self.categorical:
            if name not in self.features and name not in self.outputs:
                raise ValueError(
                    f"categorical: {name!r} is neither a feature nor an output of this "
                    f"monitor (features: {', '.join(self.features) or 'none'}; outputs: "
                    f"{', '.join(self.outputs) or 'none'})")
            for p in self.projections:
                if name in p.features:
                    raise ValueError(
                        f"categorical: {name!r} is a feature of projection {p.name!r}; a "
                        "projection takes numbers, not codes")
            perf = self.performance
            if perf is not None and name in self.outputs and (
                    name == perf.score or (perf.task == "regression" and name == perf.prediction)):
                raise ValueError(
                    f"categorical: output {name!r} is the performance "
                    f"{'score' if name == perf.score else 'prediction'} of a "
                    f"{perf.task} model; its values are amounts, not codes")

    def _check_versus_rest(self) -> None:
        """Each ``versus_rest`` key is one of the monitor's segment keys, named once."""
        for key in self.versus_rest:
            if key not in self.segments:
                raise ValueError(
                    f"versus_rest: {key!r} is not a segment key of this monitor (its "
                    f"segments: {', '.join(self.segments) or 'none'}); add it to segments")
        if len(set(self.versus_rest)) < len(self.versus_rest):
            raise ValueError(f"versus_rest: a key named twice ({', '.join(self.versus_rest)})")

    def _check_rule_segment(self, i: int, rule: RuleSpec) -> None:
        """A rule's ``segment`` is one of the monitor's keys (or a value of one), and
        ``versus: rest`` a performance metric's, with segments to compare."""
        if rule.versus and rule.metric not in TASK_METRICS_ALL:
            raise ValueError(
                f"rules.{i}.versus: rest compares a segment's performance with the rest of "
                f"its window; {rule.metric} is not a performance metric")
        if rule.versus and not self.segments:
            raise ValueError(
                f"rules.{i}.versus: rest compares each segment with the rest of its window, "
                "and this monitor has no segments (segments: [model_version] compares a "
                "rollout's versions)")
        if rule.segment is None:
            return
        where = f"rules.{i}.segment = {rule.segment!r}"
        if rule.versus and rule.segment == "*":
            raise ValueError(f"{where}: versus: rest compares a segment with the rest of its "
                             "window, and all events have no rest; name a key or a value")
        if rule.segment != "*" and (
                rule.metric in ("volume", "schema_violations", "type_mismatch")
                or rule.feature.startswith("segment:")):
            raise ValueError(
                f"{where}: {rule.metric} rows of {rule.feature} are the whole model's "
                "(segment *: a segment key's new values and each value's traffic too); "
                "segment: '*' or none")
        keys = [k for k in self.segments
                if rule.segment == k or rule.segment.startswith(k + "=")]
        if rule.segment != "*" and not keys:
            close = difflib.get_close_matches(rule.segment, self.segments, n=1)
            raise ValueError(
                f"{where}: not a segment key of this monitor, nor one of its values "
                f"(its segments: {', '.join(self.segments) or 'none'})"
                + (f"; did you mean {close[0]}?" if close else ""))
        if rule.segment == VERSION_KEY + "=":  # (an event without a version has none)
            raise ValueError(f"{where}: names no version (the key alone, "
                             f"{VERSION_KEY!r}: each version's rows)")

    def _check_rules(self) -> None:
        """Each rule names a metric this monitor computes and a feature its rows of that
        metric carry (a misspelt one loaded fine and never fired)."""
        known = self.metric_names()
        for i, rule in enumerate(self.rules):
            if rule.metric not in known:
                close = difflib.get_close_matches(rule.metric, known, n=1)
                hint = (f"; {rule.metric} is a detector it does not run (add it to "
                        "detectors)" if rule.metric in detector_names() else
                        f"; {rule.metric} is a data-quality metric and quality is disabled"
                        if rule.metric in QUALITY_METRICS else
                        f"; {rule.metric} is a performance metric it does not compute "
                        "(performance.metrics)" if rule.metric in TASK_METRICS_ALL else
                        f"; did you mean {close[0]}?" if close else "")
                raise ValueError(
                    f"rules: metric {rule.metric!r} is not computed by this monitor "
                    f"(its metrics: {', '.join(known)}){hint}")
            if "beyond_noise" in rule.model_fields_set and rule.metric not in TASK_METRICS_ALL:
                raise ValueError(
                    f"rules.{i}.beyond_noise: {rule.metric} rows carry no standard error (a "
                    "quality or drift check allows for sampling in its own limit); "
                    "beyond_noise applies to performance rules only")
            self._check_rule_segment(i, rule)
            if rule.feature == "*":
                continue
            where = f"rules.{i}.feature = {rule.feature!r}"
            if rule.metric in TASK_METRICS_ALL:
                raise ValueError(
                    f"{where}: {rule.metric} is measured over all of a window's labelled "
                    "events (its rows carry feature *, each segment's too); a performance "
                    "rule takes no feature")
            names = self.rule_features(rule.metric)
            if rule.feature in names or any(
                    n.endswith("=") and rule.feature.startswith(n) and rule.feature != n
                    for n in names):
                continue
            shown = [n + "…" if n.endswith("=") else n for n in names]
            close = [n for n in (OUTPUT_PREFIX + rule.feature, PROJECTION_PREFIX + rule.feature,
                                 PROJECTION_PREFIX + rule.feature + ".0") if n in names]
            close = close or difflib.get_close_matches(rule.feature, names, n=1)
            hint = (f"did you mean {close[0]}?" if close else
                    f"its {rule.metric} rows: {', '.join(shown)}" if shown else
                    f"its {rule.metric} rows carry no feature but *")
            raise ValueError(f"{where}: no {rule.metric} row carries it; {hint}")

    def rule_features(self, metric: str) -> list[str]:
        """The features this monitor's rows of ``metric`` carry, besides ``*`` (see
        :mod:`driftscope.monitor.evaluate`): drift rows its features, ``output:`` names
        of its outputs and ``projection:`` names (a random projection's ``name.0`` …),
        a multivariate detector's ``multivariate``; data-quality rows the features and
        outputs (``out_of_range`` and ``stuck_value`` the numeric ones), a segment key's
        new values ``segment:<key>``, its volume ``segment:<key>=<value>`` (listed as
        ``segment:<key>=``, any value; neither for ``model_version``, whose new and
        stopped values are a deploy's).

        >>> m = MonitorConfig.model_validate({"name": "a", "model": "m",
        ...     "features": ["age", "plan"], "outputs": ["score"], "segments": ["country"],
        ...     "categorical": ["plan"]})
        >>> m.rule_features("out_of_range"), m.rule_features("volume")
        (['age', 'output:score'], ['segment:country='])
        """
        columns = [*self.features, *(OUTPUT_PREFIX + o for o in self.outputs)]
        codes = {*self.categorical, *(OUTPUT_PREFIX + c for c in self.categorical
                                      if c in self.outputs)}
        segments = [f"segment:{k}" for k in self.segments if k != VERSION_KEY]
        if metric in ("missing_rate",):
            return columns
        if metric in ("out_of_range", "stuck_value"):
            return [c for c in columns if c not in codes]
        if metric == "new_categories":
            return columns + segments
        if metric == "volume":
            return [s + "=" for s in segments]
        if metric == "type_mismatch":
            perf = self.performance
            read = [f for p in self.projections for f in p.features]
            if perf is not None:
                read += [OUTPUT_PREFIX + perf.prediction] + (
                    [OUTPUT_PREFIX + perf.score] if perf.score else [])
            return list(dict.fromkeys(columns + read))
        if metric in QUALITY_METRICS or metric in TASK_METRICS_ALL:
            return []  # (schema_violations: the whole window's)
        specs = [d for d in self.detectors if d.name == metric]
        if any(detector_kind(d.name) == "multivariate" for d in specs):
            return ["multivariate"]
        projected = [PROJECTION_PREFIX + p.name + (f".{i}" if p.kind == "random" else "")
                     for p in self.projections
                     for i in range(p.dim if p.kind == "random" else 1)]
        names: list[str] = []
        for d in specs:
            if d.on == "categorical" or detector_kind(d.name) == "categorical":
                names += columns  # (projections are numbers)
            elif d.on == "numeric" or detector_kind(d.name) == "numeric":
                names += [c for c in columns if c not in codes] + projected
            else:
                names += columns + projected
        return list(dict.fromkeys(names))

    def metric_names(self) -> list[str]:
        """The metrics this monitor's rows carry: its detectors, data quality (when
        enabled) and performance metrics."""
        names = dict.fromkeys(d.name for d in self.detectors)
        names.update(dict.fromkeys(QUALITY_METRICS if self.quality.enabled else ()))
        names.update(dict.fromkeys(self.performance.chosen() if self.performance else ()))
        return list(names)

    def window_size(self, default: timedelta = timedelta(minutes=5)) -> timedelta:
        """The monitor's window, else the model's, else five minutes."""
        return self.window or default


def check_windows(
    monitors: list[MonitorConfig], model_windows: dict[str, timedelta],
    horizon: timedelta | None = None,
) -> list[MonitorConfig]:
    """A monitor processes its model's closed windows: its window, when given, must be the
    model's (``model_windows``; unlisted models have five-minute windows), and a seasonal
    reference and a label delay must fit that window (the delay also the collector's
    feedback ``horizon``)."""
    for m in monitors:
        size = model_windows.get(m.model, timedelta(minutes=5))
        if m.window is not None and m.window != size:
            raise ValueError(
                f"monitor {m.name!r}: window = {show_duration(m.window)} but model {m.model!r} "
                f"closes {show_duration(size)} windows, the only ones it can process; remove the "
                "monitor's window or change the model's")
        try:
            m.reference.check_window(size)
            if m.performance is not None:
                m.performance.check_window(size, horizon)
        except ValueError as exc:
            raise ValueError(f"monitor {m.name!r}: {exc}") from None
    return monitors


def repeated(names: Iterable[str]) -> str | None:
    """The first name that comes twice, if any.

    >>> repeated(["a", "b", "a"]), repeated(["a", "b"])
    ('a', None)
    """
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def check_unique(monitors: list[MonitorConfig]) -> list[MonitorConfig]:
    """Monitor names must be unique: they key results and alerts."""
    twice = repeated(m.name for m in monitors)
    if twice is not None:
        raise ValueError(f"monitor name {twice!r} is used twice; names must be unique")
    return monitors
