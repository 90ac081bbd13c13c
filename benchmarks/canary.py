"""What judging a rollout's versions side by side costs a pass.

The same backfill of ``--windows`` windows of ``--events`` labelled events (10 numeric
features; from the fifth window a canary, version 2, serves 10 % of each window) by three
monitors, alternated, median of ``--repeats``, in one chDB store under a temporary
directory: no segments (the baseline), ``segments: [model_version]`` (each version's
drift, column checks and performance besides all events'), and the same with a rule
``{metric: accuracy, versus: rest, op: "<", value: -0.05, segment: model_version}``
(each version's accuracy measured on the rest of its window too):

    nice -n 10 .venv/bin/python benchmarks/canary.py
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(minutes=10)
FEATURES = [f"f{i}" for i in range(10)]
RULE = {"metric": "accuracy", "versus": "rest", "op": "<", "value": -0.05,
        "segment": "model_version"}
KINDS: dict[str, dict[str, Any]] = {
    "no segments (baseline)": {},
    "segments: [model_version]": {"segments": ["model_version"]},
    "  + accuracy versus rest": {"segments": ["model_version"], "rules": [RULE]},
}


def config(extra: dict[str, Any]) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": FEATURES,
                      "reference": {"kind": "initial", "windows": 4},
                      "performance": {"task": "classification", "prediction": "pred",
                                      "metrics": ["accuracy"]}, **extra}],
        "alerts": {"console": False}})


def columns(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    canary = (rng.random(n) < 0.1) if i >= 4 else np.zeros(n, dtype=bool)
    label = rng.integers(0, 2, n)
    right = rng.random(n) < np.where(canary, 0.8, 0.9)
    return {**{f: rng.normal(0, 1, n) for f in FEATURES},
            "label": label.astype(str).astype(object),
            "output:pred": np.where(right, label, 1 - label).astype(float),
            "model_version": np.where(canary, "2", "1").astype(object)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--windows", type=int, default=24)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="canary-")
    try:
        store = Store(f"chdb://{tmp}/db", database="canary")
        store.migrate()
        write_windows(store, "m", T0, W, args.windows, args.events, columns, seed=1)
        until = T0 + args.windows * W
        times: dict[str, list[float]] = {name: [] for name in KINDS}
        live: dict[str, list[float]] = {name: [] for name in KINDS}
        rows: dict[str, int] = {}
        for _ in range(args.repeats):
            for name, extra in KINDS.items():
                t = time.perf_counter()
                verdicts = Monitor(store, config(extra)).backfill(T0, until)
                times[name].append(time.perf_counter() - t)
                rows[name] = sum(len(v.findings) for v in verdicts)
                t = time.perf_counter()  # (a live pass: the last window, read afresh)
                Monitor(store, config(extra)).backfill(until - W, until)
                live[name].append(time.perf_counter() - t)
        base, one = statistics.median(times[next(iter(KINDS))]), \
            statistics.median(live[next(iter(KINDS))])
        print(f"{args.windows} windows x {args.events} events, 10 features, a 10 % canary "
              f"from window 5, median of {args.repeats}:")
        for name in KINDS:
            b, o = statistics.median(times[name]), statistics.median(live[name])
            print(f"  {name:28} {b:7.3f} s a backfill ({b / base:.2f}x), {o:6.3f} s one "
                  f"window ({o / one:.2f}x); {rows[name]} findings")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
