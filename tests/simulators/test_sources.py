"""Real tabular sources (scikit-learn's bundled datasets) get the same drift, induced by
feature-based subsampling, noise and class subsampling."""

from __future__ import annotations

import numpy as np
import pytest

from driftscope.errors import RegistryError
from driftscope.simulators.scenarios import get_scenario
from driftscope.simulators.sources import TableSource, get_source, list_sources

pytest.importorskip("sklearn")

REAL = ["breast_cancer", "wine", "diabetes", "digits"]


def test_unknown_source_lists_valid_ones() -> None:
    with pytest.raises(RegistryError, match="valid: breast_cancer"):
        get_source("mnist")
    assert set(REAL) | {"synthetic"} == set(list_sources())


@pytest.mark.parametrize("name", REAL)
def test_covariate_subsampling_moves_the_main_driver(name: str) -> None:
    src = get_source(name)
    sc = get_scenario("instantaneous-covariate").with_(source=name)
    s = sc.generate(np.random.default_rng(0), 20_000, intensity="high")
    x = s.features[src.drivers[0]]
    sd = x[:10_000].std()
    assert (x[10_000:].mean() - x[:10_000].mean()) / sd > 0.3


@pytest.mark.parametrize("name", REAL)
def test_class_subsampling_changes_the_class_mix(name: str) -> None:
    src = get_source(name)
    sc = get_scenario("instantaneous-prior").with_(source=name)
    s = sc.generate(np.random.default_rng(1), 20_000, intensity="high")
    last = src.n_classes - 1
    before, after = (s.labels[:10_000] == last).mean(), (s.labels[10_000:] == last).mean()
    f = 8.0
    assert after == pytest.approx(before * f / (before * f + 1 - before), abs=0.03)


def test_noise_and_new_category_on_a_real_table() -> None:
    src = get_source("wine")
    s = (
        get_scenario("instantaneous-noise")
        .with_(source="wine")
        .generate(np.random.default_rng(2), 20_000, intensity="high")
    )
    x = s.features[src.drivers[0]]
    assert x[10_000:].std() / x[:10_000].std() == pytest.approx(np.sqrt(2), rel=0.05)
    s = (
        get_scenario("instantaneous-new-category")
        .with_(source="wine")
        .generate(np.random.default_rng(2), 4000, intensity="high")
    )
    assert set(s.features["bucket"][:2000]) == {"q1", "q2", "q3", "q4"}
    assert {"new_0", "new_1", "new_2"} <= set(s.features["bucket"][2000:])


def test_digits_is_high_dimensional() -> None:
    src = get_source("digits")
    assert len(src.numeric) == 64 and src.n_classes == 10


def test_table_source_from_arrays() -> None:
    x = np.column_stack([np.arange(100.0), np.zeros(100)])
    t = TableSource.from_arrays("toy", x, (np.arange(100) > 50).astype(int), ["a", "b"])
    assert t.drivers[0] == "a"  # the constant column is never a driver
    assert len(t.draw(np.random.default_rng(0), 7)) == 7
