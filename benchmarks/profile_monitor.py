"""Monitoring a model from its profiles against monitoring it from its raw events.

The same windows are written twice into one embedded store: as raw events of model
``r`` (the baseline) and as one whylogs profile per window of model ``p``
(``logging: [profile]``). Both get the same monitor (EMD on the numeric features and the
output, L-inf on the categorical one, previous-3-windows reference, all defaults), run
side by side in this process. Reported:

- storage: the bytes the model's data takes on disk (events vs profiles + window_parts);
- monitor time: the median of ``--repeats`` backfills of all windows, each mode;
- agreement: the largest difference of a drift statistic between the two modes, and the
  windows flagged with a drift finding (before the onset: false alarms; after: found);

    .venv/bin/python benchmarks/profile_monitor.py --windows 120 --n 5000 --onset 100
"""

from __future__ import annotations

import argparse
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

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=10)


def generator(onset: int) -> Any:
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        drift = i >= onset
        x = rng.normal(0.3 if drift else 0.0, 1, n)
        x[rng.uniform(size=n) < 0.02] = np.nan
        plan = rng.choice(np.array(["a", "b", "c", "d"], dtype=object), n,
                          p=[0.4, 0.3, 0.2, 0.1])
        return {"x": x, "y": rng.lognormal(size=n), "plan": plan,
                "output:score": rng.beta(2, 5, n)}
    return gen


def config(model: str, logging: str) -> Config:
    return Config.model_validate({
        "models": [{"id": model, "window": "10m", "logging": [logging]}],
        "monitors": [{"name": model, "model": model, "features": ["x", "y", "plan"],
                      "outputs": ["score"], "reference": {"kind": "previous", "windows": 3}}],
        "alerts": {"console": False}})


def disk_bytes(store: Store, tables: list[str]) -> int:
    (n,), = store.query(
        "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = "
        "{d:String} AND table IN {t:Array(String)}", {"d": store.database, "t": tables})
    return int(n or 0)


def profiles_only(args: argparse.Namespace) -> None:
    """Windows with a drift finding of the profile model alone (windows too big to write
    as raw events in reasonable time here)."""
    store = Store(f"chdb://{tempfile.mkdtemp()}", database="bench_p")
    store.migrate()
    write_windows(store, "p", T0, W, args.windows, args.n, generator(args.onset), seed=9,
                  profiled=True)
    t = time.perf_counter()
    verdicts = Monitor(store, config("p", "profile")).run_once()
    took = time.perf_counter() - t
    drift = [any(f.kind == "drift" for f in v.findings) for v in verdicts]
    print(f"{args.windows} windows × {args.n:,} events, profiles only, onset {args.onset}: "
          f"windows with a drift finding before the onset {sum(drift[:args.onset])}, "
          f"after {sum(drift[args.onset:])}; monitor {took:.0f} s")
    D = S.DRIFT_RESULTS
    for r in store.query(f"SELECT {D.feature}, min({D.threshold}), "
                         f"max(JSONExtractFloat({D.details}, 'sketch_allowance')) FROM {D} "
                         f"WHERE {D.metric} IN ('emd', 'linf') GROUP BY {D.feature} "
                         f"ORDER BY {D.feature}"):
        print(f"  {r[0]}: threshold ≥ {r[1]:.4f}, of which sketch allowance {r[2]:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=120)
    ap.add_argument("--n", type=int, default=5000, help="events per window")
    ap.add_argument("--onset", type=int, default=100, help="first drifted window")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profiles-only", action="store_true",
                    help="no raw baseline: false findings of the profile model alone")
    args = ap.parse_args()
    if args.profiles_only:
        profiles_only(args)
        return
    gen = generator(args.onset)
    root = tempfile.mkdtemp()
    stores = {m: Store(f"chdb://{root}", database=f"bench_{m}") for m in ("r", "p")}
    for s in stores.values():
        s.migrate()
    t = time.perf_counter()
    write_windows(stores["r"], "r", T0, W, args.windows, args.n, gen, seed=9)
    write_windows(stores["p"], "p", T0, W, args.windows, args.n, gen, seed=9, profiled=True)
    print(f"written in {time.perf_counter() - t:.0f} s")
    for s in stores.values():
        s.command(f"OPTIMIZE TABLE {S.EVENTS} FINAL")
        s.command(f"OPTIMIZE TABLE {S.PROFILES} FINAL")
    raw_bytes = disk_bytes(stores["r"], [str(S.EVENTS)])
    prof_bytes = disk_bytes(stores["p"], [str(S.PROFILES), str(S.WINDOW_PARTS)])

    end = T0 + args.windows * W
    seconds: dict[str, list[float]] = {"r": [], "p": []}
    for _ in range(args.repeats):
        for m, logging in (("r", "raw"), ("p", "profile")):
            mon = Monitor(stores[m], config(m, logging))
            t = time.perf_counter()
            verdicts = mon.backfill(T0, end)
            seconds[m].append(time.perf_counter() - t)
            assert len(verdicts) == args.windows
    D = S.DRIFT_RESULTS
    stats: dict[str, dict[tuple[Any, ...], float]] = {}
    flagged: dict[str, set[int]] = {}
    for m, s in stores.items():
        rows = s.query(f"SELECT {D.window_start}, {D.feature}, {D.metric}, {D.statistic}, "
                       f"{D.drifted}, {D.details} FROM {D} "
                       f"WHERE {D.metric} IN ('emd', 'linf')")
        stats[m] = {(r[0], r[1], r[2]): r[3] for r in rows}
        flagged[m] = {int((r[0].replace(tzinfo=UTC) - T0) / W) for r in rows
                      if r[4] and '"model_level": true' in r[5]}
    assert set(stats["r"]) == set(stats["p"])
    diff: dict[str, list[float]] = {}
    for k, v in stats["r"].items():
        diff.setdefault(f"{k[1]} {k[2]}", []).append(abs(v - stats["p"][k]))

    tr, tp = statistics.median(seconds["r"]), statistics.median(seconds["p"])
    print(f"\n{args.windows} windows × {args.n:,} events, drift of x (+0.3 sd) from window "
          f"{args.onset}; median of {args.repeats} backfills\n")
    print("| | raw events (baseline) | profiles | ratio |")
    print("|---|---|---|---|")
    print(f"| data on disk | {raw_bytes / 1e6:.1f} MB | {prof_bytes / 1e6:.2f} MB | "
          f"{prof_bytes / raw_bytes:.3f}× |")
    print(f"| monitor backfill, all windows | {tr:.1f} s | {tp:.1f} s | {tp / tr:.2f}× |")
    pre = set(range(args.onset))
    print(f"| windows with a drift finding before the onset (of {args.onset}) | "
          f"{len(flagged['r'] & pre)} | {len(flagged['p'] & pre)} | |")
    post = set(range(args.onset, args.windows))
    print(f"| drifted windows with a finding (of {len(post)}) | {len(flagged['r'] & post)} | "
          f"{len(flagged['p'] & post)} | |")
    print("\n| statistic | median value (raw) | max \\|raw − profile\\| | median \\|raw − "
          "profile\\| |")
    print("|---|---|---|---|")
    for name, d in sorted(diff.items()):
        med = statistics.median([v for k, v in stats["r"].items() if f"{k[1]} {k[2]}" == name])
        print(f"| {name} | {med:.4f} | {max(d):.4f} | {statistics.median(d):.5f} |")


if __name__ == "__main__":
    main()
