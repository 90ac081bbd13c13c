"""A segment key that is really an id (a user, a session): every window brought new values
and one quality alert stayed open for good, hiding what came after it (a reviewer's
session-id key: 29 of 29 windows flagged). The monitor says so, once."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from driftscope.monitor import evaluate
from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.frame import Frame


def frame(n: int, rng: np.random.Generator) -> Frame:
    return Frame(np.arange(n).astype("datetime64[ms]"), {"x": rng.normal(size=n)},
                 {"user": np.array([f"u{u}" for u in rng.integers(0, 10**6, n)], dtype=object),
                  "country": rng.choice(np.array(["DE", "FR", "IT"], dtype=object), n)})


def test_an_id_like_segment_key_is_named_once(caplog: pytest.LogCaptureFixture,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate, "_ID_TOLD", set())
    cfg = MonitorConfig(name="mon", model="m", features=["x"], segments=["user", "country"])
    rng = np.random.default_rng(0)
    cur, ref = frame(3000, rng), frame(12000, rng)
    with caplog.at_level(logging.WARNING, logger="driftscope.monitor"):
        split = evaluate._segments(cfg, cur, ref)
        evaluate._segments(cfg, cur, ref)
    said = [r.getMessage() for r in caplog.records if "looks like an id" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(
        "monitor mon: segment key 'user' has 2997 values in a window of 3000 events, 2997 "
        "of them with fewer than min_events=30: it looks like an id"), said
    assert [name for name, _, _ in split] == ["*", "country=DE", "country=FR", "country=IT"]
