"""One stray value in the reference (a sentinel such as 999999999, a unit slip) must not
blind the monitor to a change everyone can see."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.config import Config
from driftscope.monitor import evaluate as ev
from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.detect import Fitter
from driftscope.monitor.frame import Frame

SENTINEL = 999_999_999.0


def monitor(features: list[str], **extra: Any) -> MonitorConfig:
    c = Config.model_validate({"models": [{"id": "m", "window": "10m"}],
                               "monitors": [{"name": "mon", "model": "m",
                                             "features": features, **extra}]})
    return c.monitors[0].model_copy(update={"window": timedelta(minutes=10)})


def frame(columns: dict[str, np.ndarray]) -> Frame:
    n = len(next(iter(columns.values())))
    return Frame(np.arange(n).astype("datetime64[ms]"), columns, {}, None)


def drift(cfg: MonitorConfig, cur: dict[str, np.ndarray],
          ref: dict[str, np.ndarray]) -> dict[tuple[str, str], ev.Row]:
    c, r, _ = ev.align(frame(cur), frame(ref))
    return {(row.feature, row.metric): row
            for row in ev.drift_rows(cfg, Fitter(0), c, r)}


def amounts(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Mostly zero (no purchase), lognormal where there is one: no interquartile range."""
    return np.where(rng.random(n) < share, rng.lognormal(4, 1, n), 0.0)


def test_a_sentinel_in_a_mostly_zero_reference_does_not_hide_drift() -> None:
    rng = np.random.default_rng(1)
    ref = amounts(rng, 3000, 0.2)
    ref[-1] = SENTINEL  # one "unknown" code among 3,000 amounts
    cfg = monitor(["amount"])
    moved = drift(cfg, {"amount": amounts(rng, 300, 0.6)}, {"amount": ref})["amount", "emd"]
    assert moved.bad, moved  # 20 % → 60 % of rows with a purchase: plain to see
    assert moved.details["scale_rule"] == "clipped_std"
    assert moved.statistic > 0.5  # in the bulk's own spread, not the sentinel's
    same = [drift(cfg, {"amount": amounts(rng, 300, 0.2)}, {"amount": ref})["amount", "emd"]
            for _ in range(20)]
    assert sum(r.bad for r in same) <= 1


def test_a_projection_of_a_feature_holding_text_is_skipped_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """It was a TypeError in every window ("unsupported operand type(s) for /: 'str' and
    'int'"), each window retried for ever and the monitor's other results held back."""
    rng = np.random.default_rng(2)
    cfg = monitor(["age", "plan"], projections=[{"name": "p", "kind": "norm",
                                                 "features": ["age", "plan"]}])
    cols = {"age": rng.normal(40, 10, 300),
            "plan": rng.choice(np.array(["basic", "pro"], dtype=object), 300)}
    with caplog.at_level(logging.WARNING, logger="driftscope.monitor"):
        for _ in range(2):
            rows = drift(cfg, cols, cols)
            assert ("age", "emd") in rows and ("plan", "linf") in rows
            assert not any(f.startswith("projection:") for f, _ in rows)
    told = [r.getMessage() for r in caplog.records if "projection" in r.getMessage()]
    assert told == ["monitor mon: projection 'p' skipped: feature 'plan' holds text; a "
                    "projection takes numeric features only"]


def test_a_projection_sees_a_shift_past_a_sentinel() -> None:
    rng = np.random.default_rng(4)
    ref = {"a": rng.normal(size=2000), "b": rng.normal(size=2000)}
    ref["a"][5] = SENTINEL
    cfg = monitor(["a", "b"], projections=[{"name": "p", "kind": "mean",
                                            "features": ["a", "b"]}])
    cur = {"a": rng.normal(size=300) + 1.5, "b": rng.normal(size=300)}  # a alone moves
    assert drift(cfg, cur, ref)["projection:p", "emd"].bad
