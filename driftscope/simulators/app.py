"""A demo application: a small model serving a scenario stream and logging it.

:class:`DemoApp` trains a softmax (logistic) regression with numpy on the scenario's
reference data, predicts every event of the scenario stream, logs the predictions through
the :class:`~driftscope.client.PredictionLogger` it is given, and sends each label later
as a feedback event (``label_delay`` events and simulated seconds after its prediction).
It never creates a Kafka client itself. With ``canary``, from the onset a new version
(``canary_version``) serves that share of the events, with a bug (``canary_bug``):
``pipeline`` (the default), the same model with its numeric inputs standardised with their
sign flipped, a feature-pipeline bug inside the new release — it logs the same inputs,
but its accuracy falls while the old version's does not (what ``segments:
[model_version]`` and a rule ``versus: rest`` catch); ``units``, the new release sends its
numeric inputs in hundredths (income in cents), logs them so and predicts on them (what
``versus_rest: [model_version]`` catches from its first window, with no labels).

Examples
--------
>>> class Recorder:
...     def __init__(self): self.calls = []
...     def log(self, model_id, features, predictions, **kw):
...         self.calls.append(("log", kw["event_id"])); return kw["event_id"]
...     def log_feedback(self, model_id, event_id, label, *, timestamp=None):
...         self.calls.append(("feedback", event_id))
>>> app = DemoApp("gradual-covariate", seed=3, n_reference=2000, label_delay=10)
>>> counts = app.run(Recorder(), 200)
>>> counts.predictions, counts.feedback
(200, 200)
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np

from .scenarios import Clock, Scenario, Stream, _resolve, get_scenario
from .sources import Batch, Source, get_source


class EventLogger(Protocol):
    """The part of :class:`driftscope.client.PredictionLogger` the app uses."""

    def log(
        self,
        model_id: str,
        features: dict[str, Any],
        predictions: dict[str, Any],
        *,
        label: Any = None,
        segments: dict[str, str] | None = None,
        event_id: str | None = None,
        timestamp: datetime | None = None,
        model_version: str = "",
    ) -> str | None: ...

    def log_feedback(
        self, model_id: str, event_id: str, label: Any, *, timestamp: datetime | None = None
    ) -> None: ...


@dataclass
class RunCounts:
    """What :meth:`DemoApp.run` did: events logged, refused, labels sent, drifted events.

    Examples
    --------
    >>> RunCounts(predictions=4, correct=3).accuracy
    0.75
    """

    predictions: int = 0
    invalid: int = 0
    feedback: int = 0
    drifted: int = 0
    correct: int = 0
    canary: int = 0
    canary_correct: int = 0

    @property
    def accuracy(self) -> float:
        """Share of logged predictions that matched their label."""
        return self.correct / self.predictions if self.predictions else float("nan")

    @property
    def canary_accuracy(self) -> float:
        """Share of the canary version's logged predictions that matched their label."""
        return self.canary_correct / self.canary if self.canary else float("nan")


