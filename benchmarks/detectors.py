"""Detector benchmarks: ours beside peers on the same data, in one script.

Run in the benchmark venv, which holds the peers (never project dependencies)::

    .bench-venv/bin/python benchmarks/detectors.py                 # everything
    .bench-venv/bin/python benchmarks/detectors.py --only emd mmd  # a part

Peers that are not importable are reported as skipped. Reports medians of ``--repeats``
runs (peers: ``--peer-repeats``) and ratios against ours, as a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("EVIDENTLY_DISABLE_TELEMETRY", "1")

from driftscope.detectors.byparts import ByParts
from driftscope.detectors.emd import EMD
from driftscope.detectors.linf import LInf
from driftscope.detectors.mmd import MMD
from driftscope.detectors.significance import Constant, Permutation, PValue

ROWS: list[tuple[str, str, float, str]] = []


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


Run = tuple[Callable[[], Any], Callable[[Any], str]]


def rounds(case: str, runs: dict[str, Run], repeats: int) -> dict[str, float]:
    """Run each implementation once per round, in turn, so machine load hits all alike.

    Records the median per implementation and returns the medians.
    """
    times: dict[str, list[float]] = {k: [] for k in runs}
    last: dict[str, Any] = {}
    for _ in range(repeats):
        for who, (fn, _) in runs.items():
            t0 = time.perf_counter()
            last[who] = fn()
            times[who].append(time.perf_counter() - t0)
    medians = {who: statistics.median(t) for who, t in times.items()}
    for who, (_, note) in runs.items():
        record(case, who, medians[who], note(last[who]))
    return medians


def record(case: str, who: str, seconds: float, note: str = "") -> None:
    ROWS.append((case, who, seconds, note))
    print(f"{case:<42} {who:<44} {seconds:9.4f} s  {note}", flush=True)


# ------------------------------------------------------------------ per-column drift


def table(n: int, seed: int, drift: bool) -> Any:
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for i in range(20):
        shift = 0.1 * (i % 4) if drift else 0.0
        cols[f"num{i}"] = rng.normal(shift, 1.0 + 0.05 * i, n)
    cats = np.array([f"v{j}" for j in range(12)], dtype=object)
    for i in range(5):
        p = np.linspace(1.0, 2.0 + i, 12)
        if drift and i % 2:
            p = p[::-1]
        cols[f"cat{i}"] = rng.choice(cats, n, p=p / p.sum())
    return pd.DataFrame(cols)


def ours_per_column(ref: Any, cur: Any) -> tuple[str, ...]:
    det = ByParts({"numeric": EMD(Constant(0.1)), "categorical": LInf(Constant(0.1))})
    return det.fit(ref, rng=np.random.default_rng(0)).score(cur).drifted


def bench_per_column(
    rows: list[int], repeats: int, peer_repeats: int, peer_rows: int, calibrate_max: int
) -> None:
    for n in rows:
        ref, cur = table(n, 1, False), table(n, 2, True)
        case = f"per-column 20 num + 5 cat, {n:,} rows/side"
        ours: Run = (lambda r=ref, c=cur: ours_per_column(r, c), lambda d: f"{len(d)} drifted")
        runs = {"driftscope EMD+L-inf, constant 0.1 (fit+score)": ours}
        if n == peer_rows:
            runs |= peer_runs(case, ref, cur)
        rounds(case, runs, peer_repeats if n == peer_rows else repeats)
        if n <= calibrate_max:
            fitted: list[Any] = []

            def first(r: Any = ref, c: Any = cur, fitted: list[Any] = fitted) -> Any:
                fitted[:] = [ByParts().fit(r, rng=np.random.default_rng(0))]
                return fitted[0].score(c).drifted

            t_first, drifted = timed(first, max(1, repeats // 2))
            note = f"{len(drifted)} drifted (calibration per window size, cached)"
            record(case, "driftscope, reference-quantile: fit + 1st window", t_first, note)
            t_next, drifted = timed(lambda c=cur, f=fitted: f[0].score(c).drifted, repeats)
            record(
                case,
                "driftscope, reference-quantile: later windows",
                t_next,
                f"{len(drifted)} drifted",
            )


def peer_runs(case: str, ref: Any, cur: Any) -> dict[str, Run]:
    """The peers that import, as runs on the same data; the others are recorded skipped."""
    runs: dict[str, Run] = {}
    for label, build in (
        ("Evidently DataDriftPreset", evidently_run),
        ("NannyML UnivariateDriftCalculator (JS)", nannyml_run),
        ("Alibi Detect TabularDrift (KS+chi2)", alibi_tabular_run),
    ):
        try:
            runs[label] = build(ref, cur)
        except ImportError as exc:
            record(case, label, float("nan"), f"skipped: {exc}")
    return runs


def evidently_run(ref: Any, cur: Any) -> Run:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    nums = [c for c in ref.columns if c.startswith("num")]
    cats = [c for c in ref.columns if c.startswith("cat")]
    dd = DataDefinition(numerical_columns=nums, categorical_columns=cats)

    def run() -> Any:
        return Report([DataDriftPreset()]).run(
            Dataset.from_pandas(cur, data_definition=dd),
            Dataset.from_pandas(ref, data_definition=dd),
        )

    def note(snap: Any) -> str:
        return f"{int(snap.dict()['metrics'][0]['value']['count'])} drifted"

    return run, note


def nannyml_run(ref: Any, cur: Any) -> Run:
    import nannyml as nml

    cats = [c for c in ref.columns if c.startswith("cat")]

    def run() -> Any:
        calc = nml.UnivariateDriftCalculator(
            column_names=list(ref.columns), treat_as_categorical=cats, chunk_number=1
        )
        return calc.fit(ref).calculate(cur)

    return run, lambda _: ""


def alibi_tabular_run(ref: Any, cur: Any) -> Run:
    from alibi_detect.cd import TabularDrift

    cats = [i for i, c in enumerate(ref.columns) if c.startswith("cat")]
    codes = {f"v{j}": j for j in range(12)}

    def encode(df: Any) -> np.ndarray:
        out = df.copy()
        for i in cats:
            out.iloc[:, i] = out.iloc[:, i].map(codes)
        return out.to_numpy(dtype=np.float32)

    x_ref, x = encode(ref), encode(cur)  # ordinal encoding is outside the timing

    def run() -> Any:
        cd = TabularDrift(x_ref, p_val=0.05, categories_per_feature={i: None for i in cats})
        return cd.predict(x, drift_type="feature")

    return run, lambda out: f"{int(np.sum(out['data']['is_drift']))} drifted"


# ---------------------------------------------------------------------------- MMD


def alibi_sigma(x: np.ndarray) -> float:
    """Alibi's median heuristic: sqrt(median of squared off-diagonal distances / 2)."""
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    n = len(x)
    flat = np.sort(d2.ravel())
    return float(np.sqrt(0.5 * flat[n + (n * n - n) // 2 - 1]))


def bench_mmd(repeats: int, peer_repeats: int, big_n: int) -> None:
    x_ref, x_cur, sigma = mmd_data()
    n, d = x_ref.shape
    case = f"MMD permutation test, n={n}/side, d={d}, B=100"

    pvals: dict[str, list[float]] = {"ours": [], "ours32": [], "alibi": []}

    def ours(dtype: str = "float64", key: str = "ours") -> Any:
        det = MMD(Permutation(n=100), bandwidth=sigma, dtype=dtype)
        seed = len(pvals[key])  # a new permutation seed each round
        out = det.fit(x_ref, rng=np.random.default_rng(seed)).score(x_cur)
        pvals[key].append(float(out.p_value))
        return out

    def ps(key: str) -> str:
        return "p=" + ",".join(f"{p:.2f}" for p in pvals[key])

    runs: dict[str, Run] = {
        "driftscope MMD (unbiased, exact, float64)": (
            ours,
            lambda out: f"{ps('ours')} stat={out.statistic:.4e}",
        ),
        "driftscope MMD (unbiased, exact, float32)": (
            lambda: ours("float32", "ours32"),
            lambda _: ps("ours32"),
        ),
    }
    try:
        import torch
        from alibi_detect.cd import MMDDrift
    except ImportError as exc:
        record(case, "Alibi Detect MMDDrift (pytorch)", float("nan"), f"skipped: {exc}")
    else:

        def peer() -> Any:
            torch.manual_seed(len(pvals["alibi"]))
            cd = MMDDrift(
                x_ref.astype(np.float32),
                backend="pytorch",
                p_val=0.05,
                n_permutations=100,
                device="cpu",
            )
            out = cd.predict(x_cur.astype(np.float32))
            pvals["alibi"].append(float(out["data"]["p_val"]))
            return out

        runs["Alibi Detect MMDDrift (pytorch)"] = (
            peer,
            lambda out: f"{ps('alibi')} stat={out['data']['distance']:.4e}",
        )
    rounds(case, runs, peer_repeats)
    big = np.random.default_rng(4)
    xb_ref, xb = big.normal(size=(big_n, d)), big.normal(size=(big_n, d))
    xb[:, :4] += 0.03
    case = f"MMD permutation test, n={big_n}/side, d={d}, B=100"
    for est, dtype in (("unbiased", "float32"), ("linear", "float64")):

        def run(est: str = est, dtype: str = dtype) -> Any:
            det = MMD(Permutation(n=100), estimator=est, dtype=dtype)
            return det.fit(xb_ref, rng=np.random.default_rng(0)).score(xb)

        secs, s = timed(run, max(1, repeats // 2))
        label = "exact unbiased, float32" if est == "unbiased" else "linear-time, float64"
        record(case, f"driftscope MMD ({label})", secs, f"p={s.p_value:.3f}")

    def linear_asymptotic() -> Any:
        det = MMD(PValue(0.05), estimator="linear")
        return det.fit(xb_ref, rng=np.random.default_rng(0)).score(xb)

    secs, s = timed(linear_asymptotic, repeats)
    record(
        case.replace(", B=100", ""),
        "driftscope MMD (linear-time, normal null)",
        secs,
        f"p={s.p_value:.3f}",
    )


def mmd_data() -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(3)
    n, d = 2000, 32
    x_ref = rng.normal(size=(n, d))
    x_ref = (x_ref - x_ref.mean(0)) / x_ref.std(0)
    x_cur = rng.normal(size=(n, d))
    x_cur[:, :4] += 0.06
    x_cur = (x_cur - x_ref.mean(0)) / x_ref.std(0)
    return x_ref, x_cur, alibi_sigma(x_ref)


def bench_mmd_pvalue(runs: int) -> None:
    """Same p-value within Monte-Carlo error: ours at B=2000 vs Alibi at B=100, ``runs`` seeds."""
    x_ref, x_cur, sigma = mmd_data()
    case = "MMD p-value agreement, n=2000/side, d=32"
    t0 = time.perf_counter()
    ours = MMD(Permutation(n=2000), bandwidth=sigma).fit(x_ref, rng=np.random.default_rng(0))
    p = float(ours.score(x_cur).p_value)
    se = np.sqrt(p * (1 - p) / 2000)
    record(case, "driftscope MMD, B=2000", time.perf_counter() - t0, f"p={p:.3f} ± {se:.3f}")
    try:
        import torch
        from alibi_detect.cd import MMDDrift
    except ImportError as exc:
        record(case, "Alibi Detect MMDDrift, B=100", float("nan"), f"skipped: {exc}")
        return
    ps = []
    t0 = time.perf_counter()
    for seed in range(runs):
        torch.manual_seed(seed)
        cd = MMDDrift(x_ref.astype(np.float32), backend="pytorch", n_permutations=100)
        ps.append(float(cd.predict(x_cur.astype(np.float32))["data"]["p_val"]))
    mean, se_mean = float(np.mean(ps)), float(np.std(ps, ddof=1) / np.sqrt(runs))
    record(
        case,
        f"Alibi Detect MMDDrift, B=100, {runs} seeds",
        (time.perf_counter() - t0) / runs,
        f"p mean={mean:.3f} ± {se_mean:.3f}; z={(mean - p) / np.hypot(se, se_mean):.1f}",
    )


# ---------------------------------------------------------------------------- EMD


def bench_emd(repeats: int, peer_repeats: int, n: int) -> None:
    from scipy import stats

    rng = np.random.default_rng(5)
    u, v = rng.normal(size=n), rng.standard_t(5, size=n) + 0.01
    # the plain W1 (trim 0) is what scipy and POT compute; the default winsorises 1 %
    fitted = EMD(Constant(0.1), normalise="none", trim=0).fit(u, rng=np.random.default_rng(0))
    case = f"1-D EMD, {n:,} values/side"
    exact = float(fitted.score(v).statistic)

    def rel(w: float) -> str:
        return f"W={w:.12g} rel.diff={abs(w - exact) / w:.1e}"

    runs: dict[str, Run] = {
        "driftscope EMD score (reference sorted at fit)": (lambda: fitted.score(v).statistic, rel),
        "scipy.stats.wasserstein_distance": (lambda: stats.wasserstein_distance(u, v), rel),
    }
    try:
        import ot

        runs["POT ot.wasserstein_1d"] = (lambda: float(ot.wasserstein_1d(u, v, p=1)), rel)
    except ImportError as exc:
        record(case, "POT ot.wasserstein_1d", float("nan"), f"skipped: {exc}")
    rounds(case, runs, max(repeats, peer_repeats))
    secs_fit, _ = timed(lambda: EMD(Constant(0.1)).fit(u, rng=np.random.default_rng(0)), 3)
    record(case, "driftscope EMD fit (one-off sort of the reference)", secs_fit)
    trimmed = EMD(Constant(0.1), normalise="none").fit(u, rng=np.random.default_rng(0))
    secs_trim, w_trim = timed(lambda: trimmed.score(v).statistic, max(repeats, peer_repeats))
    record(case, "driftscope EMD score, winsorised at 1 % (the default)", secs_trim,
           f"W={w_trim:.12g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--only",
        nargs="*",
        default=["columns", "mmd", "emd"],
        help="parts: emd, mmd, mmdp (p-value agreement, slow), columns",
    )
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--peer-repeats", type=int, default=3)
    ap.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--peer-rows", type=int, default=100_000)
    ap.add_argument("--calibrate-max", type=int, default=100_000)
    ap.add_argument("--mmd-big-n", type=int, default=10_000)
    ap.add_argument("--emd-n", type=int, default=1_000_000)
    ap.add_argument("--mmdp-runs", type=int, default=8)
    args = ap.parse_args()
    import torch

    print(f"torch threads: {torch.get_num_threads()}, cpus: {os.cpu_count()}")
    if "emd" in args.only:
        bench_emd(args.repeats, args.peer_repeats, args.emd_n)
    if "mmd" in args.only:
        bench_mmd(args.repeats, args.peer_repeats, args.mmd_big_n)
    if "mmdp" in args.only:
        bench_mmd_pvalue(args.mmdp_runs)
    if "columns" in args.only:
        bench_per_column(
            args.rows, args.repeats, args.peer_repeats, args.peer_rows, args.calibrate_max
        )
    print("\n| case | implementation | median s | × ours | note |\n|---|---|---:|---:|---|")
    base: dict[str, float] = {}
    for case, who, secs, note in ROWS:
        if who.startswith("driftscope") and case not in base:
            base[case] = secs
        ratio = secs / base[case] if case in base and base[case] > 0 else float("nan")
        print(f"| {case} | {who} | {secs:.4f} | {ratio:.1f} | {note} |")


if __name__ == "__main__":
    main()
