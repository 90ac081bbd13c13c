"""Alerts on no-drift streams of heavy-tailed features, end to end: the default monitor
(EMD, the sliding ``previous`` reference of 12 windows, persistence check) and the alert
engine's default rule (2 bad windows in a row), on a chDB store, as ``serve`` runs them.

``benchmarks/heavy_tails.py`` counts the windows a model of ten heavy-tailed features
flags; a user sees alerts. Here each stream is ``--windows`` windows of ``--events``
events of ten features of one law and nothing changes; the figures are the windows
flagged (model level) and the alerts opened, per 1,000 windows.

    .venv/bin/python benchmarks/heavy_tail_alerts.py --windows 1000 --events 200,500
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from scipy import stats

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(minutes=10)
K = 10
LAWS = {
    "normal": lambda z: z,
    "lognormal σ=2": lambda z: np.exp(2.0 * z),
    "Pareto a=2.2": lambda z: stats.norm.sf(z) ** (-1.0 / 2.2) - 1.0,
}


def stream(law: str, events: int, windows: int, seed: int
           ) -> tuple[int, int, int, int, float]:
    """Windows judged, windows bad on drift, bad on quality, alerts opened, seconds."""
    from driftscope.alerts.engine import AlertEngine
    from driftscope.config import Config
    from driftscope.monitor.scheduler import Monitor
    from driftscope.monitor.seed import write_windows
    from driftscope.store import schema as S
    from driftscope.store.clickhouse import Store

    f = LAWS[law]
    names = [f"f{k}" for k in range(K)]

    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {name: f(rng.standard_normal(n)) for name in names}

    path = tempfile.mkdtemp()

    atexit.register(shutil.rmtree, path, True)  # (a store of millions of events: GBs)

    store = Store(f"chdb://{path}", database="tails")
    store.migrate()
    write_windows(store, "m", T0, W, windows, events, gen, seed=seed)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": names}],
        "alerts": {"console": False}})
    t = time.perf_counter()
    verdicts = Monitor(store, cfg, alerts=AlertEngine(store, cfg.alerts)).run_once()
    took = time.perf_counter() - t
    A = S.ALERTS
    opened = store.query(f"SELECT uniqExact({A.alert_id}) FROM {A}")[0][0]
    drift, quality = (sum(1 for v in verdicts if any(f.kind == k for f in v.findings))
                      for k in ("drift", "quality"))
    return len(verdicts), drift, quality, int(opened), took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=1000)
    ap.add_argument("--events", default="200,500")
    ap.add_argument("--laws", default=",".join(LAWS))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print("| ten features of | events a window | windows judged | bad on drift / 1,000 "
          "| bad on quality / 1,000 | alerts opened / 1,000 | s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for law in args.laws.split(","):
        for events in (int(e) for e in args.events.split(",")):
            n, drift, quality, opened, took = stream(law, events, args.windows, args.seed)
            print(f"| {law} | {events} | {n} | {1000 * drift / n:.1f} | "
                  f"{1000 * quality / n:.1f} | {1000 * opened / n:.1f} | {took:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