@dataclass(frozen=True)
class SoftmaxModel:
    """Standardised numerics (missing → mean) + one-hot categoricals → softmax regression.

    Examples
    --------
    >>> src = get_source("synthetic")
    >>> model = SoftmaxModel.fit(src.draw(np.random.default_rng(0), 3000), src)
    >>> model.predict_proba(src.draw(np.random.default_rng(1), 5).features).shape
    (5, 2)
    """

    numeric: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray
    categories: dict[str, tuple[str, ...]]
    coef: np.ndarray

    def design(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """The model's input matrix (bias column first)."""
        cols = [np.ones(len(next(iter(features.values()))))]
        for j, name in enumerate(self.numeric):
            z = (np.asarray(features[name], dtype=np.float64) - self.mean[j]) / self.sd[j]
            cols.append(np.where(np.isfinite(z), z, 0.0))
        for name, cats in self.categories.items():
            values = np.asarray(features[name], dtype=object)
            cols.extend((values == c).astype(np.float64) for c in cats)
        return np.column_stack(cols)

    def predict_proba(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """Class probabilities, shape (n, classes)."""
        logits = self.design(features) @ self.coef
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    @classmethod
    def fit(cls, batch: Batch, src: Source, *, iters: int = 300, l2: float = 1e-3) -> SoftmaxModel:
        """Full-batch gradient descent on the cross-entropy."""
        num = {k: np.asarray(batch.features[k], dtype=np.float64) for k in src.numeric}
        mean = np.array([np.nanmean(v) for v in num.values()])
        sd = np.array([np.nanstd(v) or 1.0 for v in num.values()])
        cats = {
            k: tuple(sorted({str(v) for v in batch.features[k] if v is not None}))
            for k in src.categorical
        }
        model = cls(src.numeric, mean, sd, cats, np.zeros((1, src.n_classes)))
        x = model.design(batch.features)
        y = np.eye(src.n_classes)[batch.labels]
        coef = np.zeros((x.shape[1], src.n_classes))
        for _ in range(iters):
            logits = x @ coef
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            coef -= 0.5 * (x.T @ (p - y) / len(x) + l2 * coef)
        return cls(src.numeric, mean, sd, cats, coef)


class DemoApp:
    """Serve a scenario stream with a model trained on its reference data.

    ``__init__`` stores parameters only; :meth:`fit` (called by :meth:`run` if needed)
    draws the reference and trains. The module docstring runs it against a recorder.

    Examples
    --------
    >>> app = DemoApp("instantaneous-missing", intensity="high", n_reference=1000).fit()
    >>> sorted(app.reference())[:2], len(app.stream(300))
    (['age', 'balance'], 300)
    """

    def __init__(
        self,
        scenario: Scenario | str,
        *,
        model_id: str = "demo",
        model_version: str = "1",
        intensity: str = "medium",
        onset: float | int = 0.5,
        seed: int = 0,
        clock: Clock | None = None,
        n_reference: int = 5000,
        label_delay: int = 100,
        label_share: float = 1.0,
        canary: float = 0.0,
        canary_version: str = "2",
        canary_bug: str = "pipeline",
    ) -> None:
        if not 0.0 <= canary <= 1.0:
            raise ValueError(f"canary: a share of the events in [0, 1], got {canary:g}")
        if canary_bug not in CANARY_BUGS:
            raise ValueError(f"canary_bug: one of {', '.join(CANARY_BUGS)}, got {canary_bug!r}")
        self.scenario = get_scenario(scenario) if isinstance(scenario, str) else scenario
        self.model_id = model_id
        self.model_version = model_version
        self.intensity = intensity
        self.onset = onset
        self.seed = seed
        self.clock = clock or Clock()
        self.n_reference = n_reference
        self.label_delay = label_delay
        self.label_share = label_share
        self.canary = canary
        self.canary_version = canary_version
        self.canary_bug = canary_bug
        self.model: SoftmaxModel | None = None
        self._reference: Batch | None = None

    @property
    def source(self) -> Source:
        return get_source(self.scenario.source)

    def reference_batch(self) -> Batch:
        """The reference rows (drawn once, from ``seed``)."""
        if self._reference is None:
            rng = np.random.default_rng([self.seed, 0])
            self._reference = self.scenario.reference(rng, self.n_reference, source=self.source)
        return self._reference

    def reference(self) -> dict[str, np.ndarray]:
        """Reference features for the monitor: name → float64 (NaN missing) or object array."""
        return dict(self.reference_batch().features)

    def fit(self) -> DemoApp:
        """Train the model on the reference rows."""
        self.model = SoftmaxModel.fit(self.reference_batch(), self.source)
        return self

    def stream(self, n_events: int) -> Stream:
        """The scenario stream this app serves (same ``seed`` → same stream)."""
        rng = np.random.default_rng([self.seed, 1])
        return self.scenario.generate(
            rng, n_events, onset=self.onset, intensity=self.intensity, clock=self.clock
        )

    def run(
        self,
        logger: EventLogger,
        n_events: int,
        rate: float | None = None,
        *,
        stream: Stream | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> RunCounts:
        """Predict and log ``n_events`` events, at most ``rate`` per real second.

        ``stream``: the events, when already made by :meth:`stream` (a caller that
        validates its options by building the stream first need not build it twice).
        """
        if self.model is None:
            self.fit()
        assert self.model is not None
        if stream is None:
            stream = self.stream(n_events)
        elif len(stream) != n_events:
            raise ValueError(f"the stream has {len(stream)} events, not {n_events}")
        proba = self.model.predict_proba(stream.features)
        canary = self.canary_events(n_events)
        scaled = frozenset(self.model.numeric if self.canary_bug == "units" else ())
        if self.canary_bug == "units" and not scaled:
            raise ValueError(f"canary_bug units: source {self.scenario.source!r} has no "
                             "numeric inputs to send in hundredths; use pipeline")
        if canary.any():  # (the new version's predictions, where it served)
            buggy = (self.model.predict_proba(_in_hundredths(stream.features, scaled))
                     if scaled else _pipeline_bug(self.model).predict_proba(stream.features))
            proba = np.where(canary[:, None], buggy, proba)
        share = np.random.default_rng([self.seed, 2]).random(n_events) < self.label_share
        delay = timedelta(seconds=self.label_delay / self.clock.events_per_second)
        pending: deque[tuple[str, int, datetime]] = deque()
        counts = RunCounts()
        t0 = monotonic()
        for i, ev in enumerate(stream.events()):
            if rate:
                ahead = t0 + i / rate - monotonic()
                if ahead > 0:
                    sleep(ahead)
            predictions = self._predictions(proba[i])
            eid = logger.log(
                self.model_id,
                _in_hundredths(ev["features"], scaled) if canary[i] else ev["features"],
                predictions,
                segments=ev["segments"],
                event_id=ev["event_id"],
                timestamp=ev["timestamp"],
                model_version=self.canary_version if canary[i] else self.model_version,
            )
            if eid is None:
                counts.invalid += 1
                continue
            counts.predictions += 1
            counts.drifted += ev["drifted"]
            counts.correct += predictions["class"] == ev["label"]
            counts.canary += bool(canary[i])
            counts.canary_correct += bool(canary[i]) and predictions["class"] == ev["label"]
            if share[i]:
                pending.append((eid, ev["label"], ev["timestamp"] + delay))
            while pending and len(pending) > self.label_delay:
                counts.feedback += self._feedback(logger, *pending.popleft())
        while pending:
            counts.feedback += self._feedback(logger, *pending.popleft())
        return counts

    def canary_events(self, n_events: int) -> np.ndarray:
        """Which of ``n_events`` the canary version serves: ``canary`` of them at random
        (from ``seed``), from the onset on.

        >>> app = DemoApp("no-drift", canary=0.1, onset=0.5)
        >>> served = app.canary_events(10000)
        >>> int(served[:5000].sum()), 400 < int(served[5000:].sum()) < 600
        (0, True)
        """
        served = np.random.default_rng([self.seed, 3]).random(n_events) < self.canary
        served[: _resolve(self.onset, n_events, "onset")] = False
        return served

    def _feedback(self, logger: EventLogger, eid: str, label: int, ts: datetime) -> int:
        logger.log_feedback(self.model_id, eid, label, timestamp=ts)
        return 1

    @staticmethod
    def _predictions(p: np.ndarray) -> dict[str, Any]:
        k = int(np.argmax(p))
        out: dict[str, Any] = {"class": k, "score": float(p[-1] if len(p) == 2 else p[k])}
        return out


CANARY_BUGS = ("pipeline", "units")
"""What is wrong with a canary (:class:`DemoApp`): its feature pipeline inside the model
(same inputs logged), or the units of the numeric inputs it sends and logs."""


def _in_hundredths(features: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """``features`` with those named given in hundredths (x 100; missing stays missing):
    one event's values or a stream's columns.

    >>> _in_hundredths({"income": 1.5, "plan": "gold", "age": None}, frozenset({"income", "age"}))
    {'income': 150.0, 'plan': 'gold', 'age': None}
    """
    return {k: v * 100 if k in names and v is not None else v for k, v in features.items()}


def _pipeline_bug(model: SoftmaxModel) -> SoftmaxModel:
    """The model with its numeric inputs standardised the wrong way round (each deviation
    from the mean read with its sign flipped), a release whose feature pipeline changed;
    a model without numeric inputs predicts the classes in reverse."""
    if not model.numeric:
        return replace(model, coef=model.coef[:, ::-1].copy())
    return replace(model, sd=-model.sd)
