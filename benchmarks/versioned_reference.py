"""What a reference per model version costs a pass.

A monitor whose reference is ``dataset: training-{model_version}`` asks the store which
version served each window (:func:`driftscope.store.versions.serving_versions`: the
windows' events grouped by window and version, 64 windows a query) before it picks that
version's dataset. This times
the same backfill of ``--windows`` windows of ``--events`` events (10 numeric features,
all served by version 1) against ``training-1`` named outright (the baseline) and
against ``training-{model_version}``, alternated, median of ``--repeats``, in one chDB
store under a temporary directory; both must flag the same windows:

    nice -n 10 .venv/bin/python benchmarks/versioned_reference.py

With ``--initial``: ``{kind: initial, windows: 12}`` (the baseline) against the same with
``per_version: true`` (which also finds the version's first windows: its first event in
``model_versions``, then the versions that served the windows from there), and what a
live pass pays: one window judged by a monitor that has not read the reference yet; and
the references alone, read as a pass reads them, without the detectors (whose work
differs between the two: the bootstrap nulls are seeded by the reference's spec).
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
from driftscope.monitor.config import ReferenceSpec
from driftscope.monitor.reference import ReferenceReader
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.monitor.upload import upload
from driftscope.store.clickhouse import Store
from driftscope.types import Window

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(minutes=10)
FEATURES = [f"f{i}" for i in range(10)]


def config(reference: dict[str, Any]) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": FEATURES,
                      "reference": reference}],
        "alerts": {"console": False}})


DATASETS = {"dataset training-1": {"kind": "dataset", "dataset": "training-1"},
            "dataset training-{model_version}": {"kind": "dataset",
                                                 "dataset": "training-{model_version}"}}
INITIAL = {"initial": {"kind": "initial", "windows": 12},
           "initial per_version": {"kind": "initial", "windows": 12, "per_version": True}}


def columns(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    shift = 0.5 if i % 4 == 3 else 0.0  # (a window in four drifts)
    return {**{f: rng.normal(shift, 1, n) for f in FEATURES}, "model_version": ["1"] * n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--windows", type=int, default=48)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--initial", action="store_true",
                    help="initial against initial per_version (default: the datasets)")
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
        kinds = INITIAL if args.initial else DATASETS
        times: dict[str, list[float]] = {name: [] for name in kinds}
        live: dict[str, list[float]] = {name: [] for name in kinds}
        flagged: dict[str, list[bool]] = {}
        for _ in range(args.repeats):
            for name, reference in kinds.items():
                t = time.perf_counter()
                verdicts = Monitor(store, config(reference)).backfill(T0, until)
                times[name].append(time.perf_counter() - t)
                flagged[name] = [v.drifted for v in verdicts]
                t = time.perf_counter()  # (a live pass: the last window, read afresh)
                Monitor(store, config(reference)).backfill(until - W, until)
                live[name].append(time.perf_counter() - t)
        if args.initial:  # the references alone, as a pass reads them (no detector)
            read: dict[str, list[float]] = {name: [] for name in kinds}
            fresh: dict[str, list[float]] = {name: [] for name in kinds}
            for _ in range(args.repeats):
                for name, reference in kinds.items():
                    spec = ReferenceSpec.model_validate(reference)
                    refs = ReferenceReader(store, "m", FEATURES)
                    t = time.perf_counter()
                    for i in range(args.windows):
                        refs.frame(spec, Window("m", T0 + i * W, W))
                    read[name].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    ReferenceReader(store, "m", FEATURES).frame(spec, Window("m", until - W, W))
                    fresh[name].append(time.perf_counter() - t)
            (a, b), (c, d) = ([statistics.median(x[n]) for n in kinds] for x in (read, fresh))
            print(f"reference reads alone, median of {args.repeats}: {args.windows} windows "
                  f"in one reader {1000 * a:.0f} ms -> {1000 * b:.0f} ms ({b / a:.2f}x), "
                  f"a fresh reader's one window {1000 * c:.1f} ms -> {1000 * d:.1f} ms "
                  f"({d / c:.2f}x)")
        first, second = kinds
        # (the bootstrap nulls are seeded by the reference's spec: per_version draws others,
        # and a borderline window may fall the other way within their Monte Carlo error)
        assert args.initial or flagged[first] == flagged[second], flagged
        base, new = (statistics.median(times[n]) for n in kinds)
        one, other = (statistics.median(live[n]) for n in kinds)
        print(f"{args.windows} windows x {args.events} events, 10 features "
              f"({sum(flagged[first])} and {sum(flagged[second])} flagged), median of "
              f"{args.repeats}:")
        print(f"  {first + ' (baseline)':36} {base:7.3f} s a backfill, {one:6.3f} s one window")
        print(f"  {second:36} {new:7.3f} s a backfill ({new / base:.3f}x; "
              f"{1000 * (new - base) / args.windows:+.1f} ms a window), {other:6.3f} s one "
              f"window ({1000 * (other - one):+.1f} ms)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
