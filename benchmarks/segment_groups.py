"""Splitting a window and its reference by a segment key: one pass grouping the rows (now)
against a mask of the whole frame per value (before), in the same process.

A key that is really an id (every event its own value), a session id (~40 events a value)
and 300 stores, in windows of 3,000 to 20,000 events against a reference of 12 such
windows. Median of ``RUNS`` runs of ``driftscope.monitor.evaluate._segments``.

Usage::

    .venv/bin/python benchmarks/segment_groups.py
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from driftscope.monitor import evaluate
from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.frame import Frame

RUNS = 3


def before(cfg: MonitorConfig, cur: Frame, ref: Frame,
           referenced: bool = True) -> list[tuple[str, Frame, Frame]]:
    """``_segments`` as it was: a mask of both frames for every value of the window."""
    out = [("*", cur, ref)]
    for key in cfg.segments:
        values = cur.segments.get(key)
        if values is None:
            continue
        for v in sorted({x for x in values.tolist() if x is not None}):
            c, r = cur.segment(key, v), ref.segment(key, v)
            if c.n >= cfg.min_events and (r.n >= cfg.min_events or not referenced):
                out.append((f"{key}={v}", c, r))
    return out


def frame(values: np.ndarray, rng: np.random.Generator) -> Frame:
    n = len(values)
    return Frame(np.arange(n).astype("datetime64[ms]"), {"x": rng.normal(size=n)},
                 {"user": values})


def seconds(split: Callable[..., Any], cfg: MonitorConfig, cur: Frame, ref: Frame) -> float:
    out = []
    for _ in range(RUNS):
        start = time.perf_counter()
        split(cfg, cur, ref)
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def main() -> None:
    cfg = MonitorConfig(name="mon", model="m", features=["x"], segments=["user"])
    rng = np.random.default_rng(0)
    cases = {
        "user id, 3,000 a window": (3000, lambda n: rng.integers(0, 10**7, n)),
        "user id, 10,000 a window": (10000, lambda n: rng.integers(0, 10**7, n)),
        "session id (~40 a value), 3,000": (3000, lambda n: rng.integers(0, 75, n) + 10**6),
        "300 stores, 20,000 a window": (20000, lambda n: rng.integers(0, 300, n)),
    }
    for name, (n, draw) in cases.items():
        cur = frame(np.array([f"v{u}" for u in draw(n)], dtype=object), rng)
        ref = frame(np.array([f"v{u}" for u in draw(12 * n)], dtype=object), rng)
        old, new = seconds(before, cfg, cur, ref), seconds(evaluate._segments, cfg, cur, ref)
        assert len(before(cfg, cur, ref)) == len(evaluate._segments(cfg, cur, ref))
        print(f"  {name:<34} before {old:7.3f} s, now {new:6.3f} s ({old / new:5.1f}×)")


if __name__ == "__main__":
    main()
