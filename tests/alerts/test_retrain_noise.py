"""A ``performance_below`` retraining policy holds the window that asks to its bound beyond
sampling noise, as a rule does (``beyond_noise``, default 1): a healthy model at 0.92 on
25 labels a window read under 0.85 in one window of six by chance, and asked to be
retrained twice in 400 windows (8 times without a cooldown) while the equivalent accuracy
rule opened no alert (the model-performance review, fault C)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.alerts.config import RetrainPolicy
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import WindowVerdict
from driftscope.alerts.retrain import decide
from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(hours=1)


def _policy(**kw: Any) -> RetrainPolicy:
    return RetrainPolicy(name="acc", kind="performance_below", metric="accuracy", bound=0.85,
                         **kw)


def _verdict(value: float, labels: int, se: float = 0.08) -> WindowVerdict:
    return WindowVerdict("m", "mon", T, T + W, 100, metrics={"accuracy": value},
                         noise={"accuracy": (labels, se)})


def test_a_value_under_the_bound_within_its_noise_asks_nothing() -> None:
    """0.80 on 25 labels: within one binomial error of 0.85 (0.071), as a rule lets be;
    0.76 is beyond it; on 1,000 labels (0.011) 0.80 asks."""
    assert RetrainPolicy(name="a", kind="performance_below", metric="accuracy",
                         bound=0.85).beyond_noise == 1.0
    assert decide(_policy(), _verdict(0.80, 25), drift_streak=0, last_request=None,
                  below_streak=2) is None
    got = decide(_policy(), _verdict(0.76, 25), drift_streak=0, last_request=None,
                 below_streak=2)
    assert got is not None
    assert got.evidence["noise"] == round((0.85 * 0.15) ** 0.5 / 5, 6)
    assert got.evidence["beyond_noise"] == 1.0
    assert decide(_policy(), _verdict(0.80, 1000), drift_streak=0, last_request=None,
                  below_streak=2) is not None


def test_beyond_noise_0_is_the_plain_bound_and_an_error_metric_uses_its_own_se() -> None:
    assert decide(_policy(beyond_noise=0), _verdict(0.80, 25), drift_streak=0,
                  last_request=None, below_streak=2) is not None
    rmse = RetrainPolicy(name="e", kind="performance_below", metric="rmse", bound=5.0,
                         beyond_noise=2)
    v = WindowVerdict("m", "mon", T, T + W, 100, metrics={"rmse": 5.5},
                      noise={"rmse": (30, 0.3)})
    assert decide(rmse, v, drift_streak=0, last_request=None, below_streak=2) is None
    v = WindowVerdict("m", "mon", T, T + W, 100, metrics={"rmse": 5.7},
                      noise={"rmse": (30, 0.3)})
    assert decide(rmse, v, drift_streak=0, last_request=None, below_streak=2) is not None
    # a verdict that keeps no noise (made elsewhere): the plain bound, as before
    plain = WindowVerdict("m", "mon", T, T + W, 100, metrics={"accuracy": 0.84})
    assert decide(_policy(), plain, drift_streak=0, last_request=None,
                  below_streak=2) is not None


def _generator(accuracy: list[float]) -> Any:
    """Windows of labelled events right ``accuracy[i]`` of the time."""
    def generate(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.integers(0, 2, n)
        wrong = np.arange(n) >= round(accuracy[i] * n)
        return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y).astype(float),
                "label": y}
    return generate


def _config(**policy: Any) -> Config:
    """A monitor of accuracy (no band, no anomaly) and a policy at 0.85 over 2 windows."""
    return Config.model_validate({
        "models": [{"id": "m", "window": "1h"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "reference": {"kind": "previous"},
                      "performance": {"task": "classification", "prediction": "pred",
                                      "metrics": ["accuracy"]},
                      "band": {"enabled": False}, "anomaly": {"enabled": False}}],
        "alerts": {"console": False, "retrain": {
            "kafka": False, "cooldown": "0s",
            "policies": [{"name": "acc", "kind": "performance_below", "metric": "accuracy",
                          "bound": 0.85, "training_window": "1h", **policy}]}}})


def _requests(store: Store) -> int:
    return int(store.query(f"SELECT count() FROM {S.RETRAIN_REQUESTS} FINAL")[0][0])


def _run(store: Store, accuracy: list[float], **policy: Any) -> int:
    """Windows of 25 labelled events right ``accuracy[i] * 25`` times, through the monitor
    and the alert engine: the retraining requests they made."""
    write_windows(store, "m", T, W, len(accuracy), 25, _generator(accuracy), seed=3)
    cfg = _config(**policy)
    engine = AlertEngine(store, cfg.alerts)
    while Monitor(store, cfg, alerts=engine).run_once():
        pass
    return _requests(store)


def test_windows_under_the_bound_within_their_noise_ask_no_retraining(store: Store) -> None:
    """Pairs of windows at 0.80 on 25 labels (20 right), between windows at 0.92: each pair
    asked to retrain at the plain bound. Beyond one error (0.071), none does."""
    acc = [0.92, 0.92, 0.80, 0.80, 0.92, 0.92, 0.80, 0.80, 0.92, 0.92]
    assert _run(store, acc) == 0


def test_a_real_fall_still_asks(store: Store) -> None:
    acc = [0.92, 0.92, 0.92, 0.60, 0.60, 0.60]
    assert _run(store, acc) >= 1


def test_beyond_noise_0_asks_at_the_plain_bound(store: Store) -> None:
    acc = [0.92, 0.92, 0.80, 0.80, 0.92, 0.92, 0.80, 0.80, 0.92, 0.92]
    assert _run(store, acc, beyond_noise=0) == 2


def _two_passes(store: Store, first: list[float], then: list[float]) -> int:
    """``first`` windows through one monitor pass and alert engine, ``then`` the next ones
    through a new engine (a restart: the earlier windows' noise read from the store)."""
    cfg = _config()
    write_windows(store, "m", T, W, len(first), 25, _generator(first), seed=3)
    Monitor(store, cfg, alerts=AlertEngine(store, cfg.alerts)).run_once()
    write_windows(store, "m", T + len(first) * W, W, len(then) + 1, 25,
                  _generator([*then, 0.92]), seed=4)  # (the last window closes the others)
    Monitor(store, cfg, alerts=AlertEngine(store, cfg.alerts)).run_once()
    return _requests(store)


def test_the_windows_before_count_only_beyond_their_noise_after_a_restart(
        store: Store) -> None:
    """0.80 on 25 labels, then 0.72 after a restart: the first is within its noise, so the
    run of two windows under the bound is one (before: counted at the plain bound, it
    asked)."""
    assert _two_passes(store, [0.92, 0.92, 0.92, 0.80], [0.72]) == 0


def test_two_windows_beyond_their_noise_ask_across_a_restart(store: Store) -> None:
    assert _two_passes(store, [0.92, 0.92, 0.92, 0.72], [0.72]) == 1
