"""Data sources for the simulators: where undrifted rows come from.

A source draws rows of a table — numeric features (float64, ``NaN`` = missing),
categorical features (object arrays of ``str``) and an integer class label — from its
base distribution. Scenarios (:mod:`driftscope.simulators.scenarios`) turn those rows into
drifted streams by subsampling (covariate and class-mix drift), noise, relabelling
(concept drift) and data-quality faults, so every source gets every scenario.

Sources
-------
``synthetic``
    6 numeric + 2 categorical features with known distributions and a known labelling
    function (logistic); needs nothing but numpy.
``breast_cancer``, ``wine``, ``diabetes``, ``digits``
    scikit-learn's bundled tables (read from the installed package, never downloaded);
    ``diabetes`` is binarised at its median target; ``digits`` is the high-dimensional
    source (64 pixel features of 8×8 images). Each gets a derived categorical
    ``bucket`` (the quartile of its first driver) so categorical scenarios apply.

Examples
--------
>>> import numpy as np
>>> src = get_source("synthetic")
>>> batch = src.draw(np.random.default_rng(0), 1000)
>>> len(batch), sorted(batch.features)[:3]
(1000, ['age', 'balance', 'income'])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

import numpy as np

from driftscope.errors import ConfigError, RegistryError

CANDIDATE_FACTOR = 4
"""Synthetic sources offer this many candidates per wanted row to weighted subsampling."""


@dataclass(frozen=True)
class Batch:
    """Rows of a table: ``features`` name → 1-D array, ``labels`` integer classes.

    Examples
    --------
    >>> b = Batch({"x": np.array([1.0, 2.0])}, np.array([0, 1]))
    >>> len(b.take(np.array([1]))), float(b.take(np.array([1])).features["x"][0])
    (1, 2.0)
    """

    features: dict[str, np.ndarray]
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, idx: np.ndarray) -> Batch:
        """The rows at ``idx`` (copies)."""
        return Batch({k: v[idx] for k, v in self.features.items()}, self.labels[idx])

    def copy(self) -> Batch:
        """A deep copy, safe to modify."""
        return Batch({k: v.copy() for k, v in self.features.items()}, self.labels.copy())

    @staticmethod
    def concat(parts: Sequence[Batch]) -> Batch:
        """Rows of ``parts`` one after another (same columns)."""
        names = list(parts[0].features)
        feats = {k: np.concatenate([p.features[k] for p in parts]) for k in names}
        return Batch(feats, np.concatenate([p.labels for p in parts]))


class Source(Protocol):
    """What scenarios need from a data source."""

    @property
    def name(self) -> str: ...

    @property
    def numeric(self) -> tuple[str, ...]: ...

    @property
    def categorical(self) -> tuple[str, ...]: ...

    @property
    def drivers(self) -> tuple[str, ...]:
        """Numeric features that drift scenarios act on, the main one first."""
        ...

    @property
    def n_classes(self) -> int: ...

    def draw(self, rng: np.random.Generator, n: int) -> Batch:
        """``n`` rows from the base distribution."""
        ...

    def candidates(self, rng: np.random.Generator, n: int) -> Batch:
        """A pool to subsample ``n`` rows from with weights (at least ``n`` rows)."""
        ...


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class SyntheticSource:
    """Customers of a subscription product: known distributions, known labelling function.

    ``age ~ N(40, 12)``, ``income`` lognormal (correlated 0.5 with age, 1 % missing),
    ``balance ~ N(1000, 300)``, ``sessions ~ N(8, 3)`` (correlated 0.4 with balance),
    ``latency_ms ~ N(200, 40)``, ``rating ~ N(3, 1)``; ``plan`` follows income,
    ``region`` is independent. ``label ~ Bernoulli(sigmoid(logit(x)))``.

    Examples
    --------
    >>> b = SyntheticSource().draw(np.random.default_rng(1), 20000)
    >>> round(float(np.mean(b.features["age"])))
    40
    """

    name: str = "synthetic"
    numeric: tuple[str, ...] = ("age", "income", "balance", "sessions", "latency_ms", "rating")
    categorical: tuple[str, ...] = ("plan", "region")
    drivers: tuple[str, ...] = ("age", "latency_ms", "balance")
    n_classes: int = 2
    regions: tuple[str, ...] = ("north", "south", "east", "west", "central")
    region_p: tuple[float, ...] = (0.3, 0.25, 0.2, 0.15, 0.1)
    income_missing: float = 0.01

    def logit(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """The true log-odds of ``label = 1`` given the features (the concept)."""
        z_age = (features["age"] - 40.0) / 12.0
        z_bal = (features["balance"] - 1000.0) / 300.0
        z_lat = (features["latency_ms"] - 200.0) / 40.0
        basic = (features["plan"] == "basic").astype(float)
        return (
            -0.3
            + 0.9 * z_age
            - 0.7 * z_bal
            + 0.6 * z_lat
            + 0.5 * basic
            - 0.3 * (features["rating"] - 3.0)
        )

    def draw(self, rng: np.random.Generator, n: int) -> Batch:
        z = rng.standard_normal((n, 6))
        z[:, 1] = 0.5 * z[:, 0] + np.sqrt(0.75) * z[:, 1]
        z[:, 3] = 0.4 * z[:, 2] + np.sqrt(0.84) * z[:, 3]
        income = np.exp(10.5 + 0.5 * z[:, 1])
        income[rng.random(n) < self.income_missing] = np.nan
        s = z[:, 1] + 0.5 * rng.standard_normal(n)
        plan = np.where(s < 0.3, "basic", np.where(s < 1.2, "pro", "enterprise")).astype(object)
        region = np.asarray(self.regions, dtype=object)[
            rng.choice(len(self.regions), size=n, p=np.asarray(self.region_p))
        ]
        feats = {
            "age": 40.0 + 12.0 * z[:, 0],
            "income": income,
            "balance": 1000.0 + 300.0 * z[:, 2],
            "sessions": 8.0 + 3.0 * z[:, 3],
            "latency_ms": 200.0 + 40.0 * z[:, 4],
            "rating": 3.0 + z[:, 5],
            "plan": plan,
            "region": region,
        }
        labels = (rng.random(n) < _sigmoid(self.logit(feats))).astype(np.int64)
        return Batch(feats, labels)

    def candidates(self, rng: np.random.Generator, n: int) -> Batch:
        return self.draw(rng, max(CANDIDATE_FACTOR * n, 4096))


@dataclass(frozen=True)
class TableSource:
    """A fixed table (e.g. a bundled dataset); rows are drawn with replacement.

    Examples
    --------
    >>> t = TableSource.from_arrays("toy", np.arange(20.0).reshape(10, 2), np.arange(10) % 2,
    ...                             ["a", "b"])
    >>> len(t.draw(np.random.default_rng(0), 5)), t.categorical
    (5, ('bucket',))
    """

    name: str
    table: Batch
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    drivers: tuple[str, ...]
    n_classes: int
    description: str = field(default="", compare=False)

    @classmethod
    def from_arrays(
        cls,
        name: str,
        x: np.ndarray,
        y: np.ndarray,
        names: Sequence[str],
        *,
        description: str = "",
        n_drivers: int = 3,
    ) -> TableSource:
        """Build from a matrix; drivers are the columns most correlated with the label.

        Only columns with at least 10 distinct values can be drivers (so binary columns
        and image pixels that never change are never chosen); a derived categorical
        ``bucket`` holds the quartile of the first driver.
        """
        x = np.asarray(x, dtype=np.float64)
        names = [str(n).replace(" ", "_") for n in names]
        yf = np.asarray(y, dtype=np.float64)
        corr = np.zeros(x.shape[1])
        for j in range(x.shape[1]):
            if len(np.unique(x[:, j])) >= 10:
                corr[j] = abs(np.corrcoef(x[:, j], yf)[0, 1]) + 1e-9
        order = np.argsort(-corr, kind="stable")
        drivers = tuple(names[i] for i in order[:n_drivers])
        feats = {n: x[:, i].copy() for i, n in enumerate(names)}
        main = feats[drivers[0]]
        q = np.quantile(main, [0.25, 0.5, 0.75])
        bucket = np.asarray(["q1", "q2", "q3", "q4"], dtype=object)[np.searchsorted(q, main)]
        feats["bucket"] = bucket
        labels = np.asarray(y).astype(np.int64)
        return cls(
            name=name,
            table=Batch(feats, labels),
            numeric=tuple(names),
            categorical=("bucket",),
            drivers=drivers,
            n_classes=int(labels.max()) + 1,
            description=description,
        )

    def draw(self, rng: np.random.Generator, n: int) -> Batch:
        return self.table.take(rng.integers(0, len(self.table), size=n))

    def candidates(self, rng: np.random.Generator, n: int) -> Batch:
        return self.table


def _sklearn(loader: str) -> Callable[[], TableSource]:
    def load() -> TableSource:
        try:
            from sklearn import datasets
        except ImportError:  # pragma: no cover - depends on the environment
            raise ConfigError(
                f"source {loader!r} needs scikit-learn's bundled datasets: pip install scikit-learn"
            ) from None
        data = getattr(datasets, f"load_{loader}")()
        x, y = np.asarray(data.data, dtype=np.float64), np.asarray(data.target)
        names = list(getattr(data, "feature_names", [f"x{i}" for i in range(x.shape[1])]))
        if loader == "diabetes":  # a regression target: above or below its median
            y = (y > np.median(y)).astype(np.int64)
        if loader == "digits":
            names = [f"px{i}" for i in range(x.shape[1])]
        return TableSource.from_arrays(loader, x, y, names, description=data.DESCR[:200])

    return load


_LOADERS: dict[str, Callable[[], Source]] = {
    "synthetic": SyntheticSource,
    "breast_cancer": _sklearn("breast_cancer"),
    "wine": _sklearn("wine"),
    "diabetes": _sklearn("diabetes"),
    "digits": _sklearn("digits"),
}


def list_sources() -> list[str]:
    """Names accepted by :func:`get_source`."""
    return sorted(_LOADERS)


@cache
def get_source(name: str) -> Source:
    """The source called ``name``; an unknown name lists the valid ones."""
    try:
        loader = _LOADERS[name]
    except KeyError:
        raise RegistryError(
            f"unknown source {name!r}; valid: {', '.join(list_sources())}"
        ) from None
    return loader()
