"""Persistence settings side by side: slow drifts caught in time against spikes paged.

The alert rule's two wishes pull apart: a slow drift should page within three windows
(its window before counted as ``carried``), a one-window spike never (a chance
``carried`` neighbour makes it page). This scores every trial once with the detectors,
keeps each flagged window's persistence evidence
(:class:`driftscope.monitor.persistence.Evidence`) and replays the alert engine under
each setting of ``directed_alpha`` × ``jump_ratio`` (:meth:`Flags.replay` decides exactly
as the harness run with that setting does). Per setting, over every seed:

- ramps missed: medium (and high) covariate ramps over ``--span`` windows (4 by default)
  not alerted within 3 windows;
- spikes paged: one-window covariate spikes whose alert opened at the burst or the
  window after (medium, high);
- no-drift alarms: alerts opened on no-drift streams, and their windows.

    .venv/bin/python benchmarks/persistence_frontier.py --seeds 7,11,13,17 --trials 400
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from driftscope.monitor.config import PersistenceSpec
from driftscope.simulators.evaluate import (
    EvalConfig,
    Flags,
    Harness,
    delay_after,
    opened_by_burst,
)

DRIFT = (("gradual-covariate", "medium"), ("gradual-covariate", "high"),
         ("temporary-covariate", "medium"), ("temporary-covariate", "high"))


def record(seed: int, trials: int, n: int, null_windows: int,
           span: int = EvalConfig().gradual_span_windows,
           before: int = EvalConfig().windows_before) -> dict[str, list[Flags]]:
    """Every trial's decisions under the default setting, with their evidence."""
    h = Harness(EvalConfig(sizes=(n,), trials=trials, seed=seed, null_windows=null_windows,
                           gradual_span_windows=span, windows_before=before))
    out = {f"{name} {level}": [h.trial(name, level, n, t)[0] for t in range(trials)]
           for name, level in DRIFT}
    out["no-drift"] = h.silent_streams("no-drift", "none", n)
    return out


def outcomes(found: list[Flags], spec: PersistenceSpec, before: int) -> tuple[int, int, int]:
    """(trials measured, missed within 3 windows, paged by a one-window burst)."""
    measured = missed = paged = 0
    for f in found:
        opens, open_ = f.replay(spec).alerts()
        delay = delay_after(opens, open_, before)
        if delay is None:
            continue
        measured += 1
        missed += delay > 3
        paged += opened_by_burst(opens[before:], 1)
    return measured, missed, paged


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="7,11,13,17")
    ap.add_argument("--trials", type=int, default=400)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--null-windows", type=int, default=8000)
    ap.add_argument("--alphas", default="0.002,0.01,0.02,0.05")
    ap.add_argument("--jumps", default="0.15,0.25,0.3")
    ap.add_argument("--span", type=int, default=EvalConfig().gradual_span_windows,
                    help="windows over which a gradual ramp reaches its full drift")
    ap.add_argument("--before", type=int, default=EvalConfig().windows_before,
                    help="clean windows before each trial's onset")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    seeds = [int(s) for s in args.seeds.split(",")]
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(record, seeds, [args.trials] * len(seeds),
                             [args.n] * len(seeds), [args.null_windows] * len(seeds),
                             [args.span] * len(seeds), [args.before] * len(seeds)))
    before = args.before
    default = PersistenceSpec()
    print(f"`python benchmarks/persistence_frontier.py {' '.join(argv or sys.argv[1:])}` "
          f"(seeds {args.seeds}, {args.trials} trials each, n = {args.n}, ramps over "
          f"{args.span} windows, {args.before} windows before the onset; other settings "
          f"as the default {default.model_dump()}; {time.perf_counter() - t0:.0f} s)\n")
    print("| directed_alpha | jump_ratio | medium ramps missed | high ramps missed "
          "| medium spikes paged | high spikes paged | no-drift alarms |")
    print("|---|---|---|---|---|---|---|")
    for a in (float(x) for x in args.alphas.split(",")):
        for j in (float(x) for x in args.jumps.split(",")):
            spec = default.model_copy(update={"directed_alpha": a, "jump_ratio": j})
            cells = []
            for key, col in (("gradual-covariate medium", 1), ("gradual-covariate high", 1),
                             ("temporary-covariate medium", 2),
                             ("temporary-covariate high", 2)):
                per = [outcomes(r[key], spec, before) for r in runs]
                cells.append(f"{sum(p[col] for p in per)}/{sum(p[0] for p in per)}")
            alarms = sum(int(f.replay(spec).alerts()[0].sum()) for r in runs
                         for f in r["no-drift"])
            windows = sum(len(f.flags) for r in runs for f in r["no-drift"])
            mark = " (default)" if spec == default else ""
            print(f"| {a:g}{mark} | {j:g} | " + " | ".join(cells)
                  + f" | {alarms}/{windows} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
