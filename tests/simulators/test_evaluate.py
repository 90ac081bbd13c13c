"""The default decision rule and the harness on small runs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from driftscope.monitor.config import DEFAULT_DETECTORS, FdrSpec, PersistenceSpec
from driftscope.simulators.calibration import FeatureMonitor, detector_specs, detectors_for
from driftscope.simulators.evaluate import (
    EvalConfig,
    Harness,
    consecutive_alerts,
    default_monitor_decision,
    window_drifted,
)
from driftscope.simulators.report import suite, to_markdown
from driftscope.types import Score

SMALL = EvalConfig(
    sizes=(1000,),
    trials=2,
    n_reference=4000,
    windows_before=3,
    windows_after=4,
    null_windows=60,
    references=2,
    periodic_windows=48,
)


def _rq(p: float, stat: float = 1.0) -> Score:
    return Score(stat, 0.5, "reference-quantile", p)


def test_window_drifted_is_the_monitors_benjamini_hochberg() -> None:
    assert window_drifted([_rq(0.001), _rq(0.5), _rq(0.9)], alpha=0.01)
    assert not window_drifted([_rq(0.004), _rq(0.5), _rq(0.9)], alpha=0.01)  # > 0.01 / 3
    assert window_drifted([_rq(0.005), _rq(0.006), _rq(0.9)], alpha=0.01)  # ≤ 2 · 0.01 / 3
    # the monitor's other conditions: above the threshold and the minimum effect
    assert not window_drifted([_rq(0.0001, stat=0.4)], alpha=0.01)
    assert not window_drifted([_rq(0.0001)], alpha=0.01, min_effects=[2.0])


def test_consecutive_alerts_follow_the_alert_engine() -> None:
    # opens at the 2nd bad window; one good window does not resolve it; two do
    flags = [True, False, True, True, True, True, False, True, True, False, False, True, True]
    assert np.nonzero(consecutive_alerts(flags))[0].tolist() == [3, 12]
    assert np.nonzero(consecutive_alerts(flags, consecutive=1))[0].tolist() == [0, 11]
    assert not default_monitor_decision([[_rq(0.0001)], [_rq(0.5)], [_rq(0.0001)]]).any()


def test_harness_runs_the_monitors_default_configuration() -> None:
    assert detector_specs() == list(DEFAULT_DETECTORS)
    assert EvalConfig().alpha == FdrSpec().alpha == 0.01
    assert EvalConfig().seasonal_width == 3 and EvalConfig().consecutive == 2


def test_p_values_are_uniformish_under_no_drift_and_small_under_drift() -> None:
    rng = np.random.default_rng(0)
    ref = {"x": rng.normal(size=4000)}
    fm = FeatureMonitor(n_null=200).fit(ref, rng=rng)
    null_p = [fm.p_values({"x": rng.normal(size=500)})["x"] for _ in range(60)]
    assert 0.3 < np.mean(null_p) < 0.7
    assert fm.p_values({"x": rng.normal(0.5, 1, 500)})["x"] < 1e-4


def test_detector_configurations() -> None:
    assert detectors_for("default") == {"numeric": "emd", "categorical": "linf"}
    assert detectors_for("ks")["categorical"] == "linf"
    assert detectors_for("psi") == {"numeric": "psi", "categorical": "psi"}


def test_harness_detects_covariate_fast_and_ignores_a_one_window_spike() -> None:
    h = Harness(SMALL)
    r = h.drift("instantaneous-covariate", "medium")
    assert r.power[1000] == 1.0 and r.delay_max[1000] <= 3
    t = h.drift("temporary-covariate", "high")
    assert t.alerted[1000] == 0.0 and t.paged[1000] == 0.0
    assert h.silent("no-drift", "none").false_alarms[1000] == 0.0


def test_periodic_is_silent_with_a_seasonal_reference() -> None:
    cfg = EvalConfig(sizes=(1000,), n_reference=3000, references=1, periodic_windows=48)
    r = Harness(cfg).silent("periodic-covariate", "high")
    assert r.windows[1000] == 48 and r.false_alarms[1000] == 0.0


def test_report_lists_every_result() -> None:
    drift, silent = suite("quick")
    assert drift and silent
    h = Harness(SMALL)
    text = to_markdown([h.drift(*drift[0]), h.silent(*silent[0])], SMALL)
    assert "| instantaneous-covariate | high | default | 1 |" in text
    assert "| no-drift | none | default | fixed | 1000 | 60 | 0 |" in text
    with pytest.raises(ValueError, match="valid"):
        suite("everything")


def test_concept_drift_needs_the_labels() -> None:
    blind = Harness(SMALL).drift("instantaneous-concept", "high")
    seeing = Harness(dataclasses.replace(SMALL, watch_labels=True))
    r = seeing.drift("instantaneous-concept", "high")
    assert blind.power[1000] <= 0.25 and r.power[1000] == 1.0
    assert r.detector == "default+labels"


def test_replaying_a_persistence_setting_equals_running_it() -> None:
    """The kept evidence decides exactly as the harness run with that setting does, so
    benchmarks/persistence_frontier.py can compare settings without re-scoring."""
    strict = PersistenceSpec(directed_alpha=0.002, jump_ratio=0.15)
    loose = PersistenceSpec(alpha=0.2, directed_alpha=0.3, jump_ratio=0.6, follow_alpha=0.3)
    h = Harness(dataclasses.replace(SMALL, persistence=strict))
    sc = h._scenario("gradual-covariate", 500)
    wins = list(sc.generate(np.random.default_rng(3), 16 * 500, onset=6 * 500,
                            intensity="medium", source=h.source).windows(500))
    ran = h.flags(h.monitor(0), wins)
    other = Harness(dataclasses.replace(SMALL, persistence=loose)).flags(h.monitor(0), wins)
    replayed = ran.replay(loose)
    assert ran.evidence and ran.evidence.keys() == other.evidence.keys()
    assert (replayed.carried == other.carried).all()
    assert (replayed.follows == other.follows).all()
    assert (ran.replay(strict).carried == ran.carried).all()
    # the two settings disagree somewhere, or the comparison would show nothing
    assert (ran.carried != other.carried).any() or (ran.follows != other.follows).any()


def test_a_random_phase_puts_each_onset_inside_its_window() -> None:
    """``phase="random"``: the drift begins anywhere in the onset window, as in production
    (found in review: every onset and burst fell on the window grid, the best case, and
    a one-window burst never straddled two windows)."""
    from dataclasses import replace

    h = Harness(replace(SMALL, phase="random", trials=6))
    offsets = [h.offset("temporary-covariate", 1000, t) for t in range(6)]
    assert all(0 <= o < 1000 for o in offsets) and len(set(offsets)) == 6
    t = int(np.argmax([min(o, 1000 - o) for o in offsets]))  # one well inside
    wins = h.windows("temporary-covariate", "high", 1000, t)
    before = SMALL.windows_before
    drifted = [int((w.weights > 0).sum()) for w in wins[before - 1: before + 3]]
    assert drifted == [0, 1000 - offsets[t], offsets[t], 0]  # the burst over two windows
    assert Harness(SMALL).offset("temporary-covariate", 1000, 0) == 0  # the default


def test_a_burst_straddling_two_windows_seldom_pages() -> None:
    """At a random phase a one-window burst touches two windows, both flagged, both moved
    the same way: without the stop check (``stop_alpha``) about half of them paged; with
    it, the second window's drift is seen to stop partway and the pair does not page."""
    cfg = dataclasses.replace(SMALL, phase="random", trials=40, windows_after=3)
    on = Harness(cfg).drift("temporary-covariate", "high")
    off = Harness(dataclasses.replace(cfg, persistence=PersistenceSpec(stop_alpha=None))).drift(
        "temporary-covariate", "high")
    assert on.paged[1000] <= 0.1 < 0.25 <= off.paged[1000]
