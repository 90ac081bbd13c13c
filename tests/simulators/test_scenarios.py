"""Each scenario's ground truth is really in the data it emits."""

from __future__ import annotations

import numpy as np
import pytest

from driftscope.errors import ConfigError, RegistryError
from driftscope.events import PredictionEvent
from driftscope.simulators.effects import KINDS, LEVELS, NEW_CATEGORIES
from driftscope.simulators.scenarios import (
    TEMPORALS,
    Clock,
    Stream,
    get_scenario,
    list_scenarios,
)
from driftscope.simulators.sources import SyntheticSource

N = 40_000
HALF = N // 2


def gen(name: str, intensity: str = "high", seed: int = 0, n: int = N, **kw: object) -> Stream:
    return get_scenario(name).generate(np.random.default_rng(seed), n, intensity=intensity, **kw)


def before_after(s: Stream, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = s.features[name]
    return x[:HALF], x[HALF:]


def test_registry_covers_every_temporal_shape_and_kind() -> None:
    names = list_scenarios()
    assert "no-drift" in names
    for t in TEMPORALS:
        for k in KINDS:
            assert f"{t}-{k}" in names
    assert len(names) == len(TEMPORALS) * len(KINDS) + 1
    with pytest.raises(RegistryError, match="valid: gradual-concept"):
        get_scenario("sideways-covariate")


def test_gradual_covariate_shape_and_event_dicts() -> None:
    s = gen("gradual-covariate", n=2000, intensity="medium")
    ev = next(iter(s.events()))
    assert len([k for k in ev["features"] if k in SyntheticSource().numeric]) == 6
    assert len([k for k in ev["features"] if k in SyntheticSource().categorical]) == 2
    assert not s.drifted[:1000].any() and s.drifted[1000:].any()
    for e in list(s.events())[::97]:
        PredictionEvent.model_validate(
            {
                "model_id": "m",
                "features": e["features"],
                "predictions": {"score": 0.5},
                "label": e["label"],
                "segments": e["segments"],
                "event_id": e["event_id"],
                "timestamp": e["timestamp"],
            }
        )


@pytest.mark.parametrize(("intensity", "lv"), [("low", 0.15), ("medium", 0.35),
                                               ("high", 0.7)])
def test_covariate_shifts_means_by_the_claimed_amount(intensity: str, lv: float) -> None:
    """The shifts docs/simulators.md and the bar state (a change of LEVELS fails here)."""
    s = gen("instantaneous-covariate", intensity)
    a0, a1 = before_after(s, "age")
    l0, l1 = before_after(s, "latency_ms")
    assert (a1.mean() - a0.mean()) / 12.0 == pytest.approx(lv, abs=0.04)
    assert (l1.mean() - l0.mean()) / 40.0 == pytest.approx(-lv, abs=0.04)
    # P(y | x) is unchanged: labels stay calibrated to the true logit after the onset
    src = SyntheticSource()
    post = {k: v[HALF:] for k, v in s.features.items()}
    p = 1 / (1 + np.exp(-src.logit(post)))
    assert abs(float(np.mean(s.labels[HALF:] - p))) < 0.01


def test_prior_changes_class_mix_not_class_conditionals() -> None:
    s = gen("instantaneous-prior")
    y0, y1 = s.labels[:HALF], s.labels[HALF:]
    p0, f = y0.mean(), LEVELS["prior"]["high"]
    assert y1.mean() == pytest.approx(p0 * f / (p0 * f + 1 - p0), abs=0.02)
    a0, a1 = before_after(s, "age")
    for cls in (0, 1):
        assert a1[y1 == cls].mean() == pytest.approx(a0[y0 == cls].mean(), abs=0.6)


def test_concept_changes_labels_not_inputs() -> None:
    s = gen("instantaneous-concept")
    a0, a1 = before_after(s, "age")
    assert a1.mean() == pytest.approx(a0.mean(), abs=0.3)
    assert a1.std() == pytest.approx(a0.std(), rel=0.03)
    src = SyntheticSource()
    p = 1 / (1 + np.exp(-src.logit(s.features)))
    resid = s.labels - p
    upper = s.features["age"] > np.median(a0)
    assert abs(resid[:HALF][upper[:HALF]].mean()) < 0.02
    assert abs(resid[HALF:][upper[HALF:]].mean()) > 0.2  # the high-age region flipped
    assert abs(resid[HALF:][~upper[HALF:]].mean()) < 0.02


def test_noise_inflates_spread_and_keeps_means() -> None:
    s = gen("instantaneous-noise")
    b0, b1 = before_after(s, "balance")
    assert b1.std() / b0.std() == pytest.approx(np.sqrt(1 + LEVELS["noise"]["high"] ** 2), rel=0.03)
    assert b1.mean() == pytest.approx(b0.mean(), abs=10)


@pytest.mark.parametrize("intensity", ["low", "medium", "high"])
def test_missing_rate_rises(intensity: str) -> None:
    s = gen("instantaneous-missing", intensity)
    for name in ("age", "latency_ms"):
        x0, x1 = before_after(s, name)
        assert np.isnan(x0).mean() == 0
        assert np.isnan(x1).mean() == pytest.approx(LEVELS["missing"][intensity], abs=0.015)


def test_unit_change_scales_the_main_driver() -> None:
    s = gen("instantaneous-unit", "medium")
    a0, a1 = before_after(s, "age")
    assert np.median(a1) / np.median(a0) == pytest.approx(2.2046, rel=0.02)


def test_stuck_feature_repeats_one_value() -> None:
    s = gen("instantaneous-stuck", "medium")
    a0, a1 = before_after(s, "age")
    values, counts = np.unique(a1, return_counts=True)
    assert counts.max() / len(a1) == pytest.approx(LEVELS["stuck"]["medium"], abs=0.015)
    assert values[counts.argmax()] == pytest.approx(40.0, abs=0.5)
    assert np.unique(a0).size == len(a0)


def test_new_categories_appear() -> None:
    s = gen("instantaneous-new-category", "medium")
    p0, p1 = before_after(s, "plan")
    assert not np.isin(p0, NEW_CATEGORIES).any()
    assert np.isin(p1, NEW_CATEGORIES).mean() == pytest.approx(0.15, abs=0.015)


def test_gradual_ramps_up() -> None:
    s = gen("gradual-covariate", onset=0.25)  # ramp over 20 % of the stream
    w = s.weights
    assert w[: N // 4].max() == 0 and w[int(0.45 * N) :].min() == 1
    age = s.features["age"]
    quarter = [age[int(a * N) : int((a + 0.05) * N)].mean() for a in (0.25, 0.35, 0.45)]
    assert quarter[0] < quarter[1] < quarter[2]
    assert s.drifted[int(0.3 * N) : int(0.35 * N)].mean() == pytest.approx(0.375, abs=0.05)


def test_temporary_returns_to_baseline() -> None:
    s = gen("temporary-missing", n=6000, onset=2000)
    x = s.features["age"]
    assert np.isnan(x[:2000]).mean() == 0
    assert np.isnan(x[2000:3000]).mean() == pytest.approx(0.5, abs=0.06)
    assert np.isnan(x[3000:]).mean() == 0


def test_periodic_cycles_daily_and_returns() -> None:
    clock = Clock(events_per_second=1000 / 3600)  # a day = 24,000 events
    s = gen("periodic-covariate", n=48_000, clock=clock)
    age = s.features["age"]
    hour = [age[h * 1000 : (h + 1) * 1000].mean() for h in range(48)]
    assert hour[12] - hour[0] == pytest.approx(0.7 * 12, abs=1.5)  # peak at noon
    assert abs(hour[24] - hour[0]) < 1.5  # back at midnight the next day
    assert hour[36] - hour[24] == pytest.approx(hour[12] - hour[0], abs=1.5)


def test_weekly_period() -> None:
    from datetime import timedelta

    sc = get_scenario("periodic-prior").with_(period=timedelta(days=7))
    w = sc.weights(7 * 24, clock=Clock(events_per_second=1 / 3600))
    assert w.argmax() == 84 and w[0] == 0


def test_no_drift_has_no_drift() -> None:
    s = gen("no-drift", intensity="none")
    assert not s.drifted.any()
    a0, a1 = before_after(s, "age")
    assert a1.mean() == pytest.approx(a0.mean(), abs=0.3)


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    a = gen("gradual-new-category", seed=3, n=3000)
    b = gen("gradual-new-category", seed=3, n=3000)
    c = gen("gradual-new-category", seed=4, n=3000)
    assert list(a.event_ids) == list(b.event_ids)
    for k in a.features:
        assert np.array_equal(
            a.features[k], b.features[k], equal_nan=a.features[k].dtype.kind == "f"
        )
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.drifted, b.drifted)
    assert list(a.event_ids) != list(c.event_ids)
    assert not np.array_equal(a.features["age"], c.features["age"])


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="intensity"):
        gen("instantaneous-covariate", "extreme", n=10)
    with pytest.raises(ConfigError, match="onset"):
        gen("instantaneous-covariate", n=10, onset=1.5)
