"""What judging a rollout's versions side by side costs a pass.

The same backfill of ``--windows`` windows of ``--events`` labelled events (10 numeric
features; from the fifth window a canary, version 2, serves 10 % of each window) by three
monitors, alternated, median of ``--repeats``, in one chDB store under a temporary
directory: no segments (the baseline), ``segments: [model_version]`` (each version's
drift, column checks and performance besides all events'), and the same with a rule
``{metric: accuracy, versus: rest, op: "<", value: -0.05, segment: model_version}``
(each version's accuracy measured on the rest of its window too):

    nice -n 10 .venv/bin/python benchmarks/canary.py

With ``--false-alarms N``: how often ``versus: rest`` fires on a healthy canary instead
(``tests/monitor/test_version_segment.py``'s stream: N + 4 windows of 1,000 labelled
events, version 2 serving 10 % of each from the fifth, both right 90 % of the time) at
``beyond_noise`` 1 (the default), 0 (the plain bound) and 2: the windows each version's
rows fired in.

With ``--calibration N``: N simulated windows (numpy, no store) of a 10 % canary exactly
at the bound (0.85 against 0.90, 1,000 labelled events), and the share of them the rule
fires in at one error, by the error the monitor takes (``_difference_noise``: both
sides' at the rates the bound gives them) against the pooled two-proportion error and
the measured rates' (a one-sided 1 sigma test should fire in 15.9 %).
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
from driftscope.store import schema as S
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
    """The monitor of model ``m`` with accuracy, ``extra`` keys replacing or adding."""
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


def healthy(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    """A canary as good as the version it joins (as the test's ``rollout(0.1, False)``)."""
    canary = (rng.random(n) < 0.1) if i >= 4 else np.zeros(n, dtype=bool)
    y = rng.normal(0, 1, n).astype(object)
    label = rng.integers(0, 2, n)
    right = rng.random(n) < 0.9
    return {"x": rng.normal(0, 1, n), "y": y, "label": label.astype(str).astype(object),
            "output:pred": np.where(right, label, 1 - label).astype(float),
            "model_version": np.where(canary, "2", "1").astype(object)}


def false_alarms(store: Store, windows: int, seed: int) -> None:
    write_windows(store, "m", T0, W, windows + 4, 1000, healthy, seed=seed)
    print(f"a healthy 10 % canary, {windows} windows of 1,000 labelled events (seed {seed}): "
          "windows each version's accuracy rows fired in")
    for noise in (1.0, 0.0, 2.0):
        name = f"noise{int(noise)}"
        cfg = config({"name": name, "features": ["x", "y"], "segments": ["model_version"],
                      "reference": {"kind": "initial", "windows": 3},
                      "persistence": {"enabled": False},
                      "rules": [{**RULE, "beyond_noise": noise}]})
        Monitor(store, cfg).run_once()
        D = S.DRIFT_RESULTS
        got = dict(store.query(
            f"SELECT {D.segment}, countIf({D.drifted}) FROM {D} FINAL WHERE {D.metric} = "
            f"'accuracy' AND {D.monitor} = {{n:String}} GROUP BY 1", {"n": name}))
        print(f"  beyond_noise {noise:g}: version 2 {got.get('model_version=2', 0)}, "
              f"version 1 {got.get('model_version=1', 0)}, all events {got.get('*', 0)}")


def calibration(windows: int, seed: int) -> None:
    import math

    from driftscope.monitor.evaluate import Row, _difference_noise
    from driftscope.monitor.performance import binomial_se

    def pooled(a1: float, n1: int, a2: float, n2: int) -> float:
        p = (a1 * n1 + a2 * n2) / (n1 + n2)
        return math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))

    def measured(a1: float, n1: int, a2: float, n2: int) -> float:
        return math.hypot(binomial_se(a1, n1), binomial_se(a2, n2))

    rng = np.random.default_rng(seed)
    bound, fired = -0.05, {"the monitor's": 0, "pooled": 0, "measured rates'": 0}
    for _ in range(windows):
        n1 = int(rng.binomial(1000, 0.1))
        n2 = 1000 - n1
        a1, a2 = rng.binomial(n1, 0.85) / n1, rng.binomial(n2, 0.90) / n2
        row = Row("performance", "model_version=2", "*", "accuracy", a1, math.nan, "none",
                  False, details={"labels": n1})
        errors = {"the monitor's": _difference_noise(row, {"value": a2, "labels": n2}, bound),
                  "pooled": pooled(a1, n1, a2, n2), "measured rates'": measured(a1, n1, a2, n2)}
        for name, se in errors.items():
            fired[name] += a1 - a2 + se < bound
    print(f"a canary at the bound, {windows} simulated windows (seed {seed}): fired at one "
          "error (one-sided 1 sigma: 15.9 %)")
    for name, k in fired.items():
        print(f"  {name + ' error':24} {100 * k / windows:5.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--windows", type=int, default=24)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--false-alarms", type=int, default=0, metavar="N",
                    help="count a healthy canary's firings over N windows instead")
    ap.add_argument("--calibration", type=int, default=0, metavar="N",
                    help="simulate N windows of a canary at the bound instead")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    if args.calibration:
        calibration(args.calibration, args.seed)
        return
    tmp = tempfile.mkdtemp(prefix="canary-")
    try:
        store = Store(f"chdb://{tmp}/db", database="canary")
        store.migrate()
        if args.false_alarms:
            false_alarms(store, args.false_alarms, args.seed)
            return
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
