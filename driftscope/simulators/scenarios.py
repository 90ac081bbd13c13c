"""Drift scenarios: a temporal shape × a drift kind, applied to a data source.

Every event of a stream is drawn either from the source's base distribution or from its
drifted distribution (:mod:`~driftscope.simulators.effects`); the probability of the
drifted one is the scenario's *weight* at that event:

``instantaneous``  0 before the onset, 1 from it on (a domain switch, a bug);
``gradual``        rises linearly from 0 at the onset to 1 over ``span`` events;
``periodic``       ``(1 - cos 2πt/period) / 2`` of the simulated time t (daily by
                   default; set ``period=timedelta(days=7)`` for weekly); the onset is
                   ignored — the cycle is the normal state, judged against a seasonal
                   reference;
``temporary``      1 for ``burst`` events from the onset, then 0 again (an attack).

Ground truth travels with each event: ``drifted`` (drawn from the drifted distribution),
``kind`` (the drift kind, or ``"none"``) and ``weight``.

Examples
--------
>>> import numpy as np
>>> sc = get_scenario("gradual-covariate")
>>> stream = sc.generate(np.random.default_rng(7), 2000, onset=0.5, intensity="high")
>>> ev = next(iter(stream.events()))
>>> sorted(ev)  # doctest: +NORMALIZE_WHITESPACE
['drifted', 'event_id', 'features', 'kind', 'label', 'segments', 'timestamp', 'weight']
>>> bool(stream.drifted[:1000].any()), bool(stream.drifted[1000:].any())
(False, True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.errors import ConfigError, RegistryError

from .effects import INTENSITIES, KINDS, draw_drifted
from .sources import Batch, Source, get_source

TEMPORALS = ("instantaneous", "gradual", "periodic", "temporary")


@dataclass(frozen=True)
class Clock:
    """Simulated event time: event ``i`` happens at ``start + i / events_per_second``.

    The default, 1,000 events per simulated hour, makes a 1,000-event window one hour
    and a day 24 windows. Compress time by sending faster than this in real time.

    Examples
    --------
    >>> Clock().at(1000).isoformat()
    '2026-01-01T01:00:00+00:00'
    """

    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    events_per_second: float = 1000 / 3600

    def seconds(self, index: np.ndarray) -> np.ndarray:
        """Simulated seconds since ``start`` of the events at ``index``."""
        return np.asarray(index, dtype=np.float64) / self.events_per_second

    def at(self, index: int) -> datetime:
        """Timestamp of event ``index``."""
        return self.start + timedelta(seconds=index / self.events_per_second)


@dataclass(frozen=True)
class Stream:
    """A generated stream, column-wise, with its ground truth; ``events()`` yields dicts.

    Examples
    --------
    >>> import numpy as np
    >>> s = get_scenario("no-drift").generate(np.random.default_rng(0), 300)
    >>> [len(w) for w in s.windows(100)]
    [100, 100, 100]
    """

    scenario: str
    kind: str
    features: dict[str, np.ndarray]
    labels: np.ndarray
    drifted: np.ndarray
    weights: np.ndarray
    event_ids: np.ndarray
    first_index: int
    clock: Clock
    segment: str | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def slice(self, a: int, b: int) -> Stream:
        """Events ``a`` to ``b`` (exclusive), keeping their clock times."""
        return dataclasses.replace(
            self,
            features={k: v[a:b] for k, v in self.features.items()},
            labels=self.labels[a:b],
            drifted=self.drifted[a:b],
            weights=self.weights[a:b],
            event_ids=self.event_ids[a:b],
            first_index=self.first_index + a,
        )

    def windows(self, size: int) -> Iterator[Stream]:
        """Consecutive whole windows of ``size`` events (a partial tail is dropped)."""
        for a in range(0, len(self) - size + 1, size):
            yield self.slice(a, a + size)

    def timestamp(self, i: int) -> datetime:
        """Simulated time of the ``i``-th event of this stream."""
        return self.clock.at(self.first_index + i)

    def events(self) -> Iterator[dict[str, Any]]:
        """Event dicts ready for ``PredictionLogger.log`` plus ground truth.

        Keys: ``event_id``, ``timestamp``, ``features`` (name → float/str/None),
        ``label``, ``segments``, ``drifted``, ``kind``, ``weight``.
        """
        cols = {k: v.tolist() for k, v in self.features.items()}
        for i in range(len(self)):
            feats = {k: _plain(v[i]) for k, v in cols.items()}
            seg = feats.get(self.segment) if self.segment else None
            drifted = bool(self.drifted[i])
            yield {
                "event_id": str(self.event_ids[i]),
                "timestamp": self.timestamp(i),
                "features": feats,
                "label": int(self.labels[i]),
                "segments": {self.segment: str(seg)} if self.segment and seg else {},
                "drifted": drifted,
                "kind": self.kind if drifted else "none",
                "weight": float(self.weights[i]),
            }


def _plain(v: Any) -> Any:
    if isinstance(v, float) and v != v:
        return None
    return v


def _resolve(value: float | int, n: int, what: str) -> int:
    """A fraction of ``n`` (a float in [0, 1]) or an event count (an int)."""
    if isinstance(value, float):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{what}: a fraction must lie in [0, 1], got {value}")
        return round(value * n)
    if value < 0:
        raise ConfigError(f"{what}: an event count must be ≥ 0, got {value}")
    return int(value)


@dataclass(frozen=True)
class Scenario:
    """A temporal drift shape applied to a drift kind of a source.

    Examples
    --------
    >>> import numpy as np
    >>> sc = get_scenario("temporary-prior")
    >>> s = sc.generate(np.random.default_rng(1), 4000, onset=0.5, intensity="high")
    >>> int(s.drifted[2000:3000].sum()), int(s.drifted[3000:].sum())
    (1000, 0)
    """

    name: str
    temporal: str
    kind: str
    source: str = "synthetic"
    span: float | int = 0.2
    burst: float | int = 1000
    period: timedelta = timedelta(days=1)
    description: str = ""

    def with_(self, **changes: Any) -> Scenario:
        """A copy with fields changed, e.g. ``sc.with_(source="wine", span=5000)``."""
        return dataclasses.replace(self, **changes)

    def weights(self, n: int, onset: float | int = 0.5, clock: Clock | None = None) -> np.ndarray:
        """The drifted-mixture weight of each of ``n`` events (see the module doc)."""
        i = np.arange(n, dtype=np.float64)
        start = _resolve(onset, n, "onset")
        if self.temporal == "none":
            return np.zeros(n)
        if self.temporal == "instantaneous":
            return (i >= start).astype(np.float64)
        if self.temporal == "gradual":
            span = max(_resolve(self.span, n, "span"), 1)
            return np.clip((i - start + 1) / span, 0.0, 1.0)
        if self.temporal == "temporary":
            burst = _resolve(self.burst, n, "burst")
            return ((i >= start) & (i < start + burst)).astype(np.float64)
        if self.temporal == "periodic":
            t = (clock or Clock()).seconds(i)
            return 0.5 * (1.0 - np.cos(2.0 * np.pi * t / self.period.total_seconds()))
        raise ConfigError(f"unknown temporal shape {self.temporal!r}; valid: {TEMPORALS}")

    def check_fits(self, n: int, onset: float | int = 0.5) -> None:
        """Refuse an ``onset`` whose drift a stream of ``n`` events would not show whole:
        at or after its last event (no drift at all), or followed by a gradual ramp that
        would not reach full weight, or a temporary burst that would not end, within it.
        ``no-drift`` and ``periodic`` ignore the onset.

        >>> get_scenario("temporary-covariate").check_fits(2000, 0.5)  # events 1000-1999
        """
        if self.temporal not in ("instantaneous", "gradual", "temporary"):
            return
        start = _resolve(onset, n, "onset")
        if start >= n:
            more = "" if isinstance(onset, float) else " or send more events"
            raise ConfigError(f"onset {onset} is event {start} of a stream of {n} events "
                              f"(0 to {n - 1}): it would have no drift; set an earlier "
                              f"onset{more}")
        if self.temporal == "instantaneous":
            return
        ramp = self.temporal == "gradual"
        size = self.span if ramp else self.burst

        def end(m: int) -> int:  # the event at which the ramp or burst ends, of m events
            length = _resolve(size, m, "span" if ramp else "burst")
            return _resolve(onset, m, "onset") + (max(length, 1) if ramp else length)

        if not ramp and _resolve(size, n, "burst") < 1:  # (a fraction rounded to nothing)
            raise ConfigError(f"{self.name}: its burst of {size} of {n} events is no event: "
                              "the stream would have no drift; give a longer burst")
        if end(n) <= n:
            return
        length = end(n) - start
        fixes = [f"set an onset at event {n - length} at the latest"] if length <= n else []
        # more events help unless the onset and the length are both fractions of them
        fixed = sum(v for v in (onset, size) if not isinstance(v, float))
        share = sum(v for v in (onset, size) if isinstance(v, float))
        if share < 1:
            m = max(n + 1, math.floor((fixed - 1) / (1 - share)))  # rounding: ≤ the least
            while end(m) > m:
                m += 1
            fixes.append(f"send at least {m} events")
        what, never = ("ramp", "reaches full weight") if ramp else ("burst", "ends")
        raise ConfigError(
            f"{self.name}: its {what} of {length} events from the onset (event {start}) would "
            f"end at event {start + length}, past the stream's {n} events, so the drift never "
            f"{never}; {' or '.join(fixes)}")

    def sample(
        self,
        rng: np.random.Generator,
        weights: np.ndarray,
        *,
        intensity: str = "medium",
        source: Source | None = None,
    ) -> tuple[Batch, np.ndarray]:
        """Rows drawn with the given per-row drifted weights, and the drifted mask.

        Use it for a seasonal reference: the weights of a production window give a
        reference of the same phase.
        """
        src = source or get_source(self.source)
        drifted = rng.random(len(weights)) < np.asarray(weights)
        n1 = int(drifted.sum())
        base = src.draw(rng, len(weights) - n1)
        if self.kind == "none" or n1 == 0:
            return base, np.zeros(len(weights), dtype=bool)
        shifted = draw_drifted(self.kind, src, rng, n1, intensity)
        order = np.argsort(~drifted, kind="stable")  # positions of drifted rows first
        merged = Batch.concat([shifted, base])
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return merged.take(inverse), drifted

    def generate(
        self,
        rng: np.random.Generator,
        n_events: int,
        *,
        onset: float | int = 0.5,
        intensity: str = "medium",
        clock: Clock | None = None,
        source: Source | None = None,
    ) -> Stream:
        """A stream of ``n_events`` with drift starting at ``onset`` (fraction or index)."""
        if intensity not in INTENSITIES and self.kind != "none":
            raise ConfigError(f"unknown intensity {intensity!r}; valid: {', '.join(INTENSITIES)}")
        clock = clock or Clock()
        src = source or get_source(self.source)
        w = self.weights(n_events, onset, clock)
        batch, drifted = self.sample(rng, w, intensity=intensity, source=src)
        token = f"{int(rng.integers(0, 2**32)):08x}"
        ids = np.asarray([f"{self.name}-{token}-{i:08d}" for i in range(n_events)], dtype=object)
        return Stream(
            scenario=self.name,
            kind=self.kind,
            features=batch.features,
            labels=batch.labels,
            drifted=drifted,
            weights=w,
            event_ids=ids,
            first_index=0,
            clock=clock,
            segment="region" if "region" in src.categorical else None,
        )

    def reference(self, rng: np.random.Generator, n: int, *, source: Source | None = None) -> Batch:
        """``n`` undrifted rows: the data a model is trained on and a monitor compares to."""
        return (source or get_source(self.source)).draw(rng, n)


def _build() -> dict[str, Scenario]:
    out = {"no-drift": Scenario("no-drift", "none", "none", description="no drift at all")}
    for temporal in TEMPORALS:
        for kind in KINDS:
            name = f"{temporal}-{kind}"
            out[name] = Scenario(name, temporal, kind, description=f"{temporal} {kind} drift")
    return out


_REGISTRY = _build()


def list_scenarios() -> list[str]:
    """Names accepted by :func:`get_scenario`."""
    return sorted(_REGISTRY)


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; an unknown name lists the valid ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise RegistryError(
            f"unknown scenario {name!r}; valid: {', '.join(list_scenarios())}"
        ) from None
