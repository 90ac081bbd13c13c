"""A live monitor pass of a model whose labels come in as feedback, against a long history
of labels: now against a baseline commit, each in its own process on the same data (its
own chDB path), alternated.

The model: ``--rate`` events a minute with five numeric features and a class prediction,
1-minute windows, each event's label sent as feedback ``--delay`` minutes later;
``--stored`` events (and their labels) already stored before the clock starts (10 million
at 5,000 a minute: 33 hours). One monitor on the defaults with a classification
performance check: drift on the features (reference: the 12 windows before) and accuracy
per window, computed ``--delay`` windows after it closes (``label_delay``). The last
``--judged`` windows are closed: a first pass judges all but the last ``--live``; then,
``--live`` times, the labels due by then arrive, a window closes and a pass runs
(``serve``: a window a pass). Printed: the first pass's seconds per window and the live
pass's median seconds. Run the baseline from a checkout of it
(``git worktree add /tmp/base COMMIT``)::

    .venv/bin/python benchmarks/labels_pass.py --baseline-tree /tmp/base
"""

from __future__ import annotations

import argparse
import atexit
import json
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import paired  # (benchmarks/: this checkout against a baseline's)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(minutes=1)


def child(args: argparse.Namespace) -> None:
    from driftscope.config import Config
    from driftscope.monitor.scheduler import Monitor
    from driftscope.store import schema as S
    from driftscope.store.clickhouse import Store

    path = tempfile.mkdtemp()

    atexit.register(shutil.rmtree, path, True)  # (a store of millions of events: GBs)

    store = Store(f"chdb://{path}", database="labels")
    store.migrate()
    step_ms = 60_000 // args.rate
    minutes = args.stored // args.rate
    features = ", ".join(f"'x{k}', {_normal(k)}" for k in range(5))
    store.command(
        f"INSERT INTO {S.EVENTS} (model_id, model_version, event_id, timestamp, "
        "features_num, pred_cat, late, ingested_at, kafka_partition, kafka_offset) "
        "SELECT 'm', '1', toString(cityHash64(number)), "
        "{t0:DateTime64(3, 'UTC')} + toIntervalMillisecond(number * {step:UInt64}), "
        f"map({features}), "
        "map('pred', toString(cityHash64(number, 9) % 2)), 0, "
        "{t0:DateTime64(3, 'UTC')} + toIntervalMillisecond(number * {step:UInt64}), 0, number "
        "FROM numbers({n:UInt64})", {"t0": T0, "step": step_ms, "n": args.stored})
    delay = timedelta(minutes=args.delay)

    def labels_due(since: datetime, until: datetime) -> None:
        """The feedback given in [since, until): labels of the events ``delay`` before."""
        store.command(
            f"INSERT INTO {S.FEEDBACK} SELECT model_id, event_id, "
            "toString(cityHash64(event_id, 10) % 2), "
            "timestamp + toIntervalMinute({d:UInt32}), timestamp + toIntervalMinute({d:UInt32}),"
            f" 0, kafka_offset FROM {S.EVENTS} WHERE timestamp >= {{a:DateTime64(3, 'UTC')}} "
            "AND timestamp < {b:DateTime64(3, 'UTC')}",
            {"d": args.delay, "a": since - delay, "b": until - delay})

    def close(i: int) -> None:  # the collector closes window i
        start = T0 + i * W
        store.insert(S.WINDOWS, [("m", start, start + W, 60, args.rate, 0, start + W)],
                     S.WINDOWS.columns)
        store.insert(S.WINDOW_PARTS, [("m", start, 60, 0, i * args.rate,
                                       (i + 1) * args.rate - 1, args.rate, 0, start + W,
                                       start + W)], S.WINDOW_PARTS.columns)

    first = minutes - args.judged
    now = T0 + (first + args.judged - args.live) * W
    labels_due(T0, now)
    for i in range(first, minutes - args.live):
        close(i)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "1m"}],
        "monitors": [{"name": "mon", "model": "m", "features": [f"x{i}" for i in range(5)],
                      "performance": {"task": "classification", "prediction": "pred",
                                      "label_delay": f"{args.delay}m"}}],
        "alerts": {"console": False}})
    monitor = Monitor(store, cfg)
    t = time.perf_counter()
    verdicts = monitor.run_once()
    took = time.perf_counter() - t
    live = []
    for i in range(minutes - args.live, minutes):
        labels_due(now, now + W)
        now += W
        close(i)
        t = time.perf_counter()
        judged = monitor.run_once()
        live.append(time.perf_counter() - t)
        assert len(judged) == 1
    P = S.DRIFT_RESULTS
    rows = store.query(f"SELECT count(), round(avg({P.statistic}), 4) FROM {P} FINAL "
                       f"WHERE {P.metric} = 'accuracy'")
    labels = store.query(f"SELECT count() FROM {S.FEEDBACK}")[0][0]
    print(json.dumps({"seconds": took, "windows": len(verdicts), "accuracy_rows": rows[0][0],
                      "accuracy": rows[0][1], "labels": labels,
                      "live": sorted(live)[len(live) // 2]}))


def _normal(k: int) -> str:
    """A standard normal value drawn from the event's number (Box–Muller on two hashes):
    the same data in every process."""
    u = [f"((cityHash64(number, {2 * k + j}) % 1000000000) + 0.5) / 1e9" for j in (0, 1)]
    return f"sqrt(-2 * log({u[0]})) * cos(2 * pi() * {u[1]})"


def run(tree: str | None, args: argparse.Namespace) -> dict[str, Any]:
    return paired.child(__file__, tree, [
        "--rate", str(args.rate), "--stored", str(args.stored), "--delay", str(args.delay),
        "--judged", str(args.judged), "--live", str(args.live)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--baseline-tree", help="a checkout of the baseline commit")
    ap.add_argument("--rate", type=int, default=5000, help="events a minute")
    ap.add_argument("--stored", type=int, default=10_000_000)
    ap.add_argument("--delay", type=int, default=10, help="minutes to a label")
    ap.add_argument("--judged", type=int, default=20)
    ap.add_argument("--live", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    print(f"{args.stored:,} events and their labels stored, {args.rate:,} a minute, labels "
          f"{args.delay} min after; {args.judged} windows judged, the last {args.live} live")
    print("| code | first pass: s per window | live: s per pass (median) | accuracy rows "
          "| mean accuracy | labels stored |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, tree in paired.alternated(args.baseline_tree, args.repeats):
        got = run(tree, args)
        print(f"| {name} | {got['seconds'] / max(got['windows'], 1):.3f} | "
              f"{got['live']:.3f} | {got['accuracy_rows']} | {got['accuracy']} | "
              f"{got['labels']:,} |", flush=True)


if __name__ == "__main__":
    main()
