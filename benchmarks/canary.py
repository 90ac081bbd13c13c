"""What judging a rollout's versions side by side costs a pass.

The same backfill of ``--windows`` windows of ``--events`` labelled events (10 numeric
features; from the fifth window a canary, version 2, serves 10 % of each window) by four
monitors, alternated, median of ``--repeats``, in one chDB store under a temporary
directory: no segments (the baseline), ``segments: [model_version]`` (each version's
drift, column checks and performance besides all events'), and the same with a rule
``{metric: accuracy, versus: rest, op: "<", value: -0.05, segment: model_version}``
(each version's accuracy measured on the rest of its window too), and with
``versus_rest: [model_version]`` (version 2's drift against the rest of each window, its
detectors fitted on the rest afresh each window) in place of the rule:

    nice -n 10 .venv/bin/python benchmarks/canary.py

With ``--false-alarms N``: how often ``versus: rest`` fires on a healthy canary instead
(``tests/monitor/test_version_segment.py``'s stream: N + 4 windows of 1,000 labelled
events, version 2 serving 10 % of each from the fifth, both right 90 % of the time) at
``beyond_noise`` 1 (the default), 0 (the plain bound) and 2: the windows each version's
rows fired in; and the windows a ``versus_rest`` drift row (x, y and the predicted class)
was flagged in.

With ``--power N``: N windows of 1,000 and of 5,000 events (no labels), version 2
serving 10 % of each with its ``x`` shifted by 0 to 1 standard deviation, ``versus_rest:
[model_version]``: the share of windows its ``x`` is flagged in.

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
    "  + versus_rest: [model_version]": {"segments": ["model_version"],
                                         "versus_rest": ["model_version"]},
}


def config(extra: dict[str, Any], model: str = "m") -> Config:
    """The monitor of ``model`` with accuracy, ``extra`` keys replacing or adding."""
    return Config.model_validate({
        "models": [{"id": model, "window": "10m"}],
        "monitors": [{"name": "mon", "model": model, "features": FEATURES,
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
    drift_false_alarms(store, windows)


def drift_false_alarms(store: Store, windows: int) -> None:
    """The healthy stream's windows a ``versus_rest`` drift row was flagged in (x, y and
    the predicted class, version 2's events against the rest of each window)."""
    cfg = config({"name": "inputs", "features": ["x", "y"], "outputs": ["pred"],
                  "segments": ["model_version"], "versus_rest": ["model_version"],
                  "reference": {"kind": "initial", "windows": 3},
                  "persistence": {"enabled": False}, "performance": None})
    Monitor(store, cfg).run_once()
    D = S.DRIFT_RESULTS
    ((tests, flagged, over),) = store.query(
        f"SELECT count(), uniqExactIf({D.window_start}, JSONExtractBool({D.details}, "
        f"'model_level')), countIf({D.drifted}) FROM {D} FINAL WHERE {D.monitor} = 'inputs' "
        f"AND JSONExtractString({D.details}, 'versus') = 'rest'")
    print(f"  versus_rest drift (x, y, output:pred; emd, linf): {flagged} windows of "
          f"{windows} flagged; {over} of {tests} tests over their own threshold")


def power(store: Store, windows: int, seed: int) -> None:
    """The share of windows a canary whose ``x`` is shifted is flagged in against the rest
    of its window (``versus_rest``), by shift and window size."""
    print(f"a 10 % canary whose x is shifted (its own pipeline), {windows} windows each "
          f"(seed {seed}): share flagged against the rest of its window, first window on")
    D = S.DRIFT_RESULTS
    for n in (1000, 5000):
        shares = []
        for shift in SHIFTS:
            model = f"m{n}-{shift:g}"

            def make(i: int, rng: np.random.Generator, k: int, d: float = shift) -> dict[str, Any]:
                canary = rng.random(k) < 0.1
                return {"x": rng.normal(0, 1, k) + np.where(canary, d, 0.0),
                        "y": rng.normal(0, 1, k),
                        "model_version": np.where(canary, "2", "1").astype(object)}
            write_windows(store, model, T0, W, windows, n, make, seed=seed)
            cfg = config({"name": model, "features": ["x", "y"], "segments": ["model_version"],
                          "versus_rest": ["model_version"], "performance": None,
                          "reference": {"kind": "previous", "windows": 1},
                          "persistence": {"enabled": False}}, model)
            Monitor(store, cfg).run_once()
            ((k, of),) = store.query(
                f"SELECT uniqExactIf({D.window_start}, JSONExtractBool({D.details}, "
                f"'model_level')), uniqExact({D.window_start}) FROM {D} FINAL WHERE "
                f"{D.monitor} = {{m:String}} AND {D.feature} = 'x' AND "
                f"{D.segment} = 'model_version=2'", {"m": model})
            shares.append(f"{shift:g} SD {100 * k / of:5.1f} % of {of}")
        print(f"  {n:5} events a window (canary ~{n // 10}): " + ", ".join(shares))


SHIFTS = (0.0, 0.2, 0.3, 0.5, 1.0)


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
    ap.add_argument("--power", type=int, default=0, metavar="N",
                    help="the share of N windows a shifted canary is flagged in instead")
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
        if args.power:
            power(store, args.power, args.seed)
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
            print(f"  {name:34} {b:7.3f} s a backfill ({b / base:.2f}x), {o:6.3f} s one "
                  f"window ({o / one:.2f}x); {rows[name]} findings")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
