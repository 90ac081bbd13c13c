"""What a reference dataset per model version costs a pass.

A monitor whose reference is ``dataset: training-{model_version}`` asks the store which
version served each window (:func:`driftscope.store.versions.serving_versions`: the
windows' events grouped by window and version, 64 windows a query) before it picks that
version's dataset. This times
the same backfill of ``--windows`` windows of ``--events`` events (10 numeric features,
all served by version 1) against ``training-1`` named outright (the baseline) and
against ``training-{model_version}``, alternated, median of ``--repeats``, in one chDB
store under a temporary directory; both must flag the same windows:

    nice -n 10 .venv/bin/python benchmarks/versioned_reference.py
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
import pandas as pd

from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.monitor.upload import upload
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(minutes=10)
FEATURES = [f"f{i}" for i in range(10)]


def config(dataset: str) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": FEATURES,
                      "reference": {"kind": "dataset", "dataset": dataset}}],
        "alerts": {"console": False}})


def columns(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    shift = 0.5 if i % 4 == 3 else 0.0  # (a window in four drifts)
    return {**{f: rng.normal(shift, 1, n) for f in FEATURES}, "model_version": ["1"] * n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--windows", type=int, default=48)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="versioned-ref-")
    try:
        store = Store(f"chdb://{tmp}/db", database="versioned")
        store.migrate()
        rng = np.random.default_rng(0)
        upload(store, "m", "training-1",
               pd.DataFrame({f: rng.normal(0, 1, 5000) for f in FEATURES}))
        write_windows(store, "m", T0, W, args.windows, args.events, columns, seed=1)
        until = T0 + args.windows * W
        times: dict[str, list[float]] = {"training-1": [], "training-{model_version}": []}
        flagged: dict[str, list[bool]] = {}
        for _ in range(args.repeats):
            for name in times:
                t = time.perf_counter()
                verdicts = Monitor(store, config(name)).backfill(T0, until)
                times[name].append(time.perf_counter() - t)
                flagged[name] = [v.drifted for v in verdicts]
        assert flagged["training-1"] == flagged["training-{model_version}"], flagged
        base, new = (statistics.median(times[n]) for n in times)
        print(f"{args.windows} windows x {args.events} events, 10 features "
              f"({sum(flagged['training-1'])} flagged by both), median of {args.repeats}:")
        print(f"  dataset training-1 (baseline)      {base:7.3f} s a backfill")
        print(f"  dataset training-{{model_version}}   {new:7.3f} s a backfill "
              f"({new / base:.3f}x; {1000 * (new - base) / args.windows:+.1f} ms a window)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
