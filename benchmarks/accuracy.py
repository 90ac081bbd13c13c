"""Detection quality of the default monitor rule and of each detector, on the scenarios.

Reports per scenario × detector: power at each window size, detection delay in windows,
false alarms per 1,000 windows on no-drift and periodic (seasonal reference) streams, and
whether a one-window temporary spike alerted. Paste the output under "Detection quality"
in BENCHMARKS.md together with the command.

    .venv/bin/python benchmarks/accuracy.py --suite bar --detectors default
    .venv/bin/python benchmarks/accuracy.py --suite full --detectors default,ks,psi --trials 3
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from driftscope.errors import ConfigError, DriftscopeError
from driftscope.monitor.config import PersistenceSpec
from driftscope.simulators.evaluate import PHASES, EvalConfig, detector_names, run_suite
from driftscope.simulators.report import SUITES, suite, temporary_summary, to_markdown


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=SUITES, default="bar")
    ap.add_argument("--detectors", default="default", help="comma-separated")
    ap.add_argument("--sizes", default="100,500,1000,5000")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--source", default="synthetic")
    ap.add_argument("--span", type=int, default=4, help="gradual ramp, in windows")
    ap.add_argument("--null-windows", type=int, default=2000)
    ap.add_argument("--periodic-windows", type=int, default=1200)
    ap.add_argument("--no-silent", action="store_true", help="skip false-alarm streams")
    ap.add_argument("--no-periodic", action="store_true", help="skip periodic streams")
    ap.add_argument("--alpha", type=float, default=0.01)
    ap.add_argument("--correction", choices=("bh", "none"), default="bh")
    ap.add_argument(
        "--persistence", type=float, default=PersistenceSpec().alpha,
        help="alpha of the same-direction check of the window before a flagged one "
             "without a clear direction (0: the check off: the plain 2-window rule)",
    )
    ap.add_argument(
        "--directed-alpha", type=float, default=PersistenceSpec().directed_alpha,
        help="the same for a flagged window with a clear direction (at least --persistence)",
    )
    ap.add_argument("--jump-ratio", type=float, default=PersistenceSpec().jump_ratio)
    ap.add_argument(
        "--stop-alpha", type=float, default=PersistenceSpec().stop_alpha,
        help="level of the check that a flagged window's drift stopped before the window "
             "ended (0: not checked)")
    ap.add_argument("--labels", action="store_true", help="also watch the labels")
    ap.add_argument(
        "--seasonal-width", type=int, default=EvalConfig.seasonal_width,
        help="windows, centred (default: the monitor's seasonal default)",
    )
    ap.add_argument("--period", choices=("1d", "1w"), default="1d",
                    help="cycle of the periodic streams (the seasonal reference follows it)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--phase", choices=PHASES, default="start",
                    help="where in its window each onset or burst falls: on the window grid, "
                         "or uniform within it (as in production)")
    ap.add_argument("--out", help="also write the report here")
    args = ap.parse_args(argv)
    try:  # every option checked before any work; a bad one is one line, exit code 2
        names = detector_names(args.detectors)
        cfg = _config(args)
    except DriftscopeError as exc:
        print(f"{ap.prog}: error: {exc}", file=sys.stderr)
        return 2
    drift, silent = suite(args.suite)
    if args.no_silent:
        silent = []
    if args.no_periodic:
        silent = [s for s in silent if not s[0].startswith("periodic")]
    t0 = time.perf_counter()
    results = run_suite(
        cfg,
        names,
        drift,
        silent,
        lambda m: print(f"[{time.perf_counter() - t0:6.0f}s] {m}", file=sys.stderr),
    )
    text = (
        f"`{' '.join(['python', 'benchmarks/accuracy.py', *(argv or sys.argv[1:])])}` "
        f"(source {cfg.source}, reference {cfg.n_reference} rows, {cfg.trials} trials, "
        f"gradual span {cfg.gradual_span_windows} windows, onsets at the window's "
        f"{'start' if cfg.phase == 'start' else 'random point'}, alpha {cfg.alpha} "
        f"({cfg.correction}), labels watched: {cfg.watch_labels}, "
        f"{cfg.consecutive} consecutive windows, persistence "
        f"{cfg.persistence.model_dump() if cfg.persistence else 'off'}; "
        f"{time.perf_counter() - t0:.0f} s)\n\n"
        + to_markdown(results, cfg)
        + "\n"
        + temporary_summary(results)
    )
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    return 0


def _config(args: argparse.Namespace) -> EvalConfig:
    """The harness configuration of the options (ConfigError where one is out of range)."""
    try:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    except ValueError:
        raise ConfigError(f"--sizes: expected numbers like 100,1000, got {args.sizes!r}") from None
    return EvalConfig(
        sizes=sizes,
        trials=args.trials,
        source=args.source,
        gradual_span_windows=args.span,
        null_windows=args.null_windows,
        periodic_windows=args.periodic_windows,
        alpha=args.alpha,
        correction=args.correction,
        persistence=PersistenceSpec(alpha=args.persistence, directed_alpha=args.directed_alpha,
                                    jump_ratio=args.jump_ratio,
                                    stop_alpha=args.stop_alpha or None)
        if args.persistence else None,
        watch_labels=args.labels,
        seasonal_width=args.seasonal_width,
        period=timedelta(days=7 if args.period == "1w" else 1),
        seed=args.seed,
        phase=args.phase,
    )


if __name__ == "__main__":
    raise SystemExit(main())
