"""The shared conformance suite: every registered detector passes it automatically."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

from driftscope.detectors import registry
from driftscope.errors import DetectorInputError
from driftscope.types import Score

from .conftest import kinds_of, make_data

N = 120


def _cases() -> list[tuple[str, str]]:
    cases = []
    for name in registry.names():
        kind = registry.DETECTORS.cls(name).input_kind
        cases += [(name, k) for k in kinds_of(kind)]
    return cases


CASES = _cases()
IDS = [f"{n}-{k}" for n, k in CASES]


def _fit(name: str, kind: str, seed: int = 0):
    ref = make_data(kind, N, seed=1)
    return registry.get(name).fit(ref, rng=np.random.default_rng(seed)), ref


def test_every_detector_is_covered() -> None:
    assert {n for n, _ in CASES} == set(registry.names())
    assert len(registry.names()) >= 12


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_same_rng_same_score(name: str, kind: str) -> None:
    cur = make_data(kind, 80, seed=2, shift=0.3)
    a = _fit(name, kind, seed=7)[0].score(cur)
    b = _fit(name, kind, seed=7)[0].score(cur)
    assert a.statistic == b.statistic
    assert a.threshold == b.threshold
    assert a.p_value == b.p_value


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_reference_against_itself_is_not_drifted(name: str, kind: str) -> None:
    fitted, ref = _fit(name, kind)
    score = fitted.score(ref)
    assert isinstance(score, Score)
    assert not score.drifted
    assert score.policy


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_fitted_survives_pickle(name: str, kind: str) -> None:
    fitted, _ = _fit(name, kind)
    cur = make_data(kind, 80, seed=3, shift=0.5)
    clone = pickle.loads(pickle.dumps(fitted))
    a, b = fitted.score(cur), clone.score(cur)
    assert (a.statistic, a.threshold, a.p_value) == (b.statistic, b.threshold, b.p_value)


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_inputs_not_mutated(name: str, kind: str) -> None:
    ref = make_data(kind, N, seed=1)
    cur = make_data(kind, 80, seed=4, shift=0.5)
    ref0, cur0 = copy.deepcopy(ref), copy.deepcopy(cur)
    fitted = registry.get(name).fit(ref, rng=np.random.default_rng(0))
    fitted.score(cur)
    np.testing.assert_array_equal(ref, ref0)
    np.testing.assert_array_equal(cur, cur0)


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_statistic_finite_and_non_negative(name: str, kind: str) -> None:
    fitted, _ = _fit(name, kind)
    for seed, shift in [(5, 0.0), (6, 0.5), (7, 3.0)]:
        s = fitted.score(make_data(kind, 80, seed=seed, shift=shift))
        assert np.isfinite(s.statistic) and s.statistic >= 0
        assert not np.isnan(s.threshold)
        if s.p_value is not None:  # analytic p-values may underflow to 0; permutation never
            assert 0 <= s.p_value <= 1
            assert s.policy != "permutation" or s.p_value > 0


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_large_shift_is_drift(name: str, kind: str) -> None:
    fitted, _ = _fit(name, kind)
    s = fitted.score(make_data(kind, 100, seed=8, shift=3.0))
    assert s.drifted, s


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_empty_window_is_a_clear_error(name: str, kind: str) -> None:
    fitted, _ = _fit(name, kind)
    empty = np.empty((0, 4)) if kind == "multivariate" else np.array([], dtype=float)
    if kind == "categorical":
        empty = np.array([], dtype=object)
    with pytest.raises(DetectorInputError):
        fitted.score(empty)


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_wrong_kind_is_a_clear_error(name: str, kind: str) -> None:
    fitted, _ = _fit(name, kind)
    wrong = {
        "numeric": make_data("categorical", 50, 9),
        "categorical": make_data("numeric", 50, 9),
        "multivariate": np.ones((50, 3)),  # mismatched columns
    }[kind]
    with pytest.raises(DetectorInputError):
        fitted.score(wrong)


@pytest.mark.parametrize(("name", "kind"), CASES, ids=IDS)
def test_details_are_json_serialisable(name: str, kind: str) -> None:
    fitted, _ = _fit(name, kind)
    s = fitted.score(make_data(kind, 80, seed=10, shift=1.0))
    json.dumps(dict(s.details), allow_nan=False)
