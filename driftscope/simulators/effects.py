"""Drift kinds: how a drifted row differs from a base row, at three intensities.

Each effect draws ``n`` drifted rows from a source. Covariate and class-mix drift
subsample the source's candidates with weights, so the labelling function P(y | x) (or
the class-conditional P(x | y)) is kept exactly; concept drift keeps the inputs and
changes the labels; data-quality faults corrupt the inputs and keep the labels.

``EXPECTED`` documents, per kind, what the drift does at each intensity — the ground
truth the tests check against the emitted data.

Examples
--------
>>> import numpy as np
>>> from driftscope.simulators.sources import get_source
>>> b = draw_drifted("missing", get_source("synthetic"), np.random.default_rng(0), 2000, "high")
>>> round(float(np.isnan(b.features["age"]).mean()), 1)
0.5
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from driftscope.errors import ConfigError

from .sources import Batch, Source

INTENSITIES = ("low", "medium", "high")

LEVELS: dict[str, dict[str, float]] = {
    # exponential tilt of the standardised drivers: Gaussian means move by this many SDs
    "covariate": {"low": 0.15, "medium": 0.35, "high": 0.7},
    # odds multiplier of the last class (the positive class when binary)
    "prior": {"low": 1.5, "medium": 3.0, "high": 8.0},
    # probability a label is changed where the main driver is above its median
    "concept": {"low": 0.2, "medium": 0.5, "high": 0.9},
    # Gaussian noise added to every numeric feature, in units of its SD
    "noise": {"low": 0.25, "medium": 0.5, "high": 1.0},
    # rate at which the two first drivers are missing
    "missing": {"low": 0.05, "medium": 0.2, "high": 0.5},
    # the main driver is multiplied by this (miles→km, kg→lb, m→cm)
    "unit": {"low": 1.609, "medium": 2.2046, "high": 100.0},
    # share of rows whose main driver is stuck at the base median
    "stuck": {"low": 0.3, "medium": 0.6, "high": 1.0},
    # share of rows whose first categorical takes a category never seen before
    "new-category": {"low": 0.05, "medium": 0.15, "high": 0.4},
}
KINDS = tuple(LEVELS)
NEW_CATEGORIES = ("new_0", "new_1", "new_2")

EXPECTED = {
    "covariate": "mean of drivers[0] rises (and of drivers[1] falls, when it is not "
    "correlated with drivers[0]) by LEVEL SDs, exactly for Gaussian drivers; P(y|x) unchanged",
    "prior": "odds of the last class × LEVEL; P(x|y) unchanged",
    "concept": "labels change with probability LEVEL where drivers[0] > its median; inputs "
    "unchanged",
    "noise": "every numeric SD grows to sqrt(1 + LEVEL²) times; means unchanged",
    "missing": "drivers[0] and drivers[1] missing at rate LEVEL",
    "unit": "drivers[0] multiplied by LEVEL",
    "stuck": "drivers[0] equals the base median in a LEVEL share of rows",
    "new-category": "categorical[0] takes an unseen category at rate LEVEL",
}


def level(kind: str, intensity: str) -> float:
    """The numeric strength of ``kind`` at ``intensity`` (``low``/``medium``/``high``)."""
    if kind not in LEVELS:
        raise ConfigError(f"unknown drift kind {kind!r}; valid: {', '.join(KINDS)}")
    if intensity not in INTENSITIES:
        raise ConfigError(f"unknown intensity {intensity!r}; valid: {', '.join(INTENSITIES)}")
    return LEVELS[kind][intensity]


def _standardised(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    mu, sd = float(np.mean(x[ok])), float(np.std(x[ok])) or 1.0
    return np.where(ok, (x - mu) / sd, 0.0)


def _weighted(rng: np.random.Generator, n: int, logw: np.ndarray, pool: Batch) -> Batch:
    w = np.exp(logw - logw.max())
    return pool.take(rng.choice(len(pool), size=n, replace=True, p=w / w.sum()))


def _covariate(src: Source, rng: np.random.Generator, n: int, lv: float) -> Batch:
    pool = src.candidates(rng, n)
    z0 = _standardised(pool.features[src.drivers[0]])
    logw = lv * z0
    if len(src.drivers) > 1:  # a second, independent direction: its mean falls
        z1 = _standardised(pool.features[src.drivers[1]])
        if abs(float(np.mean(z0 * z1))) < 0.3:
            logw = logw - lv * z1
    return _weighted(rng, n, logw, pool)


def _prior(src: Source, rng: np.random.Generator, n: int, lv: float) -> Batch:
    pool = src.candidates(rng, n)
    logw = np.where(pool.labels == src.n_classes - 1, np.log(lv), 0.0)
    return _weighted(rng, n, logw, pool)


def _concept(src: Source, rng: np.random.Generator, n: int, lv: float) -> Batch:
    b = src.draw(rng, n).copy()
    main = b.features[src.drivers[0]]
    region = main > np.nanmedian(main)
    flip = region & (rng.random(n) < lv)
    b.labels[flip] = (b.labels[flip] + 1) % src.n_classes
    return b


def _noise(src: Source, rng: np.random.Generator, n: int, lv: float) -> Batch:
    b = src.draw(rng, n).copy()
    for name in src.numeric:
        x = b.features[name]
        sd = float(np.nanstd(x)) or 1.0
        b.features[name] = x + lv * sd * rng.standard_normal(n)
    return b


def _missing(src: Source, rng: np.random.Generator, n: int, lv: float) -> Batch:
    b = src.draw(rng, n).copy()
    for name in src.drivers[:2]:
        b.features[name][rng.random(n) < lv] = np.nan
    return b


def _unit(src: Source, rng: np.random.Generator, n: int, lv: float) -> Batch:
    b = src.draw(rng, n).copy()
    b.features[src.drivers[0]] = b.features[src.drivers[0]] * lv
    return b


def _stuck(src: Source, rng: np.random.Generator, n: int, lv: float) -> Batch:
    b = src.draw(rng, n).copy()
    x = b.features[src.drivers[0]]
    median = float(np.nanmedian(x)) if np.any(np.isfinite(x)) else 0.0
    x[rng.random(n) < lv] = round(median, 6)
    return b


def _new_category(src: Source, rng: np.random.Generator, n: int, lv: float) -> Batch:
    b = src.draw(rng, n).copy()
    if not src.categorical:
        raise ConfigError(f"source {src.name!r} has no categorical feature for new-category")
    c = b.features[src.categorical[0]]
    hit = rng.random(n) < lv
    c[hit] = np.asarray(NEW_CATEGORIES, dtype=object)[rng.integers(0, 3, size=int(hit.sum()))]
    return b


_EFFECTS: dict[str, Callable[[Source, np.random.Generator, int, float], Batch]] = {
    "covariate": _covariate,
    "prior": _prior,
    "concept": _concept,
    "noise": _noise,
    "missing": _missing,
    "unit": _unit,
    "stuck": _stuck,
    "new-category": _new_category,
}


def draw_drifted(kind: str, src: Source, rng: np.random.Generator, n: int, intensity: str) -> Batch:
    """``n`` rows of ``src`` drifted by ``kind`` at ``intensity``."""
    lv = level(kind, intensity)
    if n == 0:
        return src.draw(rng, 0)
    return _EFFECTS[kind](src, rng, n, lv)
